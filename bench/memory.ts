// Gateway memory on the Gemini path (usage counted locally there): idle RSS, RSS after N Gemini
// requests carrying a real Claude Code first turn (~80 KB, restored from test/fixtures/clients), and
// the peak (VmHWM) after a run at c=64.
//   npm run build && tsc -p tsconfig.bench.json && node dist-bench/bench/memory.js [path/to/main.js]
// MEM_REQUESTS (200), MEM_SECONDS (10, the c=64 run).
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import { FakeGemini, PSID, PSIDTS } from '../test/fakes/gemini-web.js';
import { loadRunGeminiYaml, SHORT_GEMINI_ANSWER } from '../test/helpers/gemini.js';
import { capturedBody } from './fixtures.js';
import { median, memory } from './measure.js';

const TOKEN = 'memory-bench-token-0123456789';
const REQUESTS = Number(process.env.MEM_REQUESTS ?? 200);
const SECONDS = Number(process.env.MEM_SECONDS ?? 10);
const main = path.resolve(process.argv[2] ?? 'dist/main.js');

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function rssSettled(pid: number): Promise<number> {
  const readings: number[] = [];
  for (let i = 0; i < 5; i++) {
    await sleep(500);
    readings.push(memory(pid).rss);
  }
  return median(readings);
}

async function run(): Promise<void> {
  const dir = await mkdtemp(path.join(tmpdir(), 'gw-mem-'));
  const gemini = await new FakeGemini().start();
  gemini.reply = () => SHORT_GEMINI_ANSWER;
  await writeFile(path.join(dir, 'gemini.json'), JSON.stringify({ '__Secure-1PSID': PSID, '__Secure-1PSIDTS': PSIDTS }));
  await writeFile(
    path.join(dir, 'config.yaml'),
    `auth:\n  bearer_token: ${TOKEN}\nlogging:\n  level: warn\n` + loadRunGeminiYaml(path.join(dir, 'gemini.json'), gemini.url),
  );
  const port = 21_000 + Math.floor(Math.random() * 3000);
  const env = { PATH: process.env.PATH ?? '', CONFIG_PATH: path.join(dir, 'config.yaml'), SERVER_HOST: '127.0.0.1', SERVER_PORT: String(port), CONFIG_WATCH: 'false', ...(process.env.GW_NODE_OPTIONS ? { NODE_OPTIONS: process.env.GW_NODE_OPTIONS } : {}) };
  const child = spawn(process.execPath, [main], { env, stdio: 'ignore' });
  const url = `http://127.0.0.1:${port}`;
  try {
    for (let i = 0; ; i++) {
      if ((await fetch(`${url}/health`).catch(() => undefined))?.status === 200) break;
      if (i > 200) throw new Error('gateway did not start');
      await sleep(50);
    }
    const pid = child.pid!;
    const idle = await rssSettled(pid);

    // MEM_BODY=small: a one-line prompt instead of the Claude Code first turn.
    const small = process.env.MEM_BODY === 'small';
    const body = JSON.stringify(
      small
        ? { model: 'gemini-3-flash', stream: true, max_tokens: 256, messages: [{ role: 'user', content: 'Say hello.' }] }
        : { ...capturedBody('claude-code_01_messages_first_turn.json'), model: 'gemini-3-flash', stream: true },
    );
    const headers = { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}`, 'anthropic-version': '2023-06-01' };
    let errors = 0;
    const first = await autocannon({ url: `${url}/v1/messages`, method: 'POST', connections: 8, amount: REQUESTS, headers, body });
    errors += first.errors + first.non2xx;
    const after = await rssSettled(pid);
    const burst = await autocannon({ url: `${url}/v1/messages`, method: 'POST', connections: 64, duration: SECONDS, headers, body });
    errors += burst.errors + burst.non2xx;
    if (errors > 0) {
      const probe = await fetch(`${url}/v1/messages`, { method: 'POST', headers, body });
      console.log(`a failed request? status ${probe.status}: ${(await probe.text()).slice(0, 300)}`);
    }
    const { rss: afterBurst, peak } = memory(pid);
    console.log(
      `${path.relative(process.cwd(), main)}: idle RSS ${idle.toFixed(1)} MiB; after ${first.requests.total} Gemini requests (c=8, ${small ? 'one-line prompt' : 'Claude Code first turn'}, ${(body.length / 1024).toFixed(1)} KB) ${after.toFixed(1)} MiB; ` +
        `after ${burst.requests.total} more at c=64 for ${SECONDS} s ${afterBurst.toFixed(1)} MiB, peak (VmHWM) ${peak.toFixed(1)} MiB; errors ${errors}`,
    );
  } finally {
    child.kill('SIGKILL');
    await gemini.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

await run();
