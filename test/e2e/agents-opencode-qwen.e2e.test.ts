// opencode 1.18.33 and Qwen Code 0.24.4 through the gateway on all three protocols (Chat
// Completions, Responses, Anthropic Messages), each on a g4f model and on Gemini web: 12 runs.
// opencode's g4f model has native tools (the fake upstream answers with a tool call); Qwen Code's
// g4f model is marked text-only, so its tools are emulated like on Gemini (the fakes answer in the
// `toolcall` format of docs/tool-emulation.md). Each agent must write a file with its own write tool
// and then answer with the tool's result; the test checks the file, the answer, and that the agent
// reached nothing but the gateway (an HTTP(S)_PROXY trap records any attempt to leave loopback).
import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderCall } from '../../src/tools/format.js';
import { FakeGemini, PSID, PSIDTS, type GenerateRequest } from '../fakes/gemini-web.js';
import { FakeUpstream, textChunks, toolCallChunks, type Received } from '../fakes/openai-upstream.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { OPENCODE, QWEN, QWEN_AUTH, installed, offline, opencodeAnswer, opencodeHome, proxyTrap, qwenHome, qwenResult, run, type Protocol } from './agents-helpers.js';

const TOKEN = 'e2e-oc-qwen-token-0123456789';
const AVAILABLE = installed(OPENCODE, QWEN);
const PROTOCOLS: Protocol[] = ['chat', 'responses', 'messages'];
const MODELS = { tools: 'tools-model', text: 'plain-model', gemini: 'gemini-3-pro' } as const;
type Upstream = keyof typeof MODELS;

let gemini: FakeGemini;
let g4f: FakeUpstream;
let trap: Awaited<ReturnType<typeof proxyTrap>>;
let t: TestGateway;
let root: string;

// The gateway and fakes start even without the CLIs: the captured requests are replayed either way.
beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'gw-e2e-ocq-'));
  gemini = await new FakeGemini().start();
  g4f = await new FakeUpstream().start();
  trap = await proxyTrap();
  t = await startTestGateway(
    (dir) =>
      `auth:\n  bearer_token: ${TOKEN}\n` +
      `g4f:\n  base_url: ${g4f.url}/v1\n  models: ["${MODELS.tools}", "plain-*"]\n  text_only_models: ["plain-*"]\n` +
      `gemini:\n  cookie_path: ${path.join(dir, 'gemini.json')}\n  endpoints:\n    gemini: ${gemini.url}\n    accounts: ${gemini.url}\n    upload: ${gemini.url}\n    google: ${gemini.url}\n` +
      `  models: [${MODELS.gemini}]\n` +
      // The captured requests' model names (test/fixtures/clients/opencode_*, qwen-code_*).
      `routing:\n  aliases:\n    gw-model: ${MODELS.tools}\n    "claude-*": ${MODELS.tools}\n`,
    { files: { 'gemini.json': JSON.stringify({ '__Secure-1PSID': PSID, '__Secure-1PSIDTS': PSIDTS }) } },
  );
});
afterAll(async () => {
  await t.stop();
  await gemini.stop();
  await g4f.stop();
  await trap.stop();
  await rm(root, { recursive: true, force: true });
});

/** One task: the write call to make, and the answer to give once the tool's result is back. */
interface Task {
  tool: string;
  args: Record<string, unknown>;
  answer: (result: string) => string;
}

const TITLE = 'Gateway file task';
const isTitleRequest = (text: string) => text.includes('You are a title generator');

/** The text of a chat message's content (a string or parts). */
function text(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) return content.map((p: { text?: string }) => p.text ?? '').join('\n');
  return '';
}

/** An emulated tool result as the gateway renders it for the model, if `told` ends with one. */
function emulatedResult(told: string, tool: string): string | undefined {
  return emulatedResultWithFlag(told, tool)?.text;
}
function emulatedResultWithFlag(told: string, tool: string): { text: string; error: boolean } | undefined {
  const match = new RegExp(`Tool result for ${tool} \\([^)]*\\)( - the tool reported an error)?:\\n\`\`\`\\n([\\s\\S]*?)\\n\`\`\``).exec(told);
  return match ? { text: match[2]!, error: match[1] !== undefined } : undefined;
}

/**
 * On Gemini, the task's second turn must continue the first turn's chat and carry only the tool
 * result, not the tool instructions again (the gateway recognised the agent's replayed history).
 */
function expectGeminiReuse(name: string, turns: GenerateRequest[]): void {
  const task = turns.filter((g) => !isTitleRequest(g.prompt));
  // eslint-disable-next-line no-console
  console.log(`${name}: prompt chars sent to Gemini per turn: ${task.map((g) => g.prompt.length).join(', ')}`);
  expect(task.length).toBe(2);
  expect(task[0]!.prompt).toContain('# Tools');
  expect(task[1]!.metadata[0]).not.toBe('');
  expect(task[1]!.prompt).not.toContain('# Tools');
  expect(task[1]!.prompt.length).toBeLessThan(1000);
}

