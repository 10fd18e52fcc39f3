// The production bundle (scripts/bundle.mjs) as the Docker image runs it: dist/gateway.js and its
// chunks copied next to package.json and admin-ui/ in a directory with no node_modules anywhere
// above it, against a loopback fake upstream. Also: the Gemini web provider is a chunk of its own,
// loaded only by configs that enable Gemini (a module-load hook records every file node loads).
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeUpstream, textChunks } from '../fakes/openai-upstream.js';

const run = promisify(execFile);

interface Metafile {
  outputs: Record<string, { imports: Array<{ path: string; kind: string; external?: boolean }>; inputs: Record<string, unknown> }>;
}

let work: string;
let app: string;
let upstream: FakeUpstream;
let upstreamUrl: string;
let meta: Metafile;
const children: ChildProcess[] = [];

function chunkWith(input: string): string {
  const found = Object.entries(meta.outputs).find(([file, o]) => file.endsWith('.js') && input in o.inputs);
  if (!found) throw new Error(`no output holds ${input}`);
  return found[0];
}

/**
 * Output files loaded at start: `entry`, what it imports (main.ts imports process.js dynamically,
 * always, after enabling the compile cache) and their static imports; other import()s wait for use.
 */
function staticClosure(entry: string): Set<string> {
  const seen = new Set<string>();
  const stack = [entry, ...meta.outputs[entry]!.imports.filter((i) => !i.external).map((i) => i.path)];
  while (stack.length) {
    const file = stack.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    for (const i of meta.outputs[file]!.imports) if (!i.external && i.kind === 'import-statement') stack.push(i.path);
  }
  return seen;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Start dist/gateway.js from the node_modules-free copy; resolves once /health answers. */
async function startBundle(name: string, gemini: boolean, extra = ''): Promise<{ url: string; loaded: () => Promise<string[]> }> {
  const port = await freePort();
  const dir = path.join(work, name);
  await mkdir(dir);
  const config = path.join(dir, 'config.yaml');
  await writeFile(
    config,
    `server:\n  host: "127.0.0.1"\n  port: ${port}\ngemini:\n  enabled: ${gemini}\n  cookie_path: "${dir}/cookies.json"\ng4f:\n  enabled: true\n  base_url: "${upstreamUrl}"\n  models: ["mock-model"]\n  discover_models: false\nlogging:\n  level: warn\n${extra}`,
  );
  const log = path.join(dir, 'loaded.txt');
  const child = spawn(process.execPath, ['--import', pathToFileURL(path.join(work, 'register.mjs')).href, 'dist/gateway.js'], {
    cwd: app,
    env: { PATH: process.env.PATH ?? '', CONFIG_PATH: config, LOADED_LOG: log },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  children.push(child);
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const url = `http://127.0.0.1:${port}`;
  const started = Date.now();
  for (;;) {
    if (child.exitCode !== null) throw new Error(`gateway exited ${child.exitCode}: ${stderr}`);
    if (Date.now() - started > 20_000) throw new Error(`no /health in 20 s: ${stderr}`);
    if ((await fetch(`${url}/health`).then((r) => r.status, () => 0)) === 200) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  return { url, loaded: async () => (await readFile(log, 'utf8')).split('\n').filter(Boolean).map((u) => path.relative(app, new URL(u).pathname)) };
}

const chat = (url: string, stream: boolean) =>
  fetch(`${url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'mock-model', stream, messages: [{ role: 'user', content: 'ping' }] }) });

beforeAll(async () => {
  await run(process.execPath, ['scripts/bundle.mjs', '--if-stale'], { timeout: 120_000 });
  meta = JSON.parse(await readFile('dist/bundle-meta.json', 'utf8')) as Metafile;
  work = await mkdtemp(path.join(tmpdir(), 'gw-bundle-'));
  app = path.join(work, 'app');
  for (const item of ['dist/gateway.js', 'dist/gateway-cli.js', 'dist/chunks', 'dist/lazy', 'package.json', 'admin-ui']) await cp(item, path.join(app, item), { recursive: true });
  // Every file node loads, written by a module-load hook (off the main thread, so appendFileSync).
  await writeFile(
    path.join(work, 'hooks.mjs'),
    `import { appendFileSync } from 'node:fs';\nexport async function load(url, context, next) {\n  if (url.startsWith('file:')) appendFileSync(process.env.LOADED_LOG, url + '\\n');\n  return next(url, context);\n}\n`,
  );
  await writeFile(path.join(work, 'register.mjs'), `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(path.join(work, 'hooks.mjs')).href)});\n`);
  upstream = await new FakeUpstream().start();
  upstream.handler = () => ({ sse: textChunks('pong', 1) });
  upstreamUrl = `${upstream.url}/v1`;
}, 150_000);

afterAll(async () => {
  for (const child of children) child.kill('SIGKILL');
  await upstream?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

describe('the bundle', () => {
  it('keeps the Gemini web provider, ioredis, the tokenizer and prom-client out of what loads at start', () => {
    const atStart = staticClosure('dist/gateway.js');
    for (const input of ['src/providers/gemini-web/provider.ts', 'node_modules/ioredis/built/index.js', 'node_modules/gpt-tokenizer/', 'node_modules/prom-client/index.js']) {
      const file = Object.keys(meta.outputs).find((f) => Object.keys(meta.outputs[f]!.inputs).some((i) => i.startsWith(input.replace(/index\.js$/, ''))) && /\.c?js$/.test(f));
      expect(file, input).toBeDefined();
      expect(atStart.has(file!), `${input} is in ${file}, loaded at start`).toBe(false);
    }
    // The undici slim entry replaced undici's index (no fetch / WebSocket / mock agents at start).
    const startInputs = [...atStart].flatMap((f) => Object.keys(meta.outputs[f]!.inputs));
    expect(startInputs).toContain('scripts/undici-slim.cjs');
    expect(startInputs.some((i) => i.startsWith('node_modules/undici/lib/web/websocket/'))).toBe(false);
    expect(startInputs).not.toContain('node_modules/undici/index.js');
  });

  it('serves chat completions (plain and streamed), /health and the admin console with no node_modules', async () => {
    const gw = await startBundle('plain', false);
    const plain = await chat(gw.url, false);
    expect(plain.status).toBe(200);
    expect(((await plain.json()) as { choices: Array<{ message: { content: string } }> }).choices[0]!.message.content).toBe('pong');

    const streamed = await chat(gw.url, true);
    expect(streamed.status).toBe(200);
    expect(streamed.headers.get('content-type')).toContain('text/event-stream');
    const text = await streamed.text();
    expect(text).toContain('"content":"pong"');
    expect(text.trimEnd().endsWith('data: [DONE]')).toBe(true);

    const health = await fetch(`${gw.url}/health`);
    expect(health.status).toBe(200);
    const admin = await fetch(`${gw.url}/admin/`);
    expect(admin.status).toBe(200);
    expect(admin.headers.get('content-type')).toContain('text/html');
    expect(await admin.text()).toContain('<html');

    // Loaded from the copy only (nothing resolved to a node_modules), and never the Gemini chunk.
    const loaded = await gw.loaded();
    expect(loaded).toContain('dist/gateway.js');
    expect(loaded.filter((f) => f.includes('node_modules'))).toEqual([]);
    expect(loaded).not.toContain(chunkWith('src/providers/gemini-web/provider.ts'));
    expect(loaded).not.toContain(chunkWith('node_modules/prom-client/index.js'));
  }, 60_000);

  it('loads prom-client on the first /metrics scrape, for the process series', async () => {
    const gw = await startBundle('metrics', false, 'metrics:\n  public: true\n');
    expect((await chat(gw.url, false)).status).toBe(200);
    expect(await gw.loaded()).not.toContain(chunkWith('node_modules/prom-client/index.js'));
    const scrape = await fetch(`${gw.url}/metrics`);
    expect(scrape.status).toBe(200);
    const text = await scrape.text();
    expect(text).toMatch(/^gateway_requests_total\{route="\/v1\/chat\/completions",model="mock-model",provider="g4f",status="200"\} 1$/m);
    expect(text).toMatch(/^gateway_process_resident_memory_bytes \d+/m);
    expect(await gw.loaded()).toContain(chunkWith('node_modules/prom-client/index.js'));
  }, 60_000);

  it('loads the Gemini chunk when the config enables Gemini', async () => {
    const gw = await startBundle('gemini', true);
    expect(await gw.loaded()).toContain(chunkWith('src/providers/gemini-web/provider.ts'));
  }, 60_000);

  it('loads the lazy CommonJS and ES chunks it needs: ioredis (state.redis_url) and the tokenizer (count_tokens, in its worker)', async () => {
    // Nothing listens on that port: the gateway warns and serves; a broken ioredis import would
    // fail the start ("Redis is not a constructor": a chunk of a CommonJS module exports only default).
    const gw = await startBundle('redis', false, `state:\n  redis_url: "redis://127.0.0.1:${await freePort()}/0"\n`);
    const count = await fetch(`${gw.url}/v1/messages/count_tokens`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
      body: JSON.stringify({ model: 'mock-model', messages: [{ role: 'user', content: 'hello there, how are you today?' }] }),
    });
    expect(count.status).toBe(200);
    expect(((await count.json()) as { input_tokens: number }).input_tokens).toBeGreaterThan(5);
    const loaded = await gw.loaded();
    expect(loaded).toContain(chunkWith('node_modules/ioredis/built/index.js'));
    // The count ran in the BPE worker, which loaded dist/lazy/gpt-tokenizer-o200k.cjs (the copy has no
    // node_modules: a worker that could not find the tokenizer answers 500). Node 20's module hooks do
    // not see a worker's require(), so the status is the evidence.
  }, 60_000);

  it('has working lazy CommonJS bundles (ajv for tool arguments, Fastify schema compilers, inject)', async () => {
    const script = `
      const ajv = new (require('./dist/lazy/ajv-2020.cjs').default)({ strict: false });
      const validate = ajv.compile({ type: 'object', required: ['a'], properties: { a: { type: 'integer' } } });
      const buildValidator = require('./dist/lazy/fastify-ajv-compiler.cjs')();
      const buildSerializer = require('./dist/lazy/fastify-fast-json-stringify-compiler.cjs')();
      const serialize = buildSerializer({}, {})({ schema: { type: 'object', properties: { a: { type: 'integer' } } } });
      console.log(JSON.stringify([validate({ a: 1 }), validate({ a: 'x' }), typeof buildValidator({}, { customOptions: {} }), serialize({ a: 2, b: 3 }), typeof require('./dist/lazy/light-my-request.cjs')]));
    `;
    const { stdout } = await run(process.execPath, ['-e', script], { cwd: app });
    expect(JSON.parse(stdout)).toEqual([true, false, 'function', '{"a":2}', 'function']);
    // They are outside the files loaded at start (Fastify's error serializer, a small part of
    // fast-json-stringify, is not).
    const atStart = [...staticClosure('dist/gateway.js')].flatMap((f) => Object.keys(meta.outputs[f]!.inputs));
    expect(atStart.filter((i) => /node_modules\/(ajv|@fastify\/ajv-compiler|light-my-request)\/|fast-json-stringify\/index\.js/.test(i))).toEqual([]);
  });

  it('runs the bundled CLI', async () => {
    const { stdout } = await run(process.execPath, ['dist/gateway-cli.js', 'token'], { cwd: app });
    expect(stdout).toMatch(/^[A-Za-z0-9_-]{43}\n$/);
  });
});
