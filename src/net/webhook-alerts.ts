// Account alerts as a JSON POST to `alerts.webhook_url` (a chat bot, ntfy, Home Assistant...): sent
// when an account turns expired, blocked or IP-blocked, or recovers. Fire and forget: a slow or
// failing receiver never holds a request; failures are logged with the URL's secrets masked.

import { request } from 'undici';
import type { AccountAlert, AlertSink } from '../core/provider.js';

export interface AlertLog {
  warn(fields: object, message: string): void;
}

export class WebhookAlerts implements AlertSink {
  constructor(
    /** The URL in force (read per alert, so a config reload applies at once); undefined = off. */
    private readonly url: () => string | undefined,
    private readonly log: AlertLog,
  ) {}

  accountState(alert: AccountAlert): void {
    const url = this.url();
    if (!url) return;
    const body = JSON.stringify({ event: 'account_state', text: `Gemini account "${alert.account}": ${alert.previous} -> ${alert.state} (${alert.reason})`, ...alert });
    void request(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body, headersTimeout: 5000, bodyTimeout: 5000 })
      .then((res) => res.body.dump())
      .catch((error: Error) => this.log.warn({ err: error.message, target: safeOrigin(url) }, 'alert webhook failed'));
  }
}

/** Where an alert went, for logs: the origin only (a webhook URL's path often is the secret). */
function safeOrigin(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return 'invalid URL';
  }
}
