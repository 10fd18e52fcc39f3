// Web search through Gemini web (the fake) in each protocol, streamed and not: Anthropic's
// server_tool_use + web_search_tool_result + cited text + usage.server_tool_use, Responses'
// web_search_call items + url_citation annotations, Chat Completions' url_citation annotations.
// Both source layouts; the official SDKs parse every shape. A route that cannot search (g4f) refuses
// the tool, unless routing.web_search_model sends such requests to Gemini.
import path from 'node:path';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FakeGemini, PSID, PSIDTS, type FakeSearch } from '../fakes/gemini-web.js';
import { FakeUpstream, textChunks } from '../fakes/openai-upstream.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

const TOKEN = 'web-search-token-0123456789';
let gemini: FakeGemini;
let g4f: FakeUpstream;
let t: TestGateway;
let rerouting: TestGateway;

const SOURCES = [
  { url: 'https://example.org/weather/paris', title: 'Paris weather', snippet: 'Sunny, 21 °C', siteName: 'Example Weather' },
  { url: 'https://news.example.com/today', title: 'Today in Paris' },
];
const TEXT_A = 'Paris is sunny today at 21 °C. Tomorrow brings rain.';
const SEARCH_A: FakeSearch = { layout: 'A', sources: SOURCES, quotes: [{ quote: 'Paris is sunny today at 21 °C.', sources: [1, 2] }, { quote: 'Tomorrow brings rain.', sources: [2] }] };
const TEXT_B = 'Paris is sunny today. [cite: 1] Tomorrow brings rain. [cite: 1, 2]\n\nTake an umbrella.';
const SEARCH_B: FakeSearch = { layout: 'B', sources: SOURCES };

const config = (dir: string, extra = '') =>
  `auth:\n  bearer_token: ${TOKEN}\ng4f:\n  base_url: ${g4f.url}/v1\n  models: ["plain-*"]\n` +
  `gemini:\n  cookie_path: ${path.join(dir, 'gemini.json')}\n  endpoints:\n    gemini: ${gemini.url}\n    accounts: ${gemini.url}\n    upload: ${gemini.url}\n    google: ${gemini.url}\n` +
  `  models: [gemini-3-pro]\nrouting:\n  aliases:\n    "claude-*": gemini-3-pro\n${extra}`;
const cookies = { files: { 'gemini.json': JSON.stringify({ '__Secure-1PSID': PSID, '__Secure-1PSIDTS': PSIDTS }) } };

beforeAll(async () => {
  gemini = await new FakeGemini().start();
  g4f = await new FakeUpstream().start();
  g4f.handler = () => ({ sse: textChunks('plain answer', 2) });
  t = await startTestGateway((dir) => config(dir), cookies);
  rerouting = await startTestGateway((dir) => config(dir, '  web_search_model: gemini-3-pro\n'), cookies);
});
afterAll(async () => {
  await t.stop();
  await rerouting.stop();
  await gemini.stop();
  await g4f.stop();
});
beforeEach(() => {
  gemini.reply = () => ({ snapshots: [{ text: TEXT_A.slice(0, 12) }], final: { text: TEXT_A, search: SEARCH_A } });
});

const anthropic = (gw = t) => new Anthropic({ baseURL: gw.gw.url, apiKey: TOKEN, maxRetries: 0 });
const openai = (gw = t) => new OpenAI({ baseURL: `${gw.gw.url}/v1`, apiKey: TOKEN, maxRetries: 0 });
const WEB_SEARCH_TOOL = { type: 'web_search_20250305' as const, name: 'web_search' as const, max_uses: 8 };
const ask = 'Perform a web search for the query: weather in Paris today';

