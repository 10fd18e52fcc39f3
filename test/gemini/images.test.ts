// Images (issue 17): the OpenAI Images API on Gemini web (generations and edits, url and
// b64_json), the disk cache, the official openai SDK and the AI SDK. Real HTTP against the fake.
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { createOpenAI } from '@ai-sdk/openai';
import { generateImage } from 'ai';
import OpenAI, { toFile } from 'openai';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeGemini } from '../fakes/gemini-web.js';
import { cookieJson, endpointsYaml } from '../helpers/gemini.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

const TOKEN = 'gemini-images-token-0000';
const auth = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };
const PNG = Buffer.from('89504e470d0a1a0a', 'hex');
let fake: FakeGemini;
let t: TestGateway | undefined;

beforeEach(async () => {
  fake = await new FakeGemini().start();
  // Every turn draws one cat (a new image id each turn).
  let turn = 0;
  fake.reply = () => ({ final: { text: 'Here is your image', images: [{ url: fake.generatedImageUrl(`cat${++turn}`), alt: 'a cat', generated: true }] } });
});
afterEach(async () => {
  await t?.stop();
  t = undefined;
  await fake.stop();
});

async function gateway(extra = '', files: Record<string, string> = { 'gemini.json': cookieJson() }): Promise<TestGateway> {
  t = await startTestGateway(
    (dir) =>
      `auth:\n  bearer_token: ${TOKEN}\ng4f:\n  enabled: false\n` +
      `gemini:\n  cookie_path: ${path.join(dir, 'gemini.json')}\n  auto_refresh: false\n${endpointsYaml(fake.url)}` +
      `  image_cache:\n    dir: ${path.join(dir, 'images')}\n${extra}`,
    { files },
  );
  return t;
}

async function post(url: string, body: unknown) {
  const res = await fetch(`${t!.gw.url}${url}`, { method: 'POST', headers: auth, body: JSON.stringify(body) });
  return { status: res.status, text: await res.text() };
}

/** The fake's full-size image: the PNG signature and 4096 bytes. */
const FULL = Buffer.concat([PNG, Buffer.alloc(4096)]);

