// The real coding agents (Claude Code 2.1.197, Codex 0.171.0) against the gateway on loopback,
// with a fake OpenAI-compatible upstream that answers with native tool calls. Each agent must
// finish a task that needs a tool call: the test checks the file on disk and the final answer.
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeUpstream, textChunks, toolCallChunks, type Received } from '../fakes/openai-upstream.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { AVAILABLE, CLAUDE, codexExec, codexHome, finalAgentMessage, run } from './agents-helpers.js';

const TOKEN = 'e2e-gateway-token-0123456789';
const MODEL = 'gw-model';
let upstream: FakeUpstream;
let t: TestGateway;
let root: string;

/** The last message the upstream saw, and whether it was a tool result. */
function lastMessage(request: Received): { role: string; content: unknown } | undefined {
  const messages = request.body.messages as Array<{ role: string; content: unknown }> | undefined;
  return messages?.[messages.length - 1];
}

function toolNames(request: Received): string[] {
  return ((request.body.tools as Array<{ function: { name: string } }> | undefined) ?? []).map((t) => t.function.name);
}

beforeAll(async () => {
  if (!AVAILABLE) return;
  root = await mkdtemp(path.join(tmpdir(), 'gw-e2e-'));
  upstream = await new FakeUpstream().start();
  t = await startTestGateway(
    `auth:\n  bearer_token: ${TOKEN}\ngemini:\n  enabled: false\ng4f:\n  enabled: false\n` +
      `openai_compatible:\n  - name: fake\n    base_url: ${upstream.url}/v1\n    models: ["${MODEL}"]\n` +
      `routing:\n  aliases:\n    "claude-*": ${MODEL}\n`,
  );
});
afterAll(async () => {
  if (!AVAILABLE) return;
  await t.stop();
  await upstream.stop();
  await rm(root, { recursive: true, force: true });
});

describe.skipIf(!AVAILABLE)('Claude Code 2.1.197 through the gateway', () => {
  it('writes a file with the Write tool and reports back', async () => {
    const work = path.join(root, 'claude-work');
    const home = path.join(root, 'claude-home');
    await mkdir(work, { recursive: true });
    await mkdir(home, { recursive: true });
    const target = path.join(work, 'hello.txt');
    const content = 'hello from the gateway e2e\n';
    upstream.handler = (request) => {
      const last = lastMessage(request);
      if (last?.role === 'tool') return { sse: textChunks(`Done: wrote ${path.basename(target)}.`) };
      if (toolNames(request).includes('Write')) return { sse: toolCallChunks('Write', { file_path: target, content }, 'call_write1') };
      return { sse: textChunks('ok') };
    };
    const before = upstream.chats.length;
    const result = await run(CLAUDE, ['-p', 'Create hello.txt with the agreed content, then tell me you are done.', '--output-format', 'json', '--allowedTools', 'Write'], work, {
      HOME: home,
      ANTHROPIC_BASE_URL: t.gw.url,
      ANTHROPIC_API_KEY: TOKEN,
      ANTHROPIC_MODEL: MODEL,
      CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
      CLAUDE_CODE_MAX_RETRIES: '1',
    });
    expect(result.code, result.stderr + result.stdout).toBe(0);
    const answer = JSON.parse(result.stdout) as { result: string; is_error: boolean; num_turns: number };
    expect(answer.is_error).toBe(false);
    expect(answer.result).toBe('Done: wrote hello.txt.');
    expect(answer.num_turns).toBeGreaterThanOrEqual(2);
    expect(await readFile(target, 'utf8')).toBe(content);
    // The tool result went back upstream as a tool message for the call it answered.
    const followUp = upstream.chats.slice(before).find((r) => lastMessage(r)?.role === 'tool');
    expect(followUp?.body.messages).toEqual(expect.arrayContaining([expect.objectContaining({ role: 'tool', tool_call_id: 'toolu_write1' })]));
  }, 150_000);
});

const homeFor = (name: string) => codexHome(path.join(root, name), MODEL, t.gw.url);
const exec = (home: string, work: string, prompt: string) => codexExec(home, work, prompt, TOKEN);