/** Script the upstream behind `upstream` for one task; returns what each upstream request was. */
function serve(upstream: Upstream, task: Task): string[] {
  const seen: string[] = [];
  if (upstream === 'gemini') {
    gemini.reply = (request: GenerateRequest) => {
      if (isTitleRequest(request.prompt)) return seen.push('title'), { final: { text: TITLE } };
      const result = emulatedResult(request.prompt, task.tool);
      // Gemini's Pro and Thinking models answer with thoughts: the agents get them as reasoning and
      // replay them (Qwen Code on openai-responses only because the item has an encrypted_content).
      if (result !== undefined) return seen.push('answer'), { final: { text: task.answer(result), thoughts: 'The tool answered; I report it.' } };
      seen.push('call');
      return { final: { text: `I will write the file.\n\n${renderCall(task.tool, task.args)}`, thoughts: 'The user wants a file, so I call the write tool.' } };
    };
    return seen;
  }
  g4f.handler = (request: Received) => {
    const messages = (request.body.messages ?? []) as Array<{ role: string; content: unknown }>;
    const last = messages[messages.length - 1];
    if (messages.some((m) => isTitleRequest(text(m.content)))) return seen.push('title'), { sse: textChunks(TITLE) };
    if (upstream === 'tools') {
      if (last?.role === 'tool') return seen.push('answer'), { sse: textChunks(task.answer(text(last.content)), 3) };
      if (!((request.body.tools as Array<{ function: { name: string } }> | undefined) ?? []).some((tool) => tool.function.name === task.tool)) {
        return seen.push('no tool'), { sse: textChunks(`no ${task.tool} tool offered`) };
      }
      return seen.push('call'), { sse: toolCallChunks(task.tool, task.args, 'call_write1') };
    }
    if (request.body.tools !== undefined) return seen.push('native tools on a text-only model'), { sse: textChunks('unexpected tools') };
    const result = emulatedResult(text(last?.content), task.tool);
    if (result !== undefined) return seen.push('answer'), { sse: textChunks(task.answer(result), 3) };
    return seen.push('call'), { sse: textChunks(`I will write the file.\n\n${renderCall(task.tool, task.args)}`, 4) };
  };
  return seen;
}

async function dirs(name: string): Promise<{ home: string; work: string }> {
  const home = path.join(root, `${name}-home`);
  const work = path.join(root, `${name}-work`);
  await mkdir(home, { recursive: true });
  await mkdir(work, { recursive: true });
  return { home, work };
}

describe.skipIf(!AVAILABLE)('opencode 1.18.33 through the gateway', () => {
  for (const upstream of ['tools', 'gemini'] as const) {
    for (const protocol of PROTOCOLS) {
      it(`${protocol} on ${upstream === 'tools' ? 'a g4f model with native tools' : 'Gemini web (emulated tools)'}`, async () => {
        const name = `opencode-${protocol}-${upstream}`;
        const { home, work } = await dirs(name);
        const content = `hello from ${name}\n`;
        const target = path.join(work, 'hello.txt');
        const seen = serve(upstream, { tool: 'write', args: { filePath: target, content }, answer: (result) => `Done. The write tool said: ${result.trim()}` });
        const env = await opencodeHome(home, protocol, MODELS[upstream], t.gw.url, TOKEN);
        const hosts = trap.hosts.length;
        const generates = gemini.generates.length;
        const result = await run(OPENCODE, ['run', '--format', 'json', 'Create hello.txt with the agreed content, then tell me what the tool said.'], work, { ...env, ...offline(trap.url) }, 90_000);
        expect(result.code, result.stderr + result.stdout).toBe(0);
        expect(await readFile(target, 'utf8')).toBe(content);
        expect(opencodeAnswer(result.stdout)).toBe('Done. The write tool said: Wrote file successfully.');
        // The title request (to small_model, without tools) runs beside the task.
        expect(seen.filter((s) => s !== 'title')).toEqual(['call', 'answer']);
        expect(seen).toContain('title');
        if (upstream === 'gemini') expectGeminiReuse(name, gemini.generates.slice(generates));
        // Nothing left loopback except opencode's background install of @opencode-ai/plugin into
        // its config dir (always attempted, failure only logged); models.dev is off by env.
        expect(trap.hosts.slice(hosts).filter((h) => !h.startsWith('registry.npmjs.org'))).toEqual([]);
      }, 120_000);
    }
  }
});