describe('POST /v1/images/generations', () => {
  it('b64_json is the full-size image; the prompt asks Gemini for an image', async () => {
    await gateway();
    const res = await post('/v1/images/generations', { model: 'gemini-3.1-pro', prompt: 'a cat on a mat', response_format: 'b64_json' });
    expect(res.status, res.text).toBe(200);
    const body = JSON.parse(res.text) as { created: number; data: Array<{ b64_json: string; revised_prompt?: string }>; output_format: string };
    expect(body.data).toHaveLength(1);
    expect(Buffer.from(body.data[0]!.b64_json, 'base64').equals(FULL)).toBe(true);
    expect(body.output_format).toBe('png');
    expect(fake.generates[0]!.prompt).toContain('Generate an image: a cat on a mat');
    expect(fake.generates[0]!.inner[49], "the web app's image tool is selected").toBe(14);
    expect(fake.imageHops.some((h) => h.includes('/rd-gg-dl/cat1=s0'))).toBe(true);
  });

  it('url is a signed gateway link that serves the image; a second fetch comes from the disk cache', async () => {
    await gateway();
    const res = await post('/v1/images/generations', { model: 'gemini-3.1-pro', prompt: 'a cat', response_format: 'url' });
    expect(res.status, res.text).toBe(200);
    const url = (JSON.parse(res.text) as { data: Array<{ url: string }> }).data[0]!.url;
    expect(url.startsWith(`${t!.gw.url}/images/`)).toBe(true);
    const hops = fake.imageHops.length;
    expect(hops, 'the bytes were fetched once while generating').toBeGreaterThan(0);
    for (let i = 0; i < 2; i++) {
      const image = await fetch(url);
      expect(image.status).toBe(200);
      expect(image.headers.get('content-type')).toBe('image/png');
      expect(Buffer.from(await image.arrayBuffer()).equals(FULL)).toBe(true);
    }
    expect(fake.imageHops.length, 'served from the cache, not from Google').toBe(hops);
    expect((await readdir(path.join(t!.dir, 'images'))).filter((f) => f.endsWith('.png'))).toHaveLength(1);
    const forged = await fetch(`${url.slice(0, -3)}abc`);
    expect(forged.status).toBe(404);
  });

  it('the cache keeps at most max_bytes: the least recently used image goes', async () => {
    await gateway('    max_bytes: 9000\n');
    for (let i = 0; i < 3; i++) expect((await post('/v1/images/generations', { prompt: `cat ${i}` })).status).toBe(200);
    expect((await readdir(path.join(t!.dir, 'images'))).sort()).toHaveLength(2);
  });

  it('the model routes like a chat model: an alias reaches the Gemini model it names', async () => {
    t = await startTestGateway(
      (dir) =>
        `auth:\n  bearer_token: ${TOKEN}\ng4f:\n  enabled: false\nrouting:\n  aliases:\n    dall-e-3: gemini-3.1-pro\n` +
        `gemini:\n  cookie_path: ${path.join(dir, 'gemini.json')}\n  auto_refresh: false\n${endpointsYaml(fake.url)}  image_cache:\n    dir: ${path.join(dir, 'images')}\n`,
      { files: { 'gemini.json': cookieJson() } },
    );
    const res = await post('/v1/images/generations', { model: 'dall-e-3', prompt: 'a cat' });
    expect(res.status, res.text).toBe(200);
    expect(fake.generates).toHaveLength(1);
  });

  it('n = 2 makes two turns, one image each', async () => {
    await gateway();
    const res = await post('/v1/images/generations', { model: 'gemini-3.1-pro', prompt: 'cats', n: 2 });
    expect(res.status, res.text).toBe(200);
    expect((JSON.parse(res.text) as { data: unknown[] }).data).toHaveLength(2);
    expect(fake.generates).toHaveLength(2);
  });

  it('a text answer without an image is an error that quotes it; guests get a 400; bad fields a 400', async () => {
    await gateway();
    fake.reply = () => ({ final: { text: 'I cannot draw that' } });
    const refused = await post('/v1/images/generations', { prompt: 'something' });
    expect(refused.status).toBeGreaterThanOrEqual(500);
    expect(JSON.parse(refused.text).error).toMatchObject({ code: 'no_image_generated', message: expect.stringContaining('I cannot draw that') });
    expect((await post('/v1/images/generations', { prompt: 'x', response_format: 'png' })).status).toBe(400);
    expect((await post('/v1/images/generations', {})).status).toBe(400);
    expect((await post('/v1/images/generations', { prompt: 'x', stream: true })).status).toBe(400);
    const unknown = await post('/v1/images/generations', { prompt: 'x', model: 'gpt-4o' });
    expect(unknown.status, 'an unknown model: as in chat').toBe(404);
    expect(JSON.parse(unknown.text).error.code).toBe('model_not_found');
    await t!.stop();
    await gateway('', {});
    const guest = await post('/v1/images/generations', { prompt: 'a cat' });
    expect(guest.status).toBe(400);
    expect(JSON.parse(guest.text).error).toMatchObject({ code: 'images_need_cookies', message: expect.stringMatching(/signed-in Google account/) });
  });
});

describe('POST /v1/images/edits', () => {
  it('uploads the image (JSON base64) and asks for an edit', async () => {
    await gateway();
    const res = await post('/v1/images/edits', { model: 'gemini-3.1-pro', prompt: 'make it blue', image: `data:image/png;base64,${FULL.toString('base64')}` });
    expect(res.status, res.text).toBe(200);
    expect(fake.generates[0]!.prompt).toContain('Edit the attached image: make it blue');
    expect(fake.generates[0]!.attachmentBytes).toBe(FULL.length);
    expect((await post('/v1/images/edits', { prompt: 'no image' })).status).toBe(400);
    expect((await post('/v1/images/edits', { prompt: 'x', image: 'https://example.com/cat.png' })).status).toBe(400);
  });

  it('the official openai SDK: images.edit (multipart upload)', async () => {
    await gateway();
    const client = new OpenAI({ apiKey: TOKEN, baseURL: `${t!.gw.url}/v1` });
    const result = await client.images.edit({ model: 'gemini-3.1-pro', prompt: 'make it blue', image: await toFile(FULL, 'cat.png', { type: 'image/png' }), response_format: 'b64_json' });
    expect(Buffer.from(result.data![0]!.b64_json!, 'base64').equals(FULL)).toBe(true);
    expect(fake.generates[0]!.attachmentBytes).toBe(FULL.length);
  });
});

