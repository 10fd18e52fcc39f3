import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ChatEvent, ChatRequest } from '../../src/core/types.js';
import { parseCall, unescapeMarkdown } from '../../src/tools/args.js';
import { emulateTools, rewriteForTextModel } from '../../src/tools/emulate.js';
import { renderCall } from '../../src/tools/format.js';
import { ToolStreamParser, type Piece } from '../../src/tools/parser.js';
import { MemoryTtlStore } from '../../src/state/ttl-store.js';
import { ScriptedProvider } from '../helpers/scripted-provider.js';
import { settle } from '../helpers/settle.js';

/** The model's own words, as the pipeline keeps them (one store per test file, like one process). */
const ownWords = new MemoryTtlStore<string>(5000, 3_600_000);

const TOOLS: ChatRequest['tools'] = [
  { name: 'get_weather', description: 'Weather for a city', parameters: { $schema: 'https://json-schema.org/draft/2020-12/schema', type: 'object', properties: { city: { type: 'string' }, days: { type: 'integer', minimum: 1 }, metric: { type: 'boolean' }, tags: { type: 'array', items: { type: 'string' } } }, required: ['city'], additionalProperties: false } },
  { name: 'run_cmd', parameters: { type: 'object', properties: { cmd: { type: 'string' } }, required: ['cmd'] } },
];

function parseAll(chunks: string[]): Piece[] {
  const parser = new ToolStreamParser();
  const pieces = [...chunks.flatMap((c) => parser.push(c)), ...parser.end()];
  // Adjacent text pieces are one text for comparison.
  const merged: Piece[] = [];
  for (const p of pieces) {
    const last = merged[merged.length - 1];
    if (p.type === 'text' && last?.type === 'text') last.text += p.text;
    else merged.push({ ...p });
  }
  return merged;
}

const ANSWER = [
  'Let me check the weather.\n',
  'Here is some `inline` code and a block:\n```js\nconst x = "```toolcall";\n```\n',
  renderCall('get_weather', { city: 'Paris', days: 2, metric: true, tags: ['a', 'b'] }) + '\n',
  renderCall('run_cmd', { cmd: 'echo "hi" && ls' }) + '\n',
].join('');

describe('streaming tool-call parser', () => {
  it('separates visible text from call blocks', () => {
    const pieces = parseAll([ANSWER]);
    expect(pieces.filter((p) => p.type === 'call').map((p) => JSON.parse((p as { raw: string }).raw).name)).toEqual(['get_weather', 'run_cmd']);
    const text = pieces.filter((p) => p.type === 'text').map((p) => (p as { text: string }).text).join('');
    expect(text).toBe('Let me check the weather.\nHere is some `inline` code and a block:\n```js\nconst x = "```toolcall";\n```\n');
    expect(text).not.toContain('"name"');
  });

  it('property: every split of the answer into chunks gives the same pieces, and no protocol text is visible', () => {
    const expected = parseAll([ANSWER]);
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 1, max: ANSWER.length - 1 }), { maxLength: 30 }), (cuts) => {
        const points = [0, ...cuts.sort((a, b) => a - b), ANSWER.length];
        const pieces = parseAll(points.slice(1).map((end, i) => ANSWER.slice(points[i]!, end)));
        expect(pieces).toEqual(expected);
        for (const p of pieces) if (p.type === 'text') expect(p.text).not.toMatch(/^```toolcall$/m);
      }),
      { numRuns: 500 },
    );
  });

  it('property: generated answers (text, code blocks, calls in any order) never leak a call into text', () => {
    const text = fc.constantFrom('Sure. ', 'Use `x`.\n', '**bold** _i_\n', '```py\nprint(1)\n```\n', 'a ` b `` c\n', 'émoji 😀\n', '\n');
    const call = fc.record({ city: fc.string({ maxLength: 8 }), days: fc.integer({ min: 1, max: 9 }) }).map((a) => `${renderCall('get_weather', a)}\n`);
    fc.assert(
      fc.property(fc.array(fc.oneof(text, call), { minLength: 1, maxLength: 8 }), fc.array(fc.integer({ min: 1, max: 400 }), { maxLength: 12 }), (segments, cutsRaw) => {
        const answer = segments.join('');
        const cuts = [...new Set(cutsRaw.filter((c) => c < answer.length))].sort((a, b) => a - b);
        const points = [0, ...cuts, answer.length];
        const pieces = parseAll(points.slice(1).map((end, i) => answer.slice(points[i]!, end)));
        const calls = pieces.filter((p) => p.type === 'call');
        expect(calls).toHaveLength(segments.filter((s) => s.startsWith('```toolcall')).length);
        for (const p of pieces) if (p.type === 'text') expect(p.text).not.toContain('```toolcall');
      }),
      { numRuns: 300 },
    );
  });

  it('recognises Markdown-escaped fences and closes an unterminated block at the end', () => {
    const escaped = 'Ok\n\\`\\`\\`toolcall\n{"name": "get\\_weather", "arguments": {"city": "Oslo"}}\n\\`\\`\\`\n';
    expect(parseAll([escaped]).map((p) => p.type)).toEqual(['text', 'call']);
    const open = parseAll(['```toolcall\n{"name": "run_cmd", "arguments": {"cmd": "ls"}}']);
    expect(open).toEqual([{ type: 'call', raw: '{"name": "run_cmd", "arguments": {"cmd": "ls"}}', closed: false }]);
  });
});