describe.skipIf(!AVAILABLE)('Codex 0.171.0 through the gateway', () => {
  it('runs a shell command (exec_command) that writes a file, then answers', async () => {
    const home = await homeFor('codex-home-exec');
    const work = path.join(root, 'codex-work-exec');
    await mkdir(work, { recursive: true });
    upstream.handler = (request) => {
      const last = lastMessage(request);
      if (last?.role === 'tool') return { sse: textChunks('The command ran and out.txt is written.') };
      if (toolNames(request).includes('exec_command')) return { sse: toolCallChunks('exec_command', { cmd: "printf 'hello from codex' > out.txt" }, 'call_exec1') };
      return { sse: textChunks('ok') };
    };
    const result = await exec(home, work, 'Write hello from codex into out.txt using the shell, then confirm.');
    expect(result.code, result.stderr + result.stdout).toBe(0);
    expect(await readFile(path.join(work, 'out.txt'), 'utf8')).toBe('hello from codex');
    expect(finalAgentMessage(result.stdout)).toBe('The command ran and out.txt is written.');
  }, 150_000);

  it('applies a patch with the freeform apply_patch tool (custom tool round trip)', async () => {
    const home = await homeFor('codex-home-patch');
    const work = path.join(root, 'codex-work-patch');
    await mkdir(work, { recursive: true });
    const patch = '*** Begin Patch\n*** Add File: patched.txt\n+patched through the gateway\n*** End Patch\n';
    let sawCustomTool = false;
    upstream.handler = (request) => {
      const last = lastMessage(request);
      if (last?.role === 'tool') return { sse: textChunks(`Patch applied: ${String(last.content).includes('Success') ? 'success' : 'unknown'}.`) };
      if (toolNames(request).includes('apply_patch')) {
        sawCustomTool = true;
        return { sse: toolCallChunks('apply_patch', { input: patch }, 'call_patch1') };
      }
      return { sse: textChunks('ok') };
    };
    const result = await exec(home, work, 'Create patched.txt with apply_patch, then confirm.');
    expect(result.code, result.stderr + result.stdout).toBe(0);
    expect(sawCustomTool).toBe(true);
    expect(await readFile(path.join(work, 'patched.txt'), 'utf8')).toBe('patched through the gateway\n');
    expect(finalAgentMessage(result.stdout)).toBe('Patch applied: success.');
  }, 150_000);
});

describe('captured Claude Code requests through the gateway to an OpenAI-compatible upstream', () => {
  let fake: FakeUpstream;
  let gw: TestGateway;
  beforeAll(async () => {
    fake = await new FakeUpstream().start();
    gw = await startTestGateway(
      `auth:\n  bearer_token: ${TOKEN}\ngemini:\n  enabled: false\ng4f:\n  enabled: false\n` +
        `openai_compatible:\n  - name: fake\n    base_url: ${fake.url}/v1\n    models: ["${MODEL}"]\nrouting:\n  aliases:\n    "claude-*": ${MODEL}\n`,
    );
  });
  afterAll(async () => {
    await gw.stop();
    await fake.stop();
  });

  async function replay(name: string) {
    const capture = JSON.parse(await readFile(path.resolve('test/fixtures/clients', name), 'utf8')) as { path: string; query: Record<string, string>; headers: Record<string, string>; body: unknown };
    const { 'content-length': _length, host: _host, connection: _connection, 'accept-encoding': _encoding, ...headers } = capture.headers;
    const query = new URLSearchParams(capture.query).toString();
    const res = await fetch(`${gw.gw.url}${capture.path}${query ? `?${query}` : ''}`, { method: 'POST', headers: { ...headers, 'x-api-key': TOKEN }, body: JSON.stringify(capture.body) });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  }

  it('answers the non-streaming fallback request (max_tokens 64000, no stream key) with one message', async () => {
    fake.handler = () => ({ sse: textChunks('Fallback answer.') });
    const { status, body } = await replay('claude-code_05_messages_nonstreaming_fallback.json');
    expect(status).toBe(200);
    expect(body).toMatchObject({ type: 'message', role: 'assistant', model: 'claude-opus-4-8', stop_reason: 'end_turn', content: [{ type: 'text', text: 'Fallback answer.' }] });
    const sent = fake.chats.at(-1)!.body;
    expect(sent).toMatchObject({ model: MODEL, max_tokens: 64000 });
    expect((sent.tools as unknown[]).length).toBe(24);
  });

  it('counts tokens for the captured count_tokens request', async () => {
    const { status, body } = await replay('claude-code_06_count_tokens.json');
    expect(status).toBe(200);
    expect(body.input_tokens).toBeGreaterThan(1000);
  });
});