describe('SDKs', () => {
  it('the official openai SDK: images.generate, b64_json and url', async () => {
    await gateway();
    const client = new OpenAI({ apiKey: TOKEN, baseURL: `${t!.gw.url}/v1` });
    const b64 = await client.images.generate({ model: 'gemini-3.1-pro', prompt: 'a cat', response_format: 'b64_json' });
    expect(Buffer.from(b64.data![0]!.b64_json!, 'base64').equals(FULL)).toBe(true);
    const linked = await client.images.generate({ model: 'gemini-3.1-pro', prompt: 'a cat', response_format: 'url' });
    expect(linked.data![0]!.url).toMatch(/\/images\//);
  });

  it("the AI SDK's generateImage", async () => {
    await gateway();
    const openai = createOpenAI({ apiKey: TOKEN, baseURL: `${t!.gw.url}/v1` });
    const { image } = await generateImage({ model: openai.image('gemini-3.1-pro'), prompt: 'a cat' });
    expect(Buffer.from(image.uint8Array).equals(FULL)).toBe(true);
    expect(image.mediaType).toBe('image/png');
  });
});

describe('images in chat answers', () => {
  const sse = (text: string) => text.split('\n').filter((l) => l.startsWith('data: ') && l !== 'data: [DONE]').map((l) => JSON.parse(l.slice(6)) as Record<string, unknown>);
  const dataUrl = `data:image/png;base64,${FULL.toString('base64')}`;

  it('Chat Completions: Markdown links by default; image_url content parts with modalities ["text","image"]', async () => {
    await gateway();
    const plain = JSON.parse((await post('/v1/chat/completions', { model: 'gemini-3.1-pro', messages: [{ role: 'user', content: 'draw a cat' }] })).text);
    expect(plain.choices[0].message.content).toMatch(/^Here is your image!\[a cat\]\(http:\/\/127\.0\.0\.1:\d+\/images\/[^)]+\)$/);
    const asked = await post('/v1/chat/completions', { model: 'gemini-3.1-pro', modalities: ['text', 'image'], messages: [{ role: 'user', content: 'draw a cat' }] });
    expect(asked.status, asked.text).toBe(200);
    expect(JSON.parse(asked.text).choices[0].message.content).toEqual([
      { type: 'text', text: 'Here is your image' },
      { type: 'image_url', image_url: { url: dataUrl } },
    ]);
    const streamed = await post('/v1/chat/completions', { model: 'gemini-3.1-pro', stream: true, modalities: ['text', 'image'], messages: [{ role: 'user', content: 'draw a cat' }] });
    const deltas = sse(streamed.text).map((c) => (c.choices as Array<{ delta: Record<string, unknown> }>)[0]?.delta ?? {});
    expect(deltas.map((d) => d.content ?? '').join('')).toBe('Here is your image');
    expect(deltas.flatMap((d) => (d.images as unknown[] | undefined) ?? [])).toEqual([{ type: 'image_url', image_url: { url: dataUrl } }]);
  });

  it('Responses: the image_generation tool gives an image_generation_call item with the base64 result, streamed too', async () => {
    await gateway();
    const body = { model: 'gemini-3.1-pro', input: 'draw a cat', tools: [{ type: 'image_generation' }] };
    const res = await post('/v1/responses', body);
    expect(res.status, res.text).toBe(200);
    const output = JSON.parse(res.text).output as Array<Record<string, unknown>>;
    const call = output.find((o) => o.type === 'image_generation_call')!;
    expect(call).toMatchObject({ type: 'image_generation_call', status: 'completed', output_format: 'png', id: expect.stringMatching(/^ig_/) });
    expect(Buffer.from(String(call.result), 'base64').equals(FULL)).toBe(true);
    const client = new OpenAI({ apiKey: TOKEN, baseURL: `${t!.gw.url}/v1` });
    const stream = await client.responses.create({ ...body, stream: true } as never);
    const types: string[] = [];
    let done: Record<string, unknown> | undefined;
    for await (const event of stream as unknown as AsyncIterable<{ type: string; item?: Record<string, unknown> }>) {
      types.push(event.type);
      if (event.type === 'response.output_item.done' && event.item?.type === 'image_generation_call') done = event.item;
    }
    expect(types).toContain('response.image_generation_call.completed');
    expect(Buffer.from(String(done!.result), 'base64').equals(FULL)).toBe(true);
    const plain = JSON.parse((await post('/v1/responses', { model: 'gemini-3.1-pro', input: 'draw a cat' })).text);
    expect(plain.output.some((o: { type: string }) => o.type === 'image_generation_call'), 'without the tool: a link').toBe(false);
    expect(plain.output_text).toMatch(/!\[a cat\]\(http/);
  });

  it('Anthropic Messages: a Markdown link (assistant image blocks are not allowed)', async () => {
    await gateway();
    const res = await post('/v1/messages', { model: 'gemini-3.1-pro', max_tokens: 100, messages: [{ role: 'user', content: 'draw a cat' }] });
    const content = JSON.parse(res.text).content as Array<{ type: string; text: string }>;
    expect(content.every((c) => c.type === 'text')).toBe(true);
    expect(content.map((c) => c.text).join('')).toMatch(/!\[a cat\]\(http:\/\/127\.0\.0\.1:\d+\/images\//);
  });
});