describe('call arguments', () => {
  it('keeps JSON types and validates them against the schema (draft 2020-12)', () => {
    expect(parseCall('{"name": "get_weather", "arguments": {"city": "Paris", "days": 3, "metric": false, "tags": ["x"]}}', TOOLS)).toEqual({
      ok: true,
      name: 'get_weather',
      args: { city: 'Paris', days: 3, metric: false, tags: ['x'] },
    });
    const wrong = parseCall('{"name": "get_weather", "arguments": {"city": "Paris", "days": "three", "extra": 1}}', TOOLS);
    expect(wrong.ok).toBe(false);
    expect(!wrong.ok && wrong.error).toContain('arguments.days must be integer');
    expect(!wrong.ok && wrong.error).toContain('must NOT have additional properties (extra)');
    expect(parseCall('{"name": "nope", "arguments": {}}', TOOLS)).toMatchObject({ ok: false, error: expect.stringContaining('no tool named "nope"') });
  });

  it('escaped, entity-encoded and almost-JSON variants parse to the same arguments', () => {
    const expected = { ok: true, name: 'get_weather', args: { city: 'São_Paulo [centre]', days: 2 } };
    const variants = [
      '{"name": "get_weather", "arguments": {"city": "São_Paulo [centre]", "days": 2}}',
      '{"name": "get\\_weather", "arguments": {"city": "São\\_Paulo \\[centre\\]", "days": 2}}',
      '{&quot;name&quot;: &quot;get_weather&quot;, &quot;arguments&quot;: {&quot;city&quot;: &quot;São_Paulo [centre]&quot;, &quot;days&quot;: 2}}',
      "{name: 'get_weather', arguments: {city: 'São_Paulo [centre]', days: 2,},}",
      '{"name": "get_weather", "arguments": "{\\"city\\": \\"São_Paulo [centre]\\", \\"days\\": 2}"}',
    ];
    for (const v of variants) expect(parseCall(v, TOOLS), v).toEqual(expected);
  });

  it('leaves JSON escapes alone while dropping Markdown ones', () => {
    expect(unescapeMarkdown('"a\\\\b \\n \\" \\_x \\*y"')).toBe('"a\\\\b \\n \\" _x *y"');
  });
});

function request(overrides: Partial<ChatRequest> = {}): ChatRequest {
  return { model: 'gemini-3-pro', system: [{ type: 'text', text: 'Be helpful.' }], messages: [{ role: 'user', content: [{ type: 'text', text: 'Weather in Paris?' }] }], tools: TOOLS, toolChoice: { type: 'auto' }, stream: true, ...overrides };
}

async function events(provider: ScriptedProvider, req: ChatRequest): Promise<ChatEvent[]> {
  const out: ChatEvent[] = [];
  const context = { signal: new AbortController().signal, log: { debug() {}, info() {}, warn() {}, error() {} }, requestId: 'r', upstreamModel: req.model };
  for await (const e of emulateTools(provider, req, context, ownWords)) out.push(e);
  return settle(out);
}

const textOf = (evs: ChatEvent[]) => evs.filter((e) => e.type === 'text-delta').map((e) => (e as { text: string }).text).join('');
const callsOf = (evs: ChatEvent[]) => evs.filter((e) => e.type === 'tool-call-start').map((e) => (e as { name: string }).name);
const argsOf = (evs: ChatEvent[]) => evs.filter((e) => e.type === 'tool-call-delta').map((e) => JSON.parse((e as { argumentsDelta: string }).argumentsDelta) as unknown);

