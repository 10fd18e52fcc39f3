// The official SDKs and the Vercel AI SDK against the gateway over real HTTP on loopback, with a
// scripted provider behind it. These SDKs validate chunk shapes strictly: any drift in our event
// streams shows up here as a parse error.
import { createAnthropic } from '@ai-sdk/anthropic';
import { createOpenAI } from '@ai-sdk/openai';
import Anthropic from '@anthropic-ai/sdk';
import { generateText, jsonSchema, stepCountIs, streamText, tool } from 'ai';
import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ChatRequest } from '../../src/core/types.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { ScriptedProvider, registryWith, scripts, type Step } from '../helpers/scripted-provider.js';

const TOKEN = 'sdk-conformance-token-42';
const provider = new ScriptedProvider('g4f');
let t: TestGateway;
let base: string;

/** Asked with tools and no tool result yet: call get_weather; otherwise answer from the result. */
function agentScript(request: ChatRequest): Step[] {
  const last = request.messages[request.messages.length - 1];
  if (last?.role === 'tool') {
    const result = last.content[0];
    const text = result?.type === 'tool_result' && result.content[0]?.type === 'text' ? result.content[0].text : '?';
    return scripts.text(`The weather: ${text}`);
  }
  if (request.tools.some((t) => t.name === 'get_weather')) return scripts.toolCall('get_weather', '{"city":"Paris"}', `call_${request.messages.length}x`);
  return scripts.thinkingThenText();
}

beforeAll(async () => {
  t = await startTestGateway(`auth:\n  bearer_token: ${TOKEN}\ngemini:\n  enabled: false\ng4f:\n  models: ["gpt-4o", "*"]\n`, { providers: registryWith(provider) });
  base = t.gw.url;
});
afterAll(() => t.stop());
beforeEach(() => {
  provider.script = agentScript;
  provider.calls.length = 0;
});

const weatherSchema = { type: 'object' as const, properties: { city: { type: 'string' as const } }, required: ['city'] };

describe('openai SDK 6.49', () => {
  const client = () => new OpenAI({ baseURL: `${base}/v1`, apiKey: TOKEN, maxRetries: 0 });

  it('chat.completions non-stream and stream (with usage)', async () => {
    const once = await client().chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] });
    expect(once.choices[0]!.message.content).toBe('The answer is 42.');
    expect(once.usage?.total_tokens).toBe(50);

    const stream = await client().chat.completions.create({ model: 'gpt-4o', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'hi' }] });
    let text = '';
    let usage: unknown;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      if (chunk.usage) usage = chunk.usage;
    }
    expect(text).toBe('The answer is 42.');
    expect(usage).toMatchObject({ prompt_tokens: 30, completion_tokens: 20 });
  });

  it('chat tool round trip through the stream helper', async () => {
    const tools = [{ type: 'function' as const, function: { name: 'get_weather', parameters: weatherSchema } }];
    const runner = client().chat.completions.stream({ model: 'gpt-4o', tools, messages: [{ role: 'user', content: 'weather?' }] });
    const first = await runner.finalChatCompletion();
    const call = first.choices[0]!.message.tool_calls![0]!;
    expect(call.type === 'function' && call.function).toMatchObject({ name: 'get_weather', arguments: '{"city":"Paris"}' });
    const second = await client().chat.completions.create({
      model: 'gpt-4o',
      tools,
      messages: [{ role: 'user', content: 'weather?' }, first.choices[0]!.message, { role: 'tool', tool_call_id: call.id, content: 'sunny' }],
    });
    expect(second.choices[0]!.message.content).toBe('The weather: sunny');
  });

  it('responses.stream() to its final response, and responses.create', async () => {
    const stream = client().responses.stream({ model: 'gpt-5.5', input: 'hi' });
    const deltas: string[] = [];
    stream.on('response.output_text.delta', (e) => deltas.push(e.delta));
    const final = await stream.finalResponse();
    expect(final.output_text).toBe('The answer is 42.');
    expect(deltas.join('')).toBe('The answer is 42.');
    expect(final.output.map((o) => o.type)).toEqual(['reasoning', 'message']);

    const once = await client().responses.create({ model: 'gpt-5.5', input: 'hi' });
    expect(once.output_text).toBe('The answer is 42.');
    expect(once.usage?.total_tokens).toBe(50);
  });

  it('responses tool round trip with previous_response_id', async () => {
    const tools = [{ type: 'function' as const, name: 'get_weather', parameters: weatherSchema, strict: false }];
    const first = await client().responses.stream({ model: 'gpt-5.5', tools, input: 'weather?' }).finalResponse();
    const call = first.output.find((o) => o.type === 'function_call');
    expect(call).toMatchObject({ name: 'get_weather', arguments: '{"city":"Paris"}' });
    const second = await client().responses.create({
      model: 'gpt-5.5',
      tools,
      previous_response_id: first.id,
      input: [{ type: 'function_call_output', call_id: call!.type === 'function_call' ? call!.call_id : '', output: 'rainy' }],
    });
    expect(second.output_text).toBe('The weather: rainy');
  });

  it('models.list', async () => {
    const models = await client().models.list();
    expect(models.data.map((m) => m.id)).toContain('gpt-4o');
  });
});

