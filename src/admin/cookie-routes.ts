// Cookie management for providers whose accounts sign in with browser cookies (Gemini web): paste
// new cookies (any common format; validated by opening a session before they replace the old
// ones), see each account's state and rotation, check without saving, test, rotate now.

import type { FastifyInstance } from 'fastify';
import { GatewayError } from '../core/gateway-error.js';
import { capability, type CookieAccounts, type ProviderRegistry } from '../core/provider.js';

function accounts(providers: ProviderRegistry): CookieAccounts {
  const found = capability(providers, 'cookieAccounts');
  if (!found) throw new GatewayError('not_found', 'Gemini is not enabled (gemini.enabled)', { code: 'gemini_disabled' });
  return found;
}

function requireBody(body: unknown): void {
  if (body === undefined || body === null || body === '') throw new GatewayError('invalid_request', 'Send the cookies in the body', { code: 'invalid_cookies' });
}

export function registerCookieRoutes(app: FastifyInstance, providers: ProviderRegistry): void {
  // Pasted cookie text (Cookie header, cookies.txt) arrives as text/plain.
  app.addContentTypeParser('text/plain', { parseAs: 'string' }, (_request, body, done) => done(null, body));

  // `?verify=false` saves without asking Google: offline set-ups, and the design's call (save, reload).
  app.post<{ Querystring: { account?: string; verify?: string } }>('/admin/cookies', async (request) => {
    const target = accounts(providers);
    const name = target.resolve(request.query.account);
    requireBody(request.body);
    const verify = !['false', '0', 'no'].includes(String(request.query.verify ?? '').toLowerCase());
    const status = await target.replace(name, request.body, { verify });
    request.log.info({ account: name, verified: verify }, verify ? 'gemini cookies replaced' : 'gemini cookies saved without verification');
    return { status: 'success', message: verify ? 'Cookies updated and verified' : 'Cookies saved (not verified)', account: status };
  });

  // The default account's fields also at the top level, as the design's response has them.
  app.get('/admin/cookies/status', async () => {
    const all = accounts(providers).status();
    return { ...all[0], accounts: all };
  });

  // Check pasted cookies without saving them (the console shows the result before "Save").
  app.post<{ Querystring: { account?: string } }>('/admin/cookies/check', async (request) => {
    const target = accounts(providers);
    const name = target.resolve(request.query.account);
    requireBody(request.body);
    const { account, ...result } = await target.check(name, request.body);
    return { status: 'valid', account, ...result };
  });

  // A one-line prompt through one account.
  app.post<{ Querystring: { account?: string; model?: string } }>('/admin/cookies/test', async (request) => {
    const target = accounts(providers);
    const name = target.resolve(request.query.account);
    const model = request.query.model ?? request.ctx.snapshot.config.gemini.models[0] ?? 'gemini-3-flash';
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), 60_000);
    try {
      const started = Date.now();
      const { account, answer } = await target.test(name, model, controller.signal);
      return { status: 'ok', account, model, answer, ms: Date.now() - started };
    } finally {
      clearTimeout(timer);
    }
  });

  app.post<{ Querystring: { account?: string } }>('/admin/cookies/rotate', async (request) => accounts(providers).rotate(request.query.account));
}
