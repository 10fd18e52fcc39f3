// A client that leaves mid-answer ends the gateway's StreamGenerate call to Gemini at once: the
// fake's answer would otherwise keep its connection (and an account slot) for its whole length.
import path from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { FakeGemini } from '../fakes/gemini-web.js';
import { cookieJson, endpointsYaml } from '../helpers/gemini.js';
import { startTestGateway, waitFor, type TestGateway } from '../helpers/gateway.js';
import { inflightCount } from '../../src/http/lifecycle.js';

const TOKEN = 'gemini-gateway-token-0000';
let fake: FakeGemini;
let t: TestGateway | undefined;

beforeEach(async () => {
  fake = await new FakeGemini().start();
});
afterEach(async () => {
  await t?.stop();
  t = undefined;
  await fake.stop();
});

it('closes the StreamGenerate connection within 1 s of the client leaving', async () => {
  t = await startTestGateway(
    (dir) =>
      `auth:\n  bearer_token: ${TOKEN}\ng4f:\n  enabled: false\ngemini:\n  cookie_path: ${path.join(dir, 'gemini.json')}\n${endpointsYaml(fake.url)}` +
      `  timeouts:\n    first_byte: 5\n    idle: 30\n    total: 60\n`,
    { files: { 'gemini.json': cookieJson() } },
  );
  // 30 snapshots 500 ms apart: the answer would hold the connection for 15 s.
  const snapshots = Array.from({ length: 30 }, (_, i) => ({ text: Array.from({ length: i + 1 }, (_, k) => `word${k}`).join(' ') }));
  fake.reply = () => ({ snapshots, final: snapshots.at(-1)!, delayMs: 500 });
  const controller = new AbortController();
  const res = await fetch(`${t.gw.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'gemini-3-pro', stream: true, messages: [{ role: 'user', content: 'count' }] }),
    signal: controller.signal,
  });
  expect(res.status).toBe(200);
  const reader = res.body!.getReader();
  let seen = '';
  // Two text deltas seen: the answer is streaming (the words arrive cut anywhere).
  while (seen.split('"delta":{"content":"').length < 3) {
    const { done, value } = await reader.read();
    if (done) throw new Error(`the stream ended before the first snapshot: ${seen}`);
    seen += new TextDecoder().decode(value);
  }
  expect(fake.generates[0]!.closedAt, 'the answer is still being written').toBeUndefined();
  const left = performance.now();
  controller.abort();
  await waitFor(() => fake.generates[0]?.closedAt !== undefined, 1000);
  expect(fake.generates[0]!.closedAt! - left).toBeLessThan(1000);
  await waitFor(() => inflightCount(t!.gw.app) === 0, 1000);
});
