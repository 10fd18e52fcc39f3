// The real Claude Code CLI's WebSearch tool through the gateway against the fake Gemini web app.
// The main loop (emulated tools) calls WebSearch; Claude Code then asks /v1/messages with the
// web_search server tool, which Gemini answers with Google Search sources; Claude Code turns the
// server_tool_use / web_search_tool_result / cited text into its tool result, and the model answers
// from it. The test checks the search request, what the WebSearch tool gave the model, and the answer.
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderCall } from '../../src/tools/format.js';
import { FakeGemini, PSID, PSIDTS, type GenerateRequest } from '../fakes/gemini-web.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { CLAUDE, installed, run } from './agents-helpers.js';

const AVAILABLE = installed(CLAUDE);
const TOKEN = 'e2e-web-search-token-0123456789';
let gemini: FakeGemini;
let t: TestGateway;
let root: string;

const SOURCES = [
  { url: 'https://example.org/weather/paris', title: 'Paris weather today', snippet: 'Sunny, 21 °C' },
  { url: 'https://news.example.com/paris', title: 'Paris news' },
];
const SEARCH_TEXT = 'Paris is sunny today at 21 °C. Rain is expected tomorrow.';

beforeAll(async () => {
  if (!AVAILABLE) return;
  root = await mkdtemp(path.join(tmpdir(), 'gw-e2e-search-'));
  gemini = await new FakeGemini().start();
  t = await startTestGateway(
    (dir) =>
      `auth:\n  bearer_token: ${TOKEN}\n` +
      `gemini:\n  cookie_path: ${path.join(dir, 'gemini.json')}\n  endpoints:\n    gemini: ${gemini.url}\n    accounts: ${gemini.url}\n    upload: ${gemini.url}\n    google: ${gemini.url}\n` +
      `  models: [gemini-3-pro]\nrouting:\n  aliases:\n    "claude-*": gemini-3-pro\n`,
    { files: { 'gemini.json': JSON.stringify({ '__Secure-1PSID': PSID, '__Secure-1PSIDTS': PSIDTS }) } },
  );
});
afterAll(async () => {
  if (!AVAILABLE) return;
  await t.stop();
  await gemini.stop();
  await rm(root, { recursive: true, force: true });
});

describe.skipIf(!AVAILABLE)('Claude Code WebSearch on Gemini web', () => {
  it('searches through the web_search server tool and answers from the results', async () => {
    let toolResult = '';
    gemini.reply = (request: GenerateRequest) => {
      if (request.prompt.includes('Perform a web search for the query')) {
        return { snapshots: [{ text: 'Paris is' }], final: { text: SEARCH_TEXT, search: { layout: 'A', sources: SOURCES, quotes: [{ quote: 'Paris is sunny today at 21 °C.', sources: [1, 2] }] } } };
      }
      const result = /Tool result for WebSearch \([^)]*\):\n```\n([\s\S]*?)\n```/.exec(request.prompt);
      if (result) {
        toolResult = result[1]!;
        return { final: { text: `Sunny, 21 °C, per [Paris weather today](${SOURCES[0]!.url}).` } };
      }
      return { final: { text: renderCall('WebSearch', { query: 'weather in Paris today' }) } };
    };
    const work = path.join(root, 'work');
    const home = path.join(root, 'home');
    await mkdir(work, { recursive: true });
    await mkdir(home, { recursive: true });
    const before = gemini.generates.length;
    const result = await run(CLAUDE, ['-p', 'What is the weather in Paris today? Search the web.', '--output-format', 'json', '--allowedTools', 'WebSearch'], work, {
      HOME: home,
      ANTHROPIC_BASE_URL: t.gw.url,
      ANTHROPIC_API_KEY: TOKEN,
      ANTHROPIC_MODEL: 'claude-sonnet-5',
      CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
      CLAUDE_CODE_MAX_RETRIES: '1',
    });
    const prompts = gemini.generates.slice(before).map((g) => g.prompt.slice(0, 200).replace(/\n/g, ' '));
    // eslint-disable-next-line no-console
    console.log(`Claude Code WebSearch: exit ${result.code}\nstdout: ${result.stdout}\nstderr: ${result.stderr.slice(0, 2000)}\nGemini prompts: ${JSON.stringify(prompts, null, 1)}\nWebSearch tool result given to the model:\n${toolResult}`);
    expect(result.code, result.stderr + result.stdout).toBe(0);
    const answer = JSON.parse(result.stdout) as { result: string; is_error: boolean };
    expect(answer.is_error).toBe(false);
    expect(answer.result).toContain('Sunny, 21 °C');
    expect(gemini.generates.slice(before).some((g) => g.prompt.includes('Perform a web search for the query: weather in Paris today'))).toBe(true);
    expect(toolResult).toContain('Web search results for query: "weather in Paris today"');
    expect(toolResult).toContain(SOURCES[0]!.url);
    expect(toolResult).toContain('Paris weather today');
    expect(toolResult).toContain(SOURCES[1]!.url);
  }, 200_000);
});
