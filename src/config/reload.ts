// One way to reload, whatever the trigger (file change, SIGHUP, admin call), so every outcome
// is logged the same way: failures keep the running config and say exactly what is wrong.

import { formatIssues } from './load.js';
import type { ConfigStore, ReloadResult, ReloadTrigger } from './store.js';

/** The part of a pino / Fastify logger that reload reporting uses. */
export interface ReloadLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export async function reloadConfig(store: ConfigStore, log: ReloadLog, trigger: ReloadTrigger): Promise<ReloadResult> {
  const result = await store.reload(trigger);
  if (!result.ok) {
    log.error({ trigger, issues: result.issues }, `config reload failed, keeping the running config:\n${formatIssues(result.issues)}`);
    return result;
  }
  const applied = result.changed.filter((key) => !result.restartRequired.includes(key));
  if (applied.length > 0) log.info({ trigger, changed: applied, version: result.version }, 'config reloaded');
  else if (trigger !== 'file') log.info({ trigger, version: result.version }, 'config reloaded: no changes');
  if (result.restartRequired.length > 0) {
    log.warn({ keys: result.restartRequired }, `${result.restartRequired.join(', ')} changed: restart required, not applied`);
  }
  for (const edit of result.shadowedEdits ?? []) {
    log.warn(
      { key: edit.key, env: edit.env },
      `${edit.key} changed in the config file, but the environment variable ${edit.env} overrides it: the change is not applied (unset ${edit.env} to manage it in the file)`,
    );
  }
  return result;
}
