// Golden tests: the exact bytes each protocol sends for each canonical scenario. Ids and times
// are normalized (same id -> same placeholder, so reuse within a stream stays checked).
// UPDATE_GOLDEN=1 rewrites the files; review the diff before committing.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appFor, type TestApp } from '../helpers/app.js';
import { ScriptedProvider, registryWith, scripts, type Step } from '../helpers/scripted-provider.js';

const DIR = path.resolve('test/golden');

const SCENARIOS: Record<string, () => Step[]> = {
  text: () => scripts.text(),
  'thinking-then-text': scripts.thinkingThenText,
  'tool-call': () => scripts.toolCall(),
  'parallel-tool-calls': scripts.parallelToolCalls,
  'text-then-tool-call': scripts.textThenToolCall,
  'custom-tool-call': scripts.customToolCall,
  'max-tokens': scripts.maxTokens,
  'error-before-first-byte': scripts.errorBeforeOutput,
  'error-after-first-byte': scripts.errorAfterOutput,
};

const TOOLS = {
  anthropic: [{ name: 'get_weather', description: 'Weather', input_schema: { type: 'object', properties: { city: { type: 'string' } } } }],
  openai: [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }],
  responses: [{ type: 'function', name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } }],
};

const PROTOCOLS = {
  anthropic: (stream: boolean) => ({
    url: '/v1/messages',
    payload: { model: 'claude-sonnet-4-5', max_tokens: 1024, stream, tools: TOOLS.anthropic, messages: [{ role: 'user', content: 'What is the weather in Paris?' }] },
  }),
  'openai-chat': (stream: boolean) => ({
    url: '/v1/chat/completions',
    payload: { model: 'gpt-4o', stream, stream_options: stream ? { include_usage: true } : undefined, tools: TOOLS.openai, messages: [{ role: 'user', content: 'What is the weather in Paris?' }] },
  }),
  'openai-responses': (stream: boolean) => ({
    url: '/v1/responses',
    payload: { model: 'gpt-5.5', stream, tools: TOOLS.responses, input: 'What is the weather in Paris?' },
  }),
};

export function normalize(text: string): string {
  const seen = new Map<string, string>();
  return text
    .replace(/\b(msg_|resp_|rs_|fc_|ctc_|toolu_|call_|chatcmpl-)[A-Za-z0-9]{24}\b/g, (id, prefix: string) => {
      if (!seen.has(id)) seen.set(id, `${prefix}<${seen.size + 1}>`);
      return seen.get(id)!;
    })
    .replace(/"(created|created_at)":( ?)\d+/g, '"$1":$20');
}

let t: TestApp;
const provider = new ScriptedProvider('g4f');
beforeAll(async () => {
  // No retries here: these files pin what one failing attempt looks like to the client.
  t = await appFor('g4f:\n  models: ["*"]\n  fallback:\n    enabled: false\ngemini:\n  enabled: false\n', { providers: registryWith(provider) });
});
afterAll(() => t.app.close());

describe.each(Object.keys(PROTOCOLS) as Array<keyof typeof PROTOCOLS>)('%s golden output', (protocol) => {
  for (const stream of [true, false]) {
    for (const [scenario, script] of Object.entries(SCENARIOS)) {
      // Anthropic has no freeform tools: a custom call never reaches an Anthropic client.
      if (scenario === 'custom-tool-call' && protocol === 'anthropic') continue;
      it(`${scenario} (${stream ? 'stream' : 'json'})`, async () => {
        provider.script = script();
        const { url, payload } = PROTOCOLS[protocol](stream);
        const res = await t.app.inject({ method: 'POST', url, payload });
        let body = res.body;
        if (res.headers['content-type']?.toString().startsWith('application/json')) body = JSON.stringify(JSON.parse(body), null, 2) + '\n';
        const actual = normalize(`HTTP ${res.statusCode} ${String(res.headers['content-type'])}\n\n${body}`);
        const file = path.join(DIR, protocol, `${scenario}.${stream ? 'sse' : 'json'}.txt`);
        if (process.env.UPDATE_GOLDEN || !existsSync(file)) {
          if (!process.env.UPDATE_GOLDEN && process.env.CI) throw new Error(`missing golden file ${file}`);
          mkdirSync(path.dirname(file), { recursive: true });
          writeFileSync(file, actual);
        }
        expect(actual).toBe(readFileSync(file, 'utf8'));
      });
    }
  }
});
