// The Gemini provider's cookie accounts as the admin routes and the console use them
// (core/provider.ts `CookieAccounts`): status, paste (verified before it replaces anything),
// check without saving, a one-line test prompt, rotate now.

import { GatewayError } from '../../core/gateway-error.js';
import type { CookieAccounts } from '../../core/provider.js';
import type { Account } from './account.js';
import { parseCookieInput } from './cookie-file.js';

export interface AccountDirectory {
  account(name?: string): Account | undefined;
  accountNames(): string[];
  status(): Array<Record<string, unknown>>;
  probe(account: string, model: string, signal: AbortSignal): Promise<string>;
}

export function cookieAccounts(directory: AccountDirectory): CookieAccounts {
  const find = (name: string | undefined): Account => {
    const found = directory.account(name);
    if (!found) throw new GatewayError('not_found', `No Gemini account named "${name}" (accounts: ${directory.accountNames().join(', ')})`, { code: 'unknown_account', param: 'account' });
    return found;
  };
  return {
    names: () => directory.accountNames(),
    resolve: (name) => find(name).name,
    status: () => directory.status(),
    async replace(name, input, options) {
      const account = find(name);
      if (options?.verify === false) {
        // Unverified: parsed (a 400 for an unknown format), saved, the old session dropped.
        const set = parseCookieInput(input);
        set.updatedAt = new Date().toISOString();
        await account.adopt(set);
      } else {
        await account.replaceCookies(input);
      }
      // The configured auto_refresh (the directory's status knows it; account.status(true) claimed it on).
      return directory.status().find((s) => s.name === account.name) ?? account.status(true);
    },
    async check(name, input) {
      const account = find(name);
      return { account: account.name, ...(await account.checkCookies(input)) };
    },
    async test(name, model, signal) {
      const account = find(name);
      return { account: account.name, answer: await directory.probe(account.name, model, signal) };
    },
    async rotate(name) {
      const account = find(name);
      return { account: account.name, rotation: await account.rotate() };
    },
  };
}
