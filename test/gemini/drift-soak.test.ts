// A compressed week of Google drifting under an agent (issue 12): the build label rolls out anew,
// __Secure-1PSIDTS dies unless rotated, empty answers (1155) come and go, the account is answered as a
// guest for a while (a silent downgrade), and the IP is blocked and unblocked, while an agent loop
// (tools emulated on Gemini: ask, run the tool, answer) keeps running tasks. Nobody touches the
// gateway meanwhile: zero manual steps. SOAK_TICKS sets the length (CI: 56 ticks, one every three
// "hours" of a week; the long run: SOAK_TICKS=1008, one every ten minutes).
import path from 'node:path';
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeGemini, PSID, PSIDTS } from '../fakes/gemini-web.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

const TICKS = Number(process.env.SOAK_TICKS ?? 56);
const TOKEN = 'gemini-soak-token-0000';
const auth = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };
const TOOLS = [{ type: 'function', function: { name: 'read_file', description: 'Read a file', parameters: { type: 'object', properties: { path: { type: 'string' } }, required: ['path'] } } }];
let fake: FakeGemini;
let t: TestGateway;

beforeAll(async () => {
  fake = await new FakeGemini().start();
  fake.strictPsidts = true; // a PSIDTS replaced by rotation is refused, as Google does
  t = await startTestGateway(
    (dir) =>
      `auth:\n  bearer_token: ${TOKEN}\ng4f:\n  enabled: false\nlogging:\n  level: warn\n` +
      `gemini:\n  cookie_path: ${path.join(dir, 'gemini.json')}\n  page_refresh_interval: 0.2\n  empty_retries: 2\n` +
      `  cooldown:\n    ip_block: 0.5\n  timeouts:\n    first_byte: 3\n    idle: 3\n    total: 10\n  recovery_timeout: 0.2\n  recovery_poll_interval: 0.1\n` +
      `  endpoints:\n    gemini: ${fake.url}\n    accounts: ${fake.url}\n    upload: ${fake.url}\n    google: ${fake.url}\n`,
    { files: { 'gemini.json': JSON.stringify({ '__Secure-1PSID': PSID, '__Secure-1PSIDTS': PSIDTS }) } },
  );
});
afterAll(async () => {
  await t?.stop();
  await fake?.stop();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function post(body: unknown): Promise<{ status: number; json: any }> {
  const res = await fetch(`${t.gw.url}/v1/chat/completions`, { method: 'POST', headers: auth, body: JSON.stringify(body) });
  return { status: res.status, json: await res.json() };
}

/** One agent task: ask, run the tool the model calls, send its result, check the answer. */
async function task(k: number): Promise<{ ok: boolean; failure?: string }> {
  const question = { role: 'user', content: `What does file-${k}.txt say?` };
  const base = { model: 'gemini-3.1-pro', user: `soak-${k}`, tools: TOOLS };
  const first = await post({ ...base, messages: [question] });
  if (first.status !== 200) return { ok: false, failure: `${first.status} ${first.json.error?.code ?? ''}` };
  const message = first.json.choices[0].message;
  const call = message.tool_calls?.[0];
  if (!call) return { ok: false, failure: 'no tool call' };
  const output = `content-of-${JSON.parse(call.function.arguments).path}`;
  const second = await post({ ...base, messages: [question, { role: 'assistant', content: message.content, tool_calls: message.tool_calls }, { role: 'tool', tool_call_id: call.id, content: output }] });
  if (second.status !== 200) return { ok: false, failure: `${second.status} ${second.json.error?.code ?? ''}` };
  return second.json.choices[0].message.content === `The file says ${output}.` ? { ok: true } : { ok: false, failure: 'wrong answer' };
}

describe(`drift soak (${TICKS} ticks)`, () => {
  it('keeps every task that could finish finishing, with zero manual steps', async () => {
    let emptyAnswers = 0;
    fake.reply = (r) => {
      if (emptyAnswers > 0) {
        emptyAnswers--;
        return { empty: true };
      }
      const result = /content-of-(file-\d+\.txt)/.exec(r.prompt);
      if (result) return { final: { text: `The file says content-of-${result[1]}.` } };
      const file = /file-\d+\.txt/.exec(r.prompt)?.[0] ?? 'unknown.txt';
      return { final: { text: `Let me read it.\n\n\`\`\`toolcall\n{"name": "read_file", "arguments": {"path": "${file}"}}\n\`\`\`` } };
    };
    const tally = { tasks: 0, finished: 0, couldNot: { ip_block: 0, downgrade: 0 }, failed: [] as string[], events: { builds: 0, expiries: 0, empties: 0, downgrades: 0, blocks: 0 } };
    const blockFrom = Math.floor(TICKS * 0.55);
    const blockTo = blockFrom + 2;
    for (let tick = 0; tick < TICKS; tick++) {
      let window: 'ip_block' | 'downgrade' | undefined;
      if (tick % 8 === 3) {
        fake.rotateBuild(); // a front-end rollout: the old build label answers 405
        tally.events.builds++;
      }
      if (tick % 5 === 2) {
        // __Secure-1PSIDTS dies (nobody rotated it for half an hour): the old value is refused.
        const account = fake.accounts.get(PSID)!;
        account.psidts = `sidts-dead-${tick}`;
        delete account.previous;
        tally.events.expiries++;
      }
      if (tick % 7 === 4) {
        emptyAnswers = 2; // two 1155s in a row
        tally.events.empties++;
      }
      if (tick % 11 === 6) {
        fake.accounts.get(PSID)!.expired = true; // answered as a guest for a while
        window = 'downgrade';
        tally.events.downgrades++;
      }
      if (tick === blockFrom) {
        fake.block = { after: 0, mode: 302 };
        tally.events.blocks++;
      }
      if (tick >= blockFrom && tick < blockTo) window = 'ip_block';

      tally.tasks++;
      const result = await task(tick);
      if (result.ok) tally.finished++;
      else if (window) tally.couldNot[window]++;
      else tally.failed.push(`tick ${tick}: ${result.failure}`);

      if (window === 'downgrade') {
        fake.accounts.get(PSID)!.expired = false;
        await sleep(1000); // the account is re-checked with the page (page_refresh_interval) and recovers
      }
      if (tick === blockTo - 1) {
        fake.liftBlock();
        await sleep(1200); // the egress rests cooldown.ip_block, then is tried again
      }
    }
    const couldFinish = tally.tasks - tally.couldNot.ip_block - tally.couldNot.downgrade;
    const line =
      `soak: ${tally.tasks} tasks over ${TICKS} ticks; finished ${tally.finished} of the ${couldFinish} that could (${((100 * tally.finished) / couldFinish).toFixed(1)} %); ` +
      `could not: ${tally.couldNot.ip_block} during the IP block, ${tally.couldNot.downgrade} while answered as a guest; failed: ${tally.failed.length ? tally.failed.join('; ') : 'none'}; ` +
      `events: ${JSON.stringify(tally.events)}; Gemini requests ${fake.generates.length}, rotations ${fake.rotations}, page loads ${fake.appLoads}; manual steps 0`;
    process.stdout.write(`${line}\n`);
    expect(tally.failed, line).toEqual([]);
    expect(tally.finished).toBe(couldFinish);
    // No manual step was needed: the cookie file holds the PSIDTS Google accepts now.
    const saved = JSON.parse(await readFile(path.join(t.dir, 'gemini.json'), 'utf8')) as Record<string, string>;
    expect(saved['__Secure-1PSIDTS']).toBe(fake.accounts.get(PSID)!.psidts);
  }, 300_000);
});
