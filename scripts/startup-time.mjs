// `npm run bench:startup`: time from spawning the gateway to its first 200 on
// POST /v1/chat/completions, against a loopback mock upstream (g4f kind, Gemini off), for the bundle
// (dist/gateway.js) and the tsc output (dist/main.js). Median of RUNS runs each, alternating.
// Usage: node scripts/startup-time.mjs [runs] [entry ...]   (build first: npm run build)

import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';

const COMPLETION = JSON.stringify({
  id: 'chatcmpl-mock',
  object: 'chat.completion',
  created: 0,
  model: 'mock-model',
  choices: [{ index: 0, message: { role: 'assistant', content: 'pong' }, finish_reason: 'stop' }],
  usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
});

/** A loopback OpenAI-compatible upstream answering every chat completion with "pong". */
export async function startMockUpstream() {
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      if (req.url?.endsWith('/models')) {
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"object":"list","data":[{"id":"mock-model","object":"model"}]}');
        return;
      }
      const stream = /"stream"\s*:\s*true/.test(body);
      if (!stream) {
        res.writeHead(200, { 'content-type': 'application/json' }).end(COMPLETION);
        return;
      }
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      const chunk = (delta, finish = null) => `data: ${JSON.stringify({ id: 'chatcmpl-mock', object: 'chat.completion.chunk', created: 0, model: 'mock-model', choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
      // The gateway always streams from upstream and asks for usage (stream_options.include_usage), as
      // OpenAI and most servers answer it; without it the first request would load the tokenizer.
      const usage = /"include_usage"\s*:\s*true/.test(body)
        ? `data: ${JSON.stringify({ id: 'chatcmpl-mock', object: 'chat.completion.chunk', created: 0, model: 'mock-model', choices: [], usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 } })}\n\n`
        : '';
      res.end(chunk({ role: 'assistant', content: 'pong' }) + chunk({}, 'stop') + usage + 'data: [DONE]\n\n');
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${server.address().port}/v1`, close: () => new Promise((resolve) => server.close(resolve)) };
}

/** A port free right now (the gateway binds it a moment later). */
export async function freePort() {
  const server = createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** A config with one loopback upstream and nothing else that costs start-up time. */
export function mockConfig(upstreamUrl, port) {
  return `server:\n  host: "127.0.0.1"\n  port: ${port}\ngemini:\n  enabled: false\ng4f:\n  enabled: true\n  base_url: "${upstreamUrl}"\n  models: ["mock-model"]\n  discover_models: false\nlogging:\n  level: warn\n`;
}

const BODY = JSON.stringify({ model: 'mock-model', messages: [{ role: 'user', content: 'ping' }] });

/**
 * CPU time (user + system, ms) the process has used, from /proc (Linux; undefined elsewhere). On a
 * shared, busy machine wall time swings with the load; the CPU the start-up cost does not.
 */
function cpuMs(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime, stime in USER_HZ (100 on Linux)
  } catch {
    return undefined;
  }
}

/** Spawn `node entry`, poll the chat endpoint until it answers 200; resolves to ms since spawn and CPU ms used. */
export async function timeToFirstAnswer(entry, env, port, timeoutMs = 20_000) {
  const started = performance.now();
  const child = spawn(process.execPath, [entry], { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`${entry} exited ${child.exitCode}: ${stderr}`);
      if (performance.now() - started > timeoutMs) throw new Error(`${entry}: no answer in ${timeoutMs} ms: ${stderr}`);
      const status = await fetch(`http://127.0.0.1:${port}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: BODY }).then(
        async (r) => (await r.arrayBuffer(), r.status),
        () => 0,
      );
      if (status === 200) return { wall: performance.now() - started, cpu: cpuMs(child.pid) };
      if (status !== 0) throw new Error(`${entry}: answered ${status}`);
      await new Promise((r) => setTimeout(r, 2));
    }
  } finally {
    child.kill('SIGKILL');
    await new Promise((resolve) => (child.exitCode !== null ? resolve() : child.once('exit', resolve)));
  }
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

async function main() {
  const runs = Number(process.argv[2] ?? 7);
  const entries = process.argv.slice(3).length ? process.argv.slice(3) : ['dist/gateway.js', 'dist/main.js'];
  for (const entry of entries) if (!existsSync(entry)) throw new Error(`${entry} missing: npm run build`);
  const upstream = await startMockUpstream();
  const dir = await mkdtemp(path.join(tmpdir(), 'gw-startup-'));
  const times = Object.fromEntries(entries.map((e) => [e, []]));
  const cpu = Object.fromEntries(entries.map((e) => [e, []]));
  try {
    for (let i = 0; i < runs; i++) {
      for (const entry of entries) {
        const port = await freePort();
        const config = path.join(dir, 'config.yaml');
        await writeFile(config, mockConfig(upstream.url, port));
        const result = await timeToFirstAnswer(entry, { CONFIG_PATH: config, NODE_ENV: 'production' }, port);
        times[entry].push(result.wall);
        if (result.cpu !== undefined) cpu[entry].push(result.cpu);
      }
    }
  } finally {
    await upstream.close();
    await rm(dir, { recursive: true, force: true });
  }
  console.log(`node ${process.version}, spawn -> first 200 on POST /v1/chat/completions, median of ${runs}:`);
  for (const entry of entries) {
    const cpuText = cpu[entry].length ? `, CPU ${median(cpu[entry]).toFixed(0)} ms` : '';
    console.log(`  ${entry.padEnd(18)} ${median(times[entry]).toFixed(0)} ms${cpuText}   (runs: ${times[entry].map((t) => t.toFixed(0)).join(' ')})`);
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === new URL(import.meta.url).pathname) await main();
