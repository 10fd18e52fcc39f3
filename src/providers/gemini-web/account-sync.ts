// What other replicas learned about an account, applied here before a request plans (a no-op
// without Redis): a newer cookie another replica rotated or was given replaces ours, file
// included; a cool-down another replica saw (usage limit, block) applies here too.

import type { ProviderLog } from '../../core/provider.js';
import type { AccountCoordinator } from '../../state/account-coordinator.js';
import { PSID, PSIDTS, type CookieSet } from './cookie-file.js';

/** What replica sync needs of its account. */
export interface SyncedAccount {
  readonly name: string;
  cookieSet(): CookieSet | undefined;
  usable(): boolean;
  /** Take cookies another replica published: use them, drop the session, save the file. */
  adopt(set: CookieSet): Promise<void>;
  rest(state: 'cooling' | 'blocked', until: number): void;
}

export async function syncFromReplicas(account: SyncedAccount, shared: AccountCoordinator, log: ProviderLog): Promise<void> {
  await adoptCookies(account, shared, log);
  await adoptRest(account, shared, log);
}

async function adoptCookies(account: SyncedAccount, shared: AccountCoordinator, log: ProviderLog): Promise<void> {
  const current = account.cookieSet();
  const latest = await shared.latest(account.name);
  if (!latest || account.cookieSet() !== current) return;
  if (current && latest.cookies[PSIDTS] === current.cookies[PSIDTS] && latest.cookies[PSID] === current.cookies[PSID]) return;
  if (current && (latest.updatedAt ?? '') <= (current.updatedAt ?? '')) return;
  await account.adopt(latest);
  log.info({ account: account.name }, 'gemini cookie picked up from another replica');
}

async function adoptRest(account: SyncedAccount, shared: AccountCoordinator, log: ProviderLog): Promise<void> {
  if (!account.usable()) return;
  const rest = await shared.resting(account.name);
  if (!rest || rest.until <= Date.now() || !account.usable()) return;
  account.rest(rest.state, rest.until);
  log.info({ account: account.name, state: rest.state, until: new Date(rest.until).toISOString() }, 'gemini account resting (seen by another replica)');
}
