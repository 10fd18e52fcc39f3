// Gemini cookie management: paste new cookies (any common format; validated by opening a session
// before they replace the old ones), see each account's state and rotation, rotate now.

import type { FastifyInstance } from 'fastify';
import { GatewayError } from '../core/gateway-error.js';
import { GeminiWebProvider } from '../providers/gemini-web/provider.js';
import type { ProviderRegistry } from '../core/provider.js';

function gemini(providers: ProviderRegistry): GeminiWebProvider {
  const provider = providers.get('gemini');
  if (!(provider instanceof GeminiWebProvider)) throw new GatewayError('not_found', 'Gemini is not enabled (gemini.enabled)', { code: 'gemini_disabled' });
  return provider;
}

function account(provider: GeminiWebProvider, name: string | undefined) {
  const found = provider.account(name);
  if (!found) throw new GatewayError('not_found', `No Gemini account named "${name}" (accounts: ${provider.accountNames().join(', ')})`, { code: 'unknown_account', param: 'account' });
  return found;
}

export function registerCookieRoutes(app: FastifyInstance, providers: ProviderRegistry): void {
  // Pasted cookie text (Cookie header, cookies.txt) arrives as text/plain.
  app.addContentTypeParser('text/plain', { parseAs: 'string' }, (_request, body, done) => done(null, body));

  app.post<{ Querystring: { account?: string } }>('/admin/cookies', async (request) => {
    const provider = gemini(providers);
    const target = account(provider, request.query.account);
    if (request.body === undefined || request.body === null || request.body === '') throw new GatewayError('invalid_request', 'Send the cookies in the body', { code: 'invalid_cookies' });
    await target.replaceCookies(request.body);
    request.log.info({ account: target.name }, 'gemini cookies replaced');
    return { status: 'success', message: 'Cookies updated and verified', account: target.status(true) };
  });

  app.get('/admin/cookies/status', async () => ({ accounts: gemini(providers).status() }));

  // Check pasted cookies without saving them (the console shows the result before "Save").
  app.post<{ Querystring: { account?: string } }>('/admin/cookies/check', async (request) => {
    const target = account(gemini(providers), request.query.account);
    if (request.body === undefined || request.body === null || request.body === '') throw new GatewayError('invalid_request', 'Send the cookies in the body', { code: 'invalid_cookies' });
    return { status: 'valid', account: target.name, ...(await target.checkCookies(request.body)) };
  });

  // A one-line prompt through one account.
  app.post<{ Querystring: { account?: string; model?: string } }>('/admin/cookies/test', async (request) => {
    const provider = gemini(providers);
    const target = account(provider, request.query.account);
    const model = request.query.model ?? request.ctx.snapshot.config.gemini.models[0] ?? 'gemini-3-flash';
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), 60_000);
    try {
      const started = Date.now();
      const answer = await provider.probe(target.name, model, controller.signal);
      return { status: 'ok', account: target.name, model, answer, ms: Date.now() - started };
    } finally {
      clearTimeout(timer);
    }
  });

  app.post<{ Querystring: { account?: string } }>('/admin/cookies/rotate', async (request) => {
    const target = account(gemini(providers), request.query.account);
    return { account: target.name, rotation: await target.rotate() };
  });
}
