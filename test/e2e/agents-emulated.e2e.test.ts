// Claude Code and Codex on upstreams WITHOUT native tools: the fake Gemini web app, and an
// OpenAI-compatible model marked text-only. The fakes answer in the documented `toolcall` format
// (docs/tool-emulation.md); each agent must write a file, run a command that reads it, and answer
// with what it printed. The test checks the files, the answers, and that the tool instructions went
// to Gemini once per conversation (later turns carry only the new tool result).
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderCall } from '../../src/tools/format.js';
import { FakeGemini, PSID, PSIDTS, type GenerateRequest } from '../fakes/gemini-web.js';
import { FakeUpstream, textChunks } from '../fakes/openai-upstream.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { AVAILABLE, CLAUDE, codexExec, codexHome, finalAgentMessage, run } from './agents-helpers.js';

const TOKEN = 'e2e-emulated-token-0123456789';
let gemini: FakeGemini;
let textOnly: FakeUpstream;
let t: TestGateway;
let root: string;

/** The three steps of the task, decided from what the model was just told. */
function nextStep(told: string, steps: { write: () => string; read: () => string; answer: (output: string) => string; readTool: string }): string {
  const readResult = new RegExp(`Tool result for ${steps.readTool} \\([^)]*\\):\\n\`\`\`\\n([\\s\\S]*?)\\n\`\`\``).exec(told);
  if (readResult) return steps.answer(readResult[1]!);
  if (/Tool result for \w+ \(/.test(told)) return steps.read();
  return steps.write();
}

beforeAll(async () => {
  if (!AVAILABLE) return;
  root = await mkdtemp(path.join(tmpdir(), 'gw-e2e-emu-'));
  gemini = await new FakeGemini().start();
  textOnly = await new FakeUpstream().start();
  t = await startTestGateway(
    (dir) =>
      `auth:\n  bearer_token: ${TOKEN}\ng4f:\n  base_url: ${textOnly.url}/v1\n  models: ["plain-*"]\n  text_only_models: ["plain-*"]\n` +
      `gemini:\n  cookie_path: ${path.join(dir, 'gemini.json')}\n  endpoints:\n    gemini: ${gemini.url}\n    accounts: ${gemini.url}\n    upload: ${gemini.url}\n    google: ${gemini.url}\n` +
      `  models: [gemini-3-pro]\n`,
    { files: { 'gemini.json': JSON.stringify({ '__Secure-1PSID': PSID, '__Secure-1PSIDTS': PSIDTS }) } },
  );
});
afterAll(async () => {
  if (!AVAILABLE) return;
  await t.stop();
  await gemini.stop();
  await textOnly.stop();
  await rm(root, { recursive: true, force: true });
});

type Steps = Parameters<typeof nextStep>[1];

async function claudeTask(model: string, name: string, serve: (steps: Steps) => void) {
  const work = path.join(root, `${name}-work`);
  const home = path.join(root, `${name}-home`);
  await mkdir(work, { recursive: true });
  await mkdir(home, { recursive: true });
  const content = `hello from ${name}`;
  const steps = {
    readTool: 'Bash',
    write: () => `I will write the file.\n\n${renderCall('Write', { file_path: path.join(work, 'hello.txt'), content })}`,
    read: () => renderCall('Bash', { command: 'cat hello.txt', description: 'Show the file' }),
    answer: (output: string) => `The file says: ${output.trim()}`,
  };
  serve(steps);
  const result = await run(CLAUDE, ['-p', 'Write hello.txt, then show it with cat, then tell me what it printed.', '--output-format', 'json', '--allowedTools', 'Write,Bash'], work, {
    HOME: home,
    ANTHROPIC_BASE_URL: t.gw.url,
    ANTHROPIC_API_KEY: TOKEN,
    ANTHROPIC_MODEL: model,
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
    CLAUDE_CODE_MAX_RETRIES: '1',
  });
  return { result, work, content };
}

describe.skipIf(!AVAILABLE)('Claude Code with emulated tools', () => {
  it('on Gemini web: Write, then Bash reading it, then the answer; tool instructions sent once', async () => {
    const before = gemini.generates.length;
    const { result, work, content } = await claudeTask('gemini-3-pro', 'claude-gemini', (steps) => {
      gemini.reply = (request: GenerateRequest) => ({ final: { text: nextStep(request.prompt, steps) } });
    });
    expect(result.code, result.stderr + result.stdout).toBe(0);
    const answer = JSON.parse(result.stdout) as { result: string; is_error: boolean; num_turns: number };
    expect(answer.is_error).toBe(false);
    expect(answer.result).toBe(`The file says: ${content}`);
    expect(await readFile(path.join(work, 'hello.txt'), 'utf8')).toBe(content);

    const turns = gemini.generates.slice(before);
    expect(turns.length).toBe(3);
    const sizes = turns.map((g) => g.prompt.length);
    // eslint-disable-next-line no-console
    console.log(`Claude Code on Gemini, prompt chars sent upstream per turn: ${sizes.join(', ')}`);
    expect(turns[0]!.prompt).toContain('# Tools');
    expect(turns[0]!.prompt).toContain('### Bash');
    for (const later of turns.slice(1)) {
      expect(later.metadata[0]).toBe(turns[1]!.metadata[0]); // the same Gemini chat
      expect(later.metadata[0]).not.toBe('');
      expect(later.prompt).not.toContain('# Tools');
      expect(later.prompt.length).toBeLessThan(sizes[0]! / 20);
    }
  }, 200_000);

  it('on a g4f model marked text-only', async () => {
    let sawTools = false;
    const { result, work, content } = await claudeTask('plain-model', 'claude-textonly', (steps) => {
      textOnly.handler = (request) => {
        const messages = request.body.messages as Array<{ role: string; content: unknown }>;
        const last = messages[messages.length - 1]!;
        const told = typeof last.content === 'string' ? last.content : (last.content as Array<{ text?: string }>).map((p) => p.text ?? '').join('\n');
        if (request.body.tools !== undefined) sawTools = true;
        return { sse: textChunks(nextStep(told, steps), 3) };
      };
    });
    expect(sawTools).toBe(false); // tools went into the prompt, not the API
    expect(result.code, result.stderr + result.stdout).toBe(0);
    expect((JSON.parse(result.stdout) as { result: string }).result).toBe(`The file says: ${content}`);
    expect(await readFile(path.join(work, 'hello.txt'), 'utf8')).toBe(content);
  }, 200_000);
});

describe.skipIf(!AVAILABLE)('Codex with emulated tools on Gemini web', () => {
  it('writes a file with exec_command, reads it back, answers with what it printed', async () => {
    const home = await codexHome(path.join(root, 'codex-gemini-home'), 'gemini-3-pro', t.gw.url, { apply_patch_tool_type: null });
    const work = path.join(root, 'codex-gemini-work');
    await mkdir(work, { recursive: true });
    const text = 'hello from codex via gemini';
    const steps = {
      readTool: 'exec_command',
      write: () => renderCall('exec_command', { cmd: `printf '${text}' > note.txt` }),
      read: () => renderCall('exec_command', { cmd: 'cat note.txt' }),
      answer: (output: string) => `It printed: ${/Output:\n([\s\S]*)$/.exec(output)?.[1]?.trim() ?? output.trim()}`,
    };
    // The first exec_command result (the write) must lead to the read, not to the answer.
    let turn = 0;
    gemini.reply = (request: GenerateRequest) => {
      turn++;
      return { final: { text: turn === 1 ? steps.write() : turn === 2 ? steps.read() : nextStep(request.prompt, steps) } };
    };
    const before = gemini.generates.length;
    const result = await codexExec(home, work, 'Write the note, read it back, tell me what it printed.', TOKEN);
    expect(result.code, result.stderr + result.stdout).toBe(0);
    expect(await readFile(path.join(work, 'note.txt'), 'utf8')).toBe(text);
    expect(finalAgentMessage(result.stdout)).toBe(`It printed: ${text}`);
    const turns = gemini.generates.slice(before);
    // eslint-disable-next-line no-console
    console.log(`Codex on Gemini, prompt chars sent upstream per turn: ${turns.map((g) => g.prompt.length).join(', ')}`);
    expect(turns.slice(1).every((g) => g.metadata[0] !== '' && !g.prompt.includes('# Tools'))).toBe(true);
  }, 200_000);
});