describe('tool emulation over a text-only provider', () => {
  it('puts the tools in the system prompt and history calls/results in the same protocol', async () => {
    const rewritten = await rewriteForTextModel(
      request({
        messages: [
          { role: 'user', content: [{ type: 'text', text: 'Weather?' }] },
          { role: 'assistant', content: [{ type: 'text', text: 'Checking.' }, { type: 'tool_call', id: 'toolu_1', name: 'get_weather', arguments: '{"city":"Paris"}' }] },
          { role: 'tool', content: [{ type: 'tool_result', callId: 'toolu_1', content: [{ type: 'text', text: 'sunny' }] }] },
        ],
      }),
      ownWords,
    );
    expect(rewritten.tools).toEqual([]);
    const instructions = rewritten.system.at(-1)!.text;
    expect(instructions).toContain('### get_weather');
    expect(instructions).not.toContain('$schema');
    expect(rewritten.messages[1]!.content.at(-1)).toEqual({ type: 'text', text: 'Checking.\n\n```toolcall\n{"name":"get_weather","arguments":{"city":"Paris"}}\n```' });
    expect(rewritten.messages[2]).toEqual({ role: 'user', content: [{ type: 'text', text: 'Tool result for get_weather (toolu_1):\n```\nsunny\n```' }] });
  });

  it('streams text before a call, then two parallel calls after thinking', async () => {
    const provider = new ScriptedProvider('gemini');
    const answer = `Let me look.\n${renderCall('get_weather', { city: 'Paris', days: 2 })}\n${renderCall('run_cmd', { cmd: 'date' })}\n`;
    provider.script = [{ type: 'thinking-delta', text: 'Need tools.' }, ...[...answer].reduce<string[]>((acc, ch, i) => (i % 7 ? ((acc[acc.length - 1] += ch), acc) : [...acc, ch]), []).map((t) => ({ type: 'text-delta' as const, text: t })), { type: 'finish', reason: 'stop' }];
    const out = await events(provider, request());
    expect(out[0]).toEqual({ type: 'thinking-delta', text: 'Need tools.' });
    expect(textOf(out)).toBe('Let me look.\n');
    expect(callsOf(out)).toEqual(['get_weather', 'run_cmd']);
    expect(argsOf(out)).toEqual([{ city: 'Paris', days: 2 }, { cmd: 'date' }]);
    expect(out.at(-1)).toEqual({ type: 'finish', reason: 'tool_calls' });
    expect(provider.calls[0]!.request.tools).toEqual([]);
  });

  it('re-asks once with the validation error, then emits the corrected call', async () => {
    const provider = new ScriptedProvider('gemini');
    provider.script = (req) => (req.messages.length === 1 ? [{ type: 'text-delta', text: renderCall('get_weather', { city: 7 }) }, { type: 'finish', reason: 'stop' }] : [{ type: 'text-delta', text: renderCall('get_weather', { city: 'Rome' }) }, { type: 'finish', reason: 'stop' }]);
    const out = await events(provider, request());
    expect(argsOf(out)).toEqual([{ city: 'Rome' }]);
    expect(provider.calls).toHaveLength(2);
    const correction = provider.calls[1]!.request.messages.at(-1)!.content[0] as { text: string };
    expect(correction.text).toContain('arguments.city must be string');
  });

  it('after a second invalid call, shows the problem as text with finish stop, never a malformed call', async () => {
    const provider = new ScriptedProvider('gemini');
    provider.script = () => [{ type: 'text-delta', text: '```toolcall\n{"name": "get_weather", "arguments": {"days": 1}}\n```' }, { type: 'finish', reason: 'stop' }];
    const out = await events(provider, request());
    expect(callsOf(out)).toEqual([]);
    expect(textOf(out)).toContain("tool call could not be used: the arguments for get_weather do not match its schema: arguments must have required property 'city'");
    expect(out.at(-1)).toEqual({ type: 'finish', reason: 'stop' });
  });

  it('tool_choice required: re-asks once when the answer has no call', async () => {
    const provider = new ScriptedProvider('gemini');
    provider.script = (req) => (req.messages.length === 1 ? [{ type: 'text-delta', text: 'It is probably sunny.' }, { type: 'finish', reason: 'stop' }] : [{ type: 'text-delta', text: renderCall('get_weather', { city: 'Paris' }) }, { type: 'finish', reason: 'stop' }]);
    const out = await events(provider, request({ toolChoice: { type: 'tool', name: 'get_weather' } }));
    expect(callsOf(out)).toEqual(['get_weather']);
    expect(provider.calls[0]!.request.system.at(-1)!.text).toContain('you must call the tool `get_weather`');
    expect((provider.calls[1]!.request.messages.at(-1)!.content[0] as { text: string }).text).toContain('You must call the tool `get_weather` now');
  });

  it('tool_choice none: no tool instructions, answers pass through', async () => {
    const provider = new ScriptedProvider('gemini');
    provider.script = [{ type: 'text-delta', text: 'Plain answer.' }, { type: 'finish', reason: 'stop' }];
    const out = await events(provider, request({ toolChoice: { type: 'none' } }));
    expect(textOf(out)).toBe('Plain answer.');
    expect(provider.calls[0]!.request.system.map((s) => s.text)).toEqual(['Be helpful.']);
  });

  it('replays the model\'s own words for an answer the client sends back', async () => {
    const provider = new ScriptedProvider('gemini');
    const raw = 'Sure thing.\n\n```toolcall\n{ "name" : "run_cmd",  "arguments" : { "cmd" : "ls" } }\n```';
    provider.script = [{ type: 'text-delta', text: raw }, { type: 'finish', reason: 'stop' }];
    const out = await events(provider, request());
    const id = (out.find((e) => e.type === 'tool-call-start') as { id: string }).id;
    const next = await rewriteForTextModel(
      request({
        messages: [
          { role: 'user', content: [{ type: 'text', text: 'Weather in Paris?' }] },
          { role: 'assistant', content: [{ type: 'text', text: 'Sure thing.\n\n' }, { type: 'tool_call', id, name: 'run_cmd', arguments: '{"cmd":"ls"}' }] },
          { role: 'tool', content: [{ type: 'tool_result', callId: id, content: [{ type: 'text', text: 'a.txt' }] }] },
        ],
      }),
      ownWords,
    );
    expect(next.messages[1]!.content.at(-1)).toEqual({ type: 'text', text: raw });
  });
});
