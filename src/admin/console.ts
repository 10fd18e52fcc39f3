// The admin web console: static files from admin-ui/ (no build step, no CDN), served at /admin/.
// Charts use the vendored uPlot in admin-ui/vendor/.
// The page itself is public and holds nothing secret; every API call it makes carries the admin
// token the operator typed (kept in sessionStorage, sent as Bearer; no cookies, so no CSRF hole).

import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';

const ROOT = findAdminUi(path.dirname(fileURLToPath(import.meta.url)));
// vendor/: uPlot (MIT, https://github.com/leeoniya/uPlot), kept here as released (no CDN).
const FILES: Record<string, string> = {
  'index.html': 'text/html; charset=utf-8',
  'app.js': 'text/javascript; charset=utf-8',
  'style.css': 'text/css; charset=utf-8',
  'vendor/uPlot.iife.min.js': 'text/javascript; charset=utf-8',
  'vendor/uPlot.min.css': 'text/css; charset=utf-8',
};
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/**
 * admin-ui/ next to the nearest ancestor of this module's directory: src/admin/ (tests), dist/admin/
 * (tsc output), dist/ or dist/chunks/ (the bundle) all find the checkout's or the image's copy.
 */
function findAdminUi(from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'admin-ui');
    if (existsSync(path.join(candidate, 'index.html'))) return candidate;
    if (path.dirname(dir) === dir) return path.resolve(from, '..', '..', 'admin-ui'); // not found: the old place, reported on start
  }
}

export function registerConsole(app: FastifyInstance): void {
  // Read once at start: a handful of small files. A build without them still runs, without a console.
  let cache: Map<string, Buffer>;
  try {
    cache = new Map(Object.keys(FILES).map((name) => [name, readFileSync(path.join(ROOT, name))]));
  } catch (error) {
    app.log.warn({ err: (error as Error).message }, 'admin console files not found: /admin/ is disabled');
    return;
  }
  const send = (name: string) => async (_request: unknown, reply: import('fastify').FastifyReply) =>
    reply.header('content-type', FILES[name]!).header('content-security-policy', CSP).header('x-content-type-options', 'nosniff').header('cache-control', 'no-cache').send(cache.get(name));
  app.get('/admin', { config: { access: 'public' } }, async (_request, reply) => reply.redirect('/admin/'));
  app.get('/admin/', { config: { access: 'public' } }, send('index.html'));
  app.get('/admin/ui/app.js', { config: { access: 'public' } }, send('app.js'));
  app.get('/admin/ui/style.css', { config: { access: 'public' } }, send('style.css'));
  app.get('/admin/ui/vendor/uPlot.iife.min.js', { config: { access: 'public' } }, send('vendor/uPlot.iife.min.js'));
  app.get('/admin/ui/vendor/uPlot.min.css', { config: { access: 'public' } }, send('vendor/uPlot.min.css'));
}