describe('@anthropic-ai/sdk 1.14', () => {
  const client = () => new Anthropic({ baseURL: base, apiKey: TOKEN, maxRetries: 0 });

  it('messages.stream() to finalMessage(), with thinking', async () => {
    const stream = client().messages.stream({ model: 'claude-sonnet-4-5', max_tokens: 1024, messages: [{ role: 'user', content: 'hi' }] });
    const message = await stream.finalMessage();
    expect(message.content.map((b) => b.type)).toEqual(['thinking', 'text']);
    expect(message.content[1]).toMatchObject({ type: 'text', text: 'The answer is 42.' });
    expect(message.stop_reason).toBe('end_turn');
    expect(message.usage.output_tokens).toBe(20);
  });

  it('tool round trip (streamed tool input parsed by the SDK)', async () => {
    const tools = [{ name: 'get_weather', description: 'Weather', input_schema: weatherSchema }];
    const first = await client().messages.stream({ model: 'claude-sonnet-4-5', max_tokens: 1024, tools, messages: [{ role: 'user', content: 'weather?' }] }).finalMessage();
    const use = first.content.find((b) => b.type === 'tool_use');
    expect(use).toMatchObject({ name: 'get_weather', input: { city: 'Paris' } });
    expect(first.stop_reason).toBe('tool_use');
    const second = await client().messages.create({
      model: 'claude-sonnet-4-5',
      max_tokens: 1024,
      tools,
      messages: [
        { role: 'user', content: 'weather?' },
        { role: 'assistant', content: first.content },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: use!.type === 'tool_use' ? use!.id : '', content: 'foggy' }] },
      ],
    });
    expect(second.content[0]).toMatchObject({ type: 'text', text: 'The weather: foggy' });
  });

  it('countTokens and models.list', async () => {
    const count = await client().messages.countTokens({ model: 'claude-sonnet-4-5', messages: [{ role: 'user', content: 'Hello, world' }] });
    expect(count.input_tokens).toBeGreaterThan(0);
    const models = await client().models.list();
    expect(models.data.map((m) => m.id)).toContain('gpt-4o');
    expect(models.data[0]).toMatchObject({ type: 'model', display_name: expect.any(String) });
  });
});

describe('Vercel AI SDK 6', () => {
  const weatherTool = tool({
    description: 'Get the weather',
    inputSchema: jsonSchema<{ city: string }>(weatherSchema),
    execute: async ({ city }) => `clear skies in ${city}`,
  });
  const openai = () => createOpenAI({ baseURL: `${base}/v1`, apiKey: TOKEN });
  const anthropic = () => createAnthropic({ baseURL: `${base}/v1`, apiKey: TOKEN });
  const models = {
    'openai chat': () => openai().chat('gpt-4o'),
    'openai responses': () => openai().responses('gpt-5.5'),
    anthropic: () => anthropic()('claude-sonnet-4-5'),
  };

  for (const [name, model] of Object.entries(models)) {
    it(`${name}: generateText and streamText with a tool`, async () => {
      const generated = await generateText({ model: model(), prompt: 'weather?', tools: { get_weather: weatherTool }, stopWhen: stepCountIs(3) });
      expect(generated.steps[0]!.toolCalls[0]).toMatchObject({ toolName: 'get_weather', input: { city: 'Paris' } });
      expect(generated.text).toBe('The weather: clear skies in Paris');

      const streamed = streamText({ model: model(), prompt: 'weather?', tools: { get_weather: weatherTool }, stopWhen: stepCountIs(3) });
      let text = '';
      for await (const delta of streamed.textStream) text += delta;
      expect(text).toBe('The weather: clear skies in Paris');
      expect((await streamed.steps).length).toBe(2);
    });
  }
});