async function post(gw: TestGateway, url: string, body: unknown): Promise<{ status: number; text: string }> {
  const response = await fetch(`${gw.gw.url}${url}`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}`, 'anthropic-version': '2023-06-01' }, body: JSON.stringify(body) });
  return { status: response.status, text: await response.text() };
}

function sseEvents(text: string): Array<Record<string, unknown>> {
  return text
    .split('\n')
    .filter((line) => line.startsWith('data: ') && line !== 'data: [DONE]')
    .map((line) => JSON.parse(line.slice(6)) as Record<string, unknown>);
}

describe('Anthropic messages with the web_search server tool', () => {
  it('non-streaming, layout A: server_tool_use, web_search_tool_result, cited text, usage', async () => {
    const message = await anthropic().messages.create({ model: 'claude-sonnet-5', max_tokens: 1000, tools: [WEB_SEARCH_TOOL], messages: [{ role: 'user', content: ask }] });
    const [use, result, ...texts] = message.content;
    expect(use).toMatchObject({ type: 'server_tool_use', name: 'web_search', input: { query: 'weather in Paris today' } });
    expect(use!.type === 'server_tool_use' && use.id.startsWith('srvtoolu_')).toBe(true);
    expect(result).toMatchObject({ type: 'web_search_tool_result', tool_use_id: (use as { id: string }).id });
    const results = (result as unknown as { content: Array<Record<string, unknown>> }).content;
    expect(results.map((r) => [r.type, r.url, r.title])).toEqual([
      ['web_search_result', SOURCES[0]!.url, 'Paris weather'],
      ['web_search_result', SOURCES[1]!.url, 'Today in Paris'],
    ]);
    expect(texts.map((b) => (b.type === 'text' ? b.text : '')).join('')).toBe(TEXT_A);
    const cited = texts.find((b) => b.type === 'text' && b.citations?.length) as Anthropic.TextBlock;
    expect(cited.text).toBe('Paris is sunny today at 21 °C.');
    expect(cited.citations![0]).toMatchObject({ type: 'web_search_result_location', url: SOURCES[0]!.url, title: 'Paris weather', cited_text: 'Paris is sunny today at 21 °C.' });
    expect(message.usage.server_tool_use).toEqual({ web_search_requests: 1 });
  });

  it('streaming, layout B: the SDK assembles the same message; markers stripped', async () => {
    gemini.reply = () => ({ snapshots: [{ text: 'Paris is sunny today. [cit' }], final: { text: TEXT_B, search: SEARCH_B } });
    const stream = anthropic().messages.stream({ model: 'claude-sonnet-5', max_tokens: 1000, tools: [WEB_SEARCH_TOOL], messages: [{ role: 'user', content: ask }] });
    const types: string[] = [];
    stream.on('streamEvent', (event) => {
      if (event.type === 'content_block_start') types.push(event.content_block.type);
      if (event.type === 'content_block_delta') types.push(event.delta.type);
    });
    const message = await stream.finalMessage();
    expect(types.slice(0, 4)).toEqual(['server_tool_use', 'input_json_delta', 'web_search_tool_result', 'text']);
    expect(types).toContain('citations_delta');
    expect(message.content[0]).toMatchObject({ type: 'server_tool_use', input: { query: 'weather in Paris today' } });
    const texts = message.content.filter((b): b is Anthropic.TextBlock => b.type === 'text');
    expect(texts.map((b) => b.text).join('')).toBe('Paris is sunny today. Tomorrow brings rain.\n\nTake an umbrella.');
    const cited = texts.filter((b) => b.citations?.length);
    expect(cited.map((b) => [b.text, b.citations!.map((c) => (c as { url: string }).url)])).toEqual([
      ['Paris is sunny today.', [SOURCES[0]!.url]],
      ['Tomorrow brings rain.', [SOURCES[0]!.url, SOURCES[1]!.url]],
    ]);
    expect(message.usage.server_tool_use).toEqual({ web_search_requests: 1 });
  });

  it('layout B in the sparse "44" key, without tool markers: sources still reported', async () => {
    gemini.reply = () => ({ final: { text: TEXT_B, search: { ...SEARCH_B, sparse: true, noToolMarker: true } } });
    const message = await anthropic().messages.create({ model: 'claude-sonnet-5', max_tokens: 1000, tools: [WEB_SEARCH_TOOL], messages: [{ role: 'user', content: ask }] });
    expect(message.content.map((b) => b.type).slice(0, 2)).toEqual(['server_tool_use', 'web_search_tool_result']);
    expect(message.content.filter((b) => b.type === 'text').map((b) => (b as Anthropic.TextBlock).text).join('')).not.toContain('[cite');
  });

  it('no search by Gemini: plain text, no server blocks; forced search asks for it in the prompt', async () => {
    gemini.reply = () => ({ final: { text: 'I know this one.' } });
    const message = await anthropic().messages.create({
      model: 'claude-sonnet-5',
      max_tokens: 100,
      tools: [WEB_SEARCH_TOOL],
      tool_choice: { type: 'tool', name: 'web_search' },
      messages: [{ role: 'user', content: 'weather?' }],
    });
    expect(message.content).toEqual([{ type: 'text', text: 'I know this one.' }]);
    expect(message.usage.server_tool_use).toBeUndefined();
    expect(gemini.generates.at(-1)!.prompt).toContain('Search the web with Google Search before you answer');
  });

  it('without the tool, streamed cite markers never reach the client, even split across frames', async () => {
    gemini.reply = () => ({ snapshots: [{ text: 'Paris is sunny today. [ci' }, { text: 'Paris is sunny today. [cite: 1' }], final: { text: TEXT_B, search: SEARCH_B }, delayMs: 5 });
    const res = await post(t, '/v1/messages', { model: 'claude-sonnet-5', max_tokens: 100, stream: true, messages: [{ role: 'user', content: 'weather?' }] });
    const deltas = sseEvents(res.text).filter((e) => e.type === 'content_block_delta').map((e) => (e.delta as { text?: string }).text ?? '');
    expect(deltas.join('')).toBe('Paris is sunny today. Tomorrow brings rain.\n\nTake an umbrella.');
    expect(sseEvents(res.text).some((e) => JSON.stringify(e).includes('server_tool_use'))).toBe(false);
  });

  it('sources seen only in the final frame after streamed text: the search blocks follow the text', async () => {
    gemini.reply = () => ({ snapshots: [{ text: 'Paris is sunny today at 21 °C. Tomorrow' }], final: { text: TEXT_A, search: { ...SEARCH_A, noToolMarker: true } } });
    const message = await anthropic().messages.stream({ model: 'claude-sonnet-5', max_tokens: 1000, tools: [WEB_SEARCH_TOOL], messages: [{ role: 'user', content: ask }] }).finalMessage();
    expect(message.content.map((b) => b.type)).toEqual(['text', 'server_tool_use', 'web_search_tool_result', 'text']);
    expect(message.content.filter((b): b is Anthropic.TextBlock => b.type === 'text').map((b) => b.text).join('')).toBe(TEXT_A);
    expect(message.usage.server_tool_use).toEqual({ web_search_requests: 1 });
  });

  it('without the tool, sources are not reported (the answer is unchanged)', async () => {
    const message = await anthropic().messages.create({ model: 'claude-sonnet-5', max_tokens: 100, messages: [{ role: 'user', content: 'weather?' }] });
    expect(message.content).toEqual([{ type: 'text', text: TEXT_A }]);
  });

  it('a multi-turn history with the search blocks echoed back is accepted', async () => {
    const first = await anthropic().messages.create({ model: 'claude-sonnet-5', max_tokens: 1000, tools: [WEB_SEARCH_TOOL], messages: [{ role: 'user', content: ask }] });
    gemini.reply = () => ({ final: { text: 'You are welcome.' } });
    const second = await anthropic().messages.create({
      model: 'claude-sonnet-5',
      max_tokens: 100,
      tools: [WEB_SEARCH_TOOL],
      messages: [
        { role: 'user', content: ask },
        { role: 'assistant', content: first.content as Anthropic.ContentBlockParam[] },
        { role: 'user', content: 'thanks' },
      ],
    });
    expect(second.content).toEqual([{ type: 'text', text: 'You are welcome.' }]);
  });
});

describe('OpenAI Responses with the web_search tool', () => {
  it('non-streaming: a web_search_call item and url_citation annotations', async () => {
    const response = await openai().responses.create({ model: 'gemini-3-pro', tools: [{ type: 'web_search' }], input: 'weather in Paris today' });
    expect(response.output[0]).toMatchObject({ type: 'web_search_call', status: 'completed', action: { type: 'search', query: 'weather in Paris today' } });
    const message = response.output[1] as OpenAI.Responses.ResponseOutputMessage;
    const part = message.content[0] as OpenAI.Responses.ResponseOutputText;
    expect(part.text).toBe(TEXT_A);
    expect(part.annotations[0]).toEqual({ type: 'url_citation', start_index: 0, end_index: 30, url: SOURCES[0]!.url, title: 'Paris weather' });
    expect(part.text.slice(31, 52)).toBe('Tomorrow brings rain.');
    expect(part.annotations.at(-1)).toMatchObject({ start_index: 31, end_index: 52, url: SOURCES[1]!.url });
    expect(response.output_text).toBe(TEXT_A);
  });

  it('streaming (web_search_preview, layout B): item events and annotation.added; final response matches', async () => {
    gemini.reply = () => ({ final: { text: TEXT_B, search: SEARCH_B } });
    const stream = await openai().responses.create({ model: 'gemini-3-pro', tools: [{ type: 'web_search_preview' }], input: 'weather in Paris today', stream: true });
    const types: string[] = [];
    let completed: OpenAI.Responses.Response | undefined;
    for await (const event of stream) {
      types.push(event.type);
      if (event.type === 'response.completed') completed = event.response;
    }
    expect(types).toContain('response.web_search_call.completed');
    expect(types).toContain('response.output_text.annotation.added');
    const [call, message] = completed!.output;
    expect(call).toMatchObject({ type: 'web_search_call', action: { query: 'weather in Paris today', sources: [{ type: 'url', url: SOURCES[0]!.url }, { type: 'url', url: SOURCES[1]!.url }] } });
    const part = (message as OpenAI.Responses.ResponseOutputMessage).content[0] as OpenAI.Responses.ResponseOutputText;
    expect(part.text).toBe('Paris is sunny today. Tomorrow brings rain.\n\nTake an umbrella.');
    expect(part.annotations.map((a) => (a as { start_index: number; end_index: number }).start_index)).toEqual([0, 22, 22]);
  });

  it('with function tools too (emulated on Gemini): the search item and annotations survive the tool parser', async () => {
    const response = await openai().responses.create({
      model: 'gemini-3-pro',
      tools: [{ type: 'web_search' }, { type: 'function', name: 'exec_command', parameters: { type: 'object', properties: { cmd: { type: 'string' } } }, strict: false }],
      input: 'weather in Paris today',
    });
    expect(response.output.map((o) => o.type)).toEqual(['web_search_call', 'message']);
    const part = (response.output[1] as OpenAI.Responses.ResponseOutputMessage).content[0] as OpenAI.Responses.ResponseOutputText;
    expect(part.text).toBe(TEXT_A);
    expect(part.annotations.length).toBeGreaterThan(0);
    expect(gemini.generates.at(-1)!.prompt).toContain('exec_command');
    expect(gemini.generates.at(-1)!.prompt).not.toMatch(/### web_search/);
  });

  it("Codex's cached-mode tool (external_web_access: false) is no search request: g4f serves it", async () => {
    const response = await openai().responses.create({ model: 'plain-model', tools: [{ type: 'web_search', external_web_access: false } as unknown as OpenAI.Responses.WebSearchTool], input: 'hi' });
    expect(response.output_text).toBe('plain answer');
  });
});

describe('OpenAI Chat Completions with web search', () => {
  it('non-streaming (web_search_options): annotations on the message', async () => {
    const completion = await openai().chat.completions.create({ model: 'gemini-3-pro', web_search_options: {}, messages: [{ role: 'user', content: 'weather in Paris today' }] });
    const message = completion.choices[0]!.message;
    expect(message.content).toBe(TEXT_A);
    expect(message.annotations![0]).toEqual({ type: 'url_citation', url_citation: { start_index: 0, end_index: 30, url: SOURCES[0]!.url, title: 'Paris weather' } });
    expect(message.annotations!.length).toBe(3);
  });

  it('streaming: annotation chunks after the cited content', async () => {
    const stream = await openai().chat.completions.create({ model: 'gemini-3-pro', stream: true, web_search_options: {}, messages: [{ role: 'user', content: 'weather in Paris today' }] });
    let text = '';
    const annotations: unknown[] = [];
    for await (const chunk of stream) {
      const delta = chunk.choices[0]?.delta as { content?: string; annotations?: unknown[] } | undefined;
      text += delta?.content ?? '';
      annotations.push(...(delta?.annotations ?? []));
    }
    expect(text).toBe(TEXT_A);
    expect(annotations[0]).toEqual({ type: 'url_citation', url_citation: { start_index: 0, end_index: 30, url: SOURCES[0]!.url, title: 'Paris weather' } });
  });
});

describe('upstreams that cannot search', () => {
  it('refuse the tool in each protocol, naming routing.web_search_model', async () => {
    const a = await post(t, '/v1/messages', { model: 'plain-model', max_tokens: 100, tools: [WEB_SEARCH_TOOL], messages: [{ role: 'user', content: ask }] });
    expect(a.status).toBe(400);
    expect(JSON.parse(a.text)).toMatchObject({ type: 'error', error: { type: 'invalid_request_error' } });
    expect(a.text).toContain('routing.web_search_model');
    const r = await post(t, '/v1/responses', { model: 'plain-model', tools: [{ type: 'web_search' }], input: 'hi', stream: true });
    expect(r.status).toBe(400);
    expect(JSON.parse(r.text)).toMatchObject({ error: { code: 'web_search_unsupported', param: 'tools' } });
    const c = await post(t, '/v1/chat/completions', { model: 'plain-model', web_search_options: {}, messages: [{ role: 'user', content: 'hi' }] });
    expect(c.status).toBe(400);
    expect(JSON.parse(c.text)).toMatchObject({ error: { code: 'web_search_unsupported' } });
  });

  it('with routing.web_search_model, searching requests go to Gemini; others stay', async () => {
    const before = gemini.generates.length;
    const message = await anthropic(rerouting).messages.create({ model: 'plain-model', max_tokens: 1000, tools: [WEB_SEARCH_TOOL], messages: [{ role: 'user', content: ask }] });
    expect(message.model).toBe('plain-model');
    expect(message.content[0]!.type).toBe('server_tool_use');
    expect(gemini.generates.length).toBe(before + 1);
    const plain = await anthropic(rerouting).messages.create({ model: 'plain-model', max_tokens: 100, messages: [{ role: 'user', content: 'hi' }] });
    expect(plain.content).toEqual([{ type: 'text', text: 'plain answer' }]);
  });

  it('streamed SSE refusal is an HTTP 400 before any event', async () => {
    const res = await post(t, '/v1/messages', { model: 'plain-model', max_tokens: 100, stream: true, tools: [WEB_SEARCH_TOOL], messages: [{ role: 'user', content: ask }] });
    expect(res.status).toBe(400);
    expect(sseEvents(res.text)).toEqual([]);
  });
});