describe.skipIf(!AVAILABLE)('Qwen Code 0.24.4 through the gateway', () => {
  for (const upstream of ['text', 'gemini'] as const) {
    for (const protocol of PROTOCOLS) {
      it(`${protocol} (--auth-type ${QWEN_AUTH[protocol]}) on ${upstream === 'text' ? 'a g4f model marked text-only' : 'Gemini web'} (emulated tools)`, async () => {
        const name = `qwen-${protocol}-${upstream}`;
        const { home, work } = await dirs(name);
        const content = `hello from ${name}\n`;
        const target = path.join(work, 'hello.txt');
        // Qwen Code's write_file takes an absolute path only.
        const seen = serve(upstream, { tool: 'write_file', args: { file_path: target, content }, answer: (result) => `Done. write_file said: ${result.trim()}` });
        const env = await qwenHome(home, protocol, MODELS[upstream], t.gw.url, TOKEN);
        const hosts = trap.hosts.length;
        const generates = gemini.generates.length;
        const result = await run(QWEN, ['--auth-type', QWEN_AUTH[protocol], '--yolo', '--output-format', 'json', 'Create hello.txt with the agreed content, then tell me what the tool said.'], work, { ...env, ...offline(trap.url) }, 90_000);
        expect(result.code, result.stderr + result.stdout).toBe(0);
        expect(await readFile(target, 'utf8')).toBe(content);
        const answer = qwenResult(result.stdout);
        expect(answer?.is_error).toBe(false);
        expect(answer?.result).toBe(`Done. write_file said: Successfully created and wrote to new file: ${target}.`);
        expect(seen).toEqual(['call', 'answer']);
        if (upstream === 'gemini') expectGeminiReuse(name, gemini.generates.slice(generates));
        expect(trap.hosts.slice(hosts)).toEqual([]);
      }, 120_000);
    }
  }

  it('on Gemini, a relative path first: the tool refuses it, the error reaches the model, the retry with an absolute path works', async () => {
    const name = 'qwen-relative-gemini';
    const { home, work } = await dirs(name);
    const content = `hello from ${name}\n`;
    const target = path.join(work, 'hello.txt');
    const told: Array<{ text: string; error: boolean } | undefined> = [];
    gemini.reply = (request: GenerateRequest) => {
      const result = emulatedResultWithFlag(request.prompt, 'write_file');
      told.push(result);
      if (!result) return { final: { text: renderCall('write_file', { file_path: 'hello.txt', content }) } };
      if (/absolute/i.test(result.text)) return { final: { text: `The path must be absolute; retrying.\n\n${renderCall('write_file', { file_path: target, content })}` } };
      return { final: { text: `Done. write_file said: ${result.text.trim()}` } };
    };
    const env = await qwenHome(home, 'messages', MODELS.gemini, t.gw.url, TOKEN);
    const result = await run(QWEN, ['--auth-type', 'anthropic', '--yolo', '--output-format', 'json', 'Create hello.txt with the agreed content.'], work, { ...env, ...offline(trap.url) }, 90_000);
    expect(result.code, result.stderr + result.stdout).toBe(0);
    expect(await readFile(target, 'utf8')).toBe(content);
    expect(qwenResult(result.stdout)?.result).toBe(`Done. write_file said: Successfully created and wrote to new file: ${target}.`);
    expect(told.length).toBe(3);
    // Qwen Code flags the refusal as an error (is_error on Anthropic), and the gateway says so to the model.
    expect(told[1]).toEqual({ text: expect.stringContaining('File path must be absolute: hello.txt'), error: true });
    expect(told[2]?.error).toBe(false);
  }, 120_000);
});

describe('captured opencode and Qwen Code requests replayed through the gateway', async () => {
  const dir = path.resolve('test/fixtures/clients');
  const files = (await readdir(dir)).filter((f) => /^(opencode|qwen-code)_.*\.json$/.test(f));
  it('covers both agents on all three protocols', () => {
    expect(files.length).toBeGreaterThanOrEqual(8);
  });
  for (const file of files) {
    it(file, async () => {
      const capture = JSON.parse(await readFile(path.join(dir, file), 'utf8')) as { path: string; headers: Record<string, string>; body: Record<string, unknown> };
      const { 'content-length': _length, host: _host, connection: _connection, 'accept-encoding': _encoding, authorization: _auth, 'x-api-key': _key, ...headers } = capture.headers;
      const tools = ((capture.body.tools as unknown[] | undefined) ?? []).length;
      g4f.handler = () => ({ sse: textChunks('Replayed.', 1) });
      const before = g4f.chats.length;
      const res = await fetch(`${t.gw.url}${capture.path}`, { method: 'POST', headers: { ...headers, authorization: `Bearer ${TOKEN}` }, body: JSON.stringify(capture.body) });
      const body = await res.text();
      expect(res.status, body).toBe(200);
      const end = { '/v1/chat/completions': 'data: [DONE]', '/v1/responses': 'event: response.completed', '/v1/messages': 'event: message_stop' }[capture.path];
      expect(body).toContain(end);
      expect(body).toContain('Replayed.');
      const sent = g4f.chats.slice(before);
      expect(sent.length).toBe(1);
      expect(sent[0]!.body.model).toBe(MODELS.tools);
      expect(((sent[0]!.body.tools as unknown[] | undefined) ?? []).length).toBe(tools);
    });
  }
});
