// Self-test of the fake Gemini web app's late-2026 behaviours, with plain fetch on loopback (no
// gateway). Each test also shows how to drive the knob it covers.
import { createHash } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ATTACHMENT_LIMIT_BYTES, BUILD, FakeGemini, MODEL_IDS, PROMPT_LIMIT_BYTES, PSID, PSIDTS, TOKEN, XSRF_BODY } from './gemini-web.js';

const GENERATE = '/_/BardChatUi/data/assistant.lamda.BardFrontendService/StreamGenerate';
const BATCH = '/_/BardChatUi/data/batchexecute';
const SIGNED_IN = `__Secure-1PSID=${PSID}; __Secure-1PSIDTS=${PSIDTS}`;
const HEADER_12 = (id: string) => [1, null, null, null, id, null, null, 0, [4], null, null, 1];
const HEADER_17 = (id: string, number: number, thinking: 1 | 2) => [1, null, null, null, id, null, null, 0, [4, 5, 6, 8], null, null, 1, null, null, number, thinking, 'C0FFEE00-0000-4000-8000-000000000000'];

let fake: FakeGemini;
beforeEach(async () => {
  fake = await new FakeGemini().start();
});
afterEach(async () => {
  await fake.stop();
});

interface Ask {
  prompt?: string;
  cookie?: string | null;
  at?: string | null;
  header?: unknown[] | null;
  files?: string[];
  cid?: string;
  size?: number;
  turn?: unknown;
  path?: string;
  query?: string;
  headers?: Record<string, string>;
}

/** One StreamGenerate call as a client would send it (69 inner slots unless `size`). */
function ask(o: Ask = {}): Promise<Response> {
  const inner: unknown[] = new Array(o.size ?? 69).fill(null);
  inner[0] = [o.prompt ?? 'Hi', 0, null, o.files?.length ? o.files.map((id, i) => [[id], `file-${i}.txt`]) : null, null, null, 0];
  inner[2] = o.cid ? [o.cid, '', '', null, null, null, null, null, null, ''] : ['', '', '', null, null, null, null, null, null, ''];
  inner[17] = o.turn ?? [[0]];
  const form = new URLSearchParams({ 'f.req': JSON.stringify([null, JSON.stringify(inner)]) });
  const at = o.at === undefined ? TOKEN : o.at;
  if (at !== null) form.set('at', at);
  const cookie = o.cookie === undefined ? SIGNED_IN : o.cookie;
  const header = o.header === undefined ? HEADER_12(MODEL_IDS.pro) : o.header;
  return fetch(`${fake.url}${o.path ?? GENERATE}${o.query ?? ''}`, {
    method: 'POST',
    redirect: 'manual',
    headers: {
      'content-type': 'application/x-www-form-urlencoded;charset=utf-8',
      origin: fake.url,
      ...(cookie !== null ? { cookie } : {}),
      ...(header !== null ? { 'x-goog-ext-525001261-jspb': JSON.stringify(header) } : {}),
      ...o.headers,
    },
    body: form.toString(),
  });
}

function rpc(rpcid: string, options: { cookie?: string; query?: string; path?: string; headers?: Record<string, string> } = {}): Promise<Response> {
  const form = new URLSearchParams({ at: TOKEN, 'f.req': JSON.stringify([[[rpcid, '[]', null, 'generic']]]) });
  return fetch(`${fake.url}${options.path ?? BATCH}?rpcids=${rpcid}${options.query ?? ''}`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded;charset=utf-8', origin: fake.url, cookie: options.cookie ?? SIGNED_IN, ...options.headers },
    body: form.toString(),
  });
}

/** The wrb.fr parts of a framed body (compact JSON: one frame a line). */
function parts(body: string): unknown[][] {
  return body
    .split('\n')
    .filter((line) => line.startsWith('['))
    .flatMap((line) => JSON.parse(line) as unknown[][])
    .filter((part) => part[0] === 'wrb.fr');
}
const inners = (body: string) => parts(body).filter((p) => typeof p[2] === 'string').map((p) => JSON.parse(p[2] as string) as unknown[]);
const contentFrames = (body: string) => inners(body).filter((i) => Array.isArray(i[4]));
const errorCodes = (body: string) => parts(body).map((p) => ((p[5] as unknown[] | undefined)?.[2] as unknown[][] | undefined)?.[0]?.[1]).filter(Boolean).flat();
const rpcBody = async (res: Response) => JSON.parse(parts(await res.text())[0]![2] as string) as unknown[];

async function uploadMultipart(name: string, data: Buffer): Promise<string> {
  const boundary = '----fakeboundary';
  const body = Buffer.concat([Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${name}"\r\nContent-Type: text/plain\r\n\r\n`), data, Buffer.from(`\r\n--${boundary}--\r\n`)]);
  const res = await fetch(`${fake.url}/upload`, { method: 'POST', headers: { 'content-type': `multipart/form-data; boundary=${boundary}`, 'push-id': 'feeds/x', 'x-tenant-id': 'bard-storage' }, body });
  return res.text();
}

describe('build label drift and the access token', () => {
  it('rotateBuild(): /app serves the new cfb2h; the old bl gets 405 on StreamGenerate and batchexecute', async () => {
    expect(fake.build).toBe(BUILD);
    expect((await ask({ query: `?bl=${BUILD}` })).status).toBe(200);
    const next = fake.rotateBuild();
    expect(next).toMatch(/^boq_gemini-web-uiserver_\d{8}\.\d{2}_p0$/);
    expect(next).not.toBe(BUILD);
    expect(await (await fetch(`${fake.url}/app`, { headers: { cookie: SIGNED_IN } })).text()).toContain(`"cfb2h":"${next}"`);
    const stale = await ask({ query: `?bl=${BUILD}` });
    expect([stale.status, await stale.text()]).toEqual([405, '']);
    expect((await rpc('otAQ7b', { query: `&bl=${BUILD}` })).status).toBe(405);
    expect((await ask({ query: `?bl=${next}` })).status).toBe(200);
    expect((await ask()).status, 'no bl at all is accepted').toBe(200);
  });

  it('a wrong at for a signed-in request (the literal "None" too) gets 400 with the xsrf marker', async () => {
    for (const at of ['None', 'AJpMio_Stale:1']) {
      const res = await ask({ at });
      expect([res.status, await res.text()]).toEqual([400, XSRF_BODY]);
    }
    expect(XSRF_BODY).toBe(')]}\'\n\n[["er",null,{"reason":"xsrf"}]]');
    const missing = await ask({ at: null });
    expect([missing.status, await missing.text()]).toEqual([400, '<html>Bad Request</html>']);
    const unknown = await ask({ cookie: '__Secure-1PSID=g.a000Unknown; __Secure-1PSIDTS=x' });
    expect(unknown.status, 'an unknown PSID is refused as before, not a guest').toBe(400);
  });
});

describe('IP block', () => {
  it('302 to /sorry on every endpoint once `after` more requests were served, until liftBlock()', async () => {
    fake.block = { after: 1, mode: 302 };
    expect((await ask()).status).toBe(200);
    const endpoints = [() => fetch(`${fake.url}/`, { redirect: 'manual' }), () => fetch(`${fake.url}/app`, { redirect: 'manual' }), () => ask(), () => rpc('otAQ7b'), () => fetch(`${fake.url}/RotateCookies`, { method: 'POST', redirect: 'manual' }), () => fetch(`${fake.url}/upload`, { method: 'POST', redirect: 'manual' }), () => fetch(fake.generatedImageUrl(), { redirect: 'manual' })];
    for (const call of endpoints) {
      const res = await call();
      expect(res.status).toBe(302);
      expect(res.headers.get('location')).toMatch(/^https:\/\/www\.google\.com\/sorry\/index\?continue=.+&google_abuse=GOOGLE_ABUSE_EXEMPTION/);
    }
    expect(fake.blockedAnswers).toBe(endpoints.length);
    expect(fake.requestsServed).toBe(endpoints.length + 1);
    fake.liftBlock();
    expect(fake.block).toBeNull();
    expect((await ask()).status).toBe(200);
  });

  it('429 with an "unusual traffic" page, at once with after: 0', async () => {
    fake.block = { after: 0, mode: 429 };
    const res = await fetch(`${fake.url}/app`);
    expect(res.status).toBe(429);
    expect(await res.text()).toMatch(/unusual traffic/);
  });
});

describe('prompt and attachment limits', () => {
  it('the model reads the first PROMPT_LIMIT_BYTES UTF-8 bytes, never half a character', async () => {
    const head = 'a'.repeat(PROMPT_LIMIT_BYTES - 1);
    await ask({ prompt: `${head}€ newest turn` });
    const sent = fake.generates[0]!;
    expect(sent.promptBytes).toBe(PROMPT_LIMIT_BYTES - 1 + 3 + ' newest turn'.length);
    expect(sent.prompt).toBe(head); // '€' (3 bytes) would cross the limit
    expect(sent.sentPrompt.endsWith('newest turn')).toBe(true);
    await ask({ prompt: '日本語' });
    expect([fake.generates[1]!.prompt, fake.generates[1]!.promptBytes]).toEqual(['日本語', 9]);
  });

  it('uploads keep their bytes; the model reads ATTACHMENT_LIMIT_BYTES of all files together', async () => {
    const one = await uploadMultipart('a.txt', Buffer.alloc(100_000, 'a'));
    const two = await uploadMultipart('b.txt', Buffer.alloc(100_000, 'b'));
    expect(fake.uploads.get(one)).toMatchObject({ name: 'a.txt', type: 'text/plain', bytes: 100_000, uploadProtocol: 'multipart' });
    expect(fake.uploads.get(one)!.data.equals(Buffer.alloc(100_000, 'a'))).toBe(true);
    await ask({ files: [one, two] });
    const sent = fake.generates[0]!;
    expect([sent.attachmentBytes, sent.readAttachmentBytes]).toEqual([200_000, ATTACHMENT_LIMIT_BYTES]);
    const read = fake.attachmentText(sent);
    expect(read.length).toBe(ATTACHMENT_LIMIT_BYTES);
    expect(read.endsWith('b'.repeat(60_000))).toBe(true);
  });

  it('two-step resumable upload: start gives x-goog-upload-url, upload+finalize gives the file id', async () => {
    const start = await fetch(`${fake.url}/upload/`, {
      method: 'POST',
      headers: { 'push-id': 'feeds/x', 'x-tenant-id': 'bard-storage', 'x-goog-upload-protocol': 'resumable', 'x-goog-upload-command': 'start', 'x-goog-upload-header-content-length': '5', 'x-goog-upload-header-content-type': 'text/plain' },
      body: JSON.stringify({ file: { filename: 'notes.txt' } }),
    });
    expect([start.status, start.headers.get('x-goog-upload-status')]).toEqual([200, 'active']);
    const session = start.headers.get('x-goog-upload-url')!;
    expect(session).toMatch(new RegExp(`^${fake.url}/upload/session/\\w+$`));
    const done = await fetch(session, { method: 'POST', headers: { 'x-goog-upload-command': 'upload, finalize', 'x-goog-upload-offset': '0' }, body: 'hello' });
    const id = await done.text();
    expect(id).toMatch(/^\/contrib_service\/ttl_1d\//);
    expect(fake.uploads.get(id)).toMatchObject({ name: 'notes.txt', type: 'text/plain', bytes: 5, uploadProtocol: 'resumable' });
    // Without a JSON body the name comes from x-goog-upload-file-name.
    const start2 = await fetch(`${fake.url}/upload`, { method: 'POST', headers: { 'push-id': 'feeds/x', 'x-tenant-id': 'bard-storage', 'x-goog-upload-protocol': 'resumable', 'x-goog-upload-command': 'start', 'x-goog-upload-file-name': 'header.txt' } });
    const id2 = await (await fetch(start2.headers.get('x-goog-upload-url')!, { method: 'POST', headers: { 'x-goog-upload-command': 'upload, finalize' }, body: 'x' })).text();
    expect(fake.uploads.get(id2)!.name).toBe('header.txt');
  });
});

describe('answers: 1155, served model, context slot', () => {
  it('{ empty: true } is HTTP 200 with no content frame, only BardErrorInfo 1155', async () => {
    fake.reply = () => ({ empty: true });
    const res = await ask();
    const body = await res.text();
    expect(res.status).toBe(200);
    expect(contentFrames(body)).toEqual([]);
    expect(errorCodes(body)).toEqual([1155]);
    expect(body).toContain('"di"');
  });

  it('content frames carry the served model at inner[39]/[42]; signed in, that is the one asked for', async () => {
    fake.reply = () => ({ snapshots: [{ text: 'Hel' }], final: { text: 'Hello' } });
    const body = await (await ask({ header: HEADER_12(MODEL_IDS.pro) })).text();
    const frames = contentFrames(body);
    expect(frames).toHaveLength(2);
    for (const f of frames) expect([f[39], f[42]]).toEqual([MODEL_IDS.pro, '3.1 Pro']);
    expect(fake.generates[0]).toMatchObject({ servedModel: MODEL_IDS.pro, guest: false });
    await ask({ header: HEADER_12('0123456789abcdef') });
    expect(contentFrames(await (await ask({ header: HEADER_12('0123456789abcdef') })).text())[0]![42], 'unknown id: the id is the name').toBe('0123456789abcdef');
  });

  it('contextSlot 26 moves the context token from inner[25] to inner[26]', async () => {
    const final = async () => contentFrames(await (await ask()).text()).at(-1)!;
    expect(String((await final())[25])).toMatch(/^!/);
    fake.contextSlot = 26;
    const f = await final();
    expect([f[25] ?? null, String(f[26])]).toEqual([null, expect.stringMatching(/^!/)]);
  });
});

describe('guests: no cookies, or an expired account', () => {
  it('/app has no SNlM0e and issues NID + COMPASS; otAQ7b says 1016; StreamGenerate needs no at', async () => {
    const page = await fetch(`${fake.url}/app`);
    expect(await page.text()).not.toContain('SNlM0e');
    const issued = fake.guestCookies!;
    expect(page.headers.getSetCookie().map((c) => c.split(';')[0])).toEqual([`NID=${issued.NID}`, `COMPASS=${issued.COMPASS}`]);
    const jar = `NID=${issued.NID}; COMPASS=${issued.COMPASS}`;
    expect((await rpcBody(await rpc('otAQ7b', { cookie: jar })))[14]).toBe(1016);
    const res = await ask({ cookie: jar, at: null });
    expect(res.status).toBe(200);
    expect(fake.generates[0]).toMatchObject({ guest: true, cookies: { NID: issued.NID, COMPASS: issued.COMPASS }, psid: '' });
    expect((await ask({ cookie: jar, at: 'None' })).status, 'any at is accepted too').toBe(200);
  });

  it('a guest is served Flash-Lite for anything but 3.6 Flash / Flash-Lite (3.7 Flash and Thinking included)', async () => {
    const served: Record<string, string> = {};
    for (const id of [MODEL_IDS.pro, MODEL_IDS.thinking, MODEL_IDS.flash37, MODEL_IDS.flash, MODEL_IDS.flashLite]) {
      const f = contentFrames(await (await ask({ cookie: null, header: HEADER_12(id) })).text()).at(-1)!;
      served[id] = `${f[39]} ${f[42]}`;
    }
    expect(served).toEqual({
      [MODEL_IDS.pro]: 'cf41b0e0dd7d53e5 3.5 Flash-Lite',
      [MODEL_IDS.thinking]: 'cf41b0e0dd7d53e5 3.5 Flash-Lite',
      [MODEL_IDS.flash37]: 'cf41b0e0dd7d53e5 3.5 Flash-Lite',
      [MODEL_IDS.flash]: 'fbb127bbb056c959 3.6 Flash',
      [MODEL_IDS.flashLite]: 'cf41b0e0dd7d53e5 3.5 Flash-Lite',
    });
    expect(fake.generates.map((g) => g.servedModel)).toEqual([MODEL_IDS.flashLite, MODEL_IDS.flashLite, MODEL_IDS.flashLite, MODEL_IDS.flash, MODEL_IDS.flashLite]);
  });

  it('an expired account is a silent guest (200, Flash-Lite); its page has no SNlM0e; hNvQHb is refused', async () => {
    fake.accounts.get(PSID)!.expired = true;
    const res = await ask({ at: TOKEN });
    expect(res.status).toBe(200);
    expect(contentFrames(await res.text())[0]![39]).toBe(MODEL_IDS.flashLite);
    expect(fake.generates[0]).toMatchObject({ guest: true, psid: PSID });
    expect(await (await fetch(`${fake.url}/app`, { headers: { cookie: SIGNED_IN } })).text()).not.toContain('SNlM0e');
    expect(fake.guestCookies).not.toBeNull();
    expect(parts(await (await rpc('hNvQHb')).text())[0]![5]).toEqual([7]);
  });

  it('a guest using an upload gets 1100; a guest reusing a chat id gets only 1096', async () => {
    const file = await uploadMultipart('a.txt', Buffer.from('data'));
    const withFile = await (await ask({ cookie: null, files: [file] })).text();
    expect([contentFrames(withFile), errorCodes(withFile)]).toEqual([[], [1100]]);
    const reused = await (await ask({ cookie: null, cid: 'c_0123456789abcdef' })).text();
    expect([contentFrames(reused), errorCodes(reused)]).toEqual([[], [1096]]);
  });
});

describe('request shapes', () => {
  it('records the 17-element header (model number, thinking) and inner[17] of a 97-slot list', async () => {
    await ask({ header: HEADER_17(MODEL_IDS.pro, 3, 2), size: 97, turn: 2 });
    expect(fake.generates[0]).toMatchObject({ modelId: MODEL_IDS.pro, modelNumber: 3, thinking: 2, turnIndex: 2, servedModel: MODEL_IDS.pro });
    expect(fake.generates[0]!.header).toHaveLength(17);
    expect(fake.generates[0]!.inner).toHaveLength(97);
    await ask({ header: HEADER_12(MODEL_IDS.flash) });
    expect(fake.generates[1]).toMatchObject({ modelId: MODEL_IDS.flash, modelNumber: null, thinking: null, turnIndex: 0 });
  });

  it('/u/<N> paths and x-goog-authuser: authUser per request, authUsers for /app too', async () => {
    expect((await fetch(`${fake.url}/u/1/app`, { headers: { cookie: SIGNED_IN } })).status).toBe(200);
    expect((await ask({ path: `/u/1${GENERATE}` })).status).toBe(200);
    expect((await rpc('otAQ7b', { path: `/u/1${BATCH}` })).status).toBe(200);
    await ask({ headers: { 'x-goog-authuser': '2' } });
    await ask();
    expect(fake.generates.map((g) => g.authUser)).toEqual(['1', '2', null]);
    expect(fake.authUsers).toEqual(['1', '1', '1', '2', null]);
  });

  it('requireSapisidHash: a jar with SAPISID needs SAPISIDHASH <ts>_<sha1("<ts> <SAPISID> <origin>")>, else 401', async () => {
    fake.requireSapisidHash = true;
    const cookie = `${SIGNED_IN}; SAPISID=sapisid-value`;
    expect((await ask({ cookie })).status).toBe(401);
    expect((await rpc('otAQ7b', { cookie })).status).toBe(401);
    expect((await ask({ cookie, headers: { authorization: 'SAPISIDHASH 1764201600_0000000000000000000000000000000000000000' } })).status).toBe(401);
    const ts = '1764201600';
    const authorization = `SAPISIDHASH ${ts}_${createHash('sha1').update(`${ts} sapisid-value ${fake.url}`).digest('hex')}`;
    expect((await ask({ cookie, headers: { authorization } })).status).toBe(200);
    expect((await rpc('otAQ7b', { cookie, headers: { authorization } })).status).toBe(200);
    expect(fake.generates.at(-1)!.authorization).toBe(authorization);
    expect((await ask()).status, 'no SAPISID in the jar: nothing to check').toBe(200);
    expect(fake.generates.at(-1)!.authorization).toBeNull();
  });
});

describe('images, quota, rotation, models', () => {
  it('gg-dl redirects to rd-gg-dl, which serves only a signed-in jar of Google auth cookies; =s0 is full size', async () => {
    const url = `${fake.generatedImageUrl()}=s0`;
    expect(url).toBe(`${fake.url}/gg-dl/img_1=s0`);
    const hop = await fetch(url, { redirect: 'manual' });
    expect([hop.status, hop.headers.get('location')]).toEqual([302, `${fake.url}/rd-gg-dl/img_1=s0`]);
    const full = await fetch(hop.headers.get('location')!, { headers: { cookie: `${SIGNED_IN}; NID=1; SAPISID=x` } });
    expect([full.status, (await full.arrayBuffer()).byteLength]).toEqual([200, 8 + 4096]);
    const thumb = await fetch(`${fake.url}/rd-gg-dl/img_1`, { headers: { cookie: SIGNED_IN } });
    expect((await thumb.arrayBuffer()).byteLength).toBe(8 + 16);
    expect((await fetch(`${fake.url}/rd-gg-dl/img_1=s0`, { headers: { cookie: `${SIGNED_IN}; COMPASS=x` } })).status, 'an extra cookie').toBe(403);
    expect((await fetch(`${fake.url}/rd-gg-dl/img_1=s0`)).status, 'no cookies').toBe(403);
    expect(fake.imageHops).toEqual(['/gg-dl/img_1=s0', '/rd-gg-dl/img_1=s0', '/rd-gg-dl/img_1', '/rd-gg-dl/img_1=s0', '/rd-gg-dl/img_1=s0']);
  });

  it('jSf9Qc answers the 5-hour and weekly reset times from quotaResetAt ([] when null)', async () => {
    expect(await rpcBody(await rpc('jSf9Qc'))).toEqual([]);
    fake.quotaResetAt = 1_764_201_600;
    expect(await rpcBody(await rpc('jSf9Qc'))).toEqual([null, [['five_hour', [1_764_201_600, 0]], ['weekly', [1_764_201_600 + 7 * 86_400, 0]]]]);
  });

  it('RotateCookies records cookie names; strictRotationCookies refuses extra cookies; the page id refreshes the SIDCC family', async () => {
    fake.strictRotationCookies = true;
    const rotate = (cookie: string, body = '[000,"-0000000000000000000"]') => fetch(`${fake.url}/RotateCookies`, { method: 'POST', headers: { cookie, 'content-type': 'application/json' }, body });
    expect((await rotate(`${SIGNED_IN}; NID=1`)).status).toBe(401);
    expect((await rotate(SIGNED_IN)).status).toBe(200);
    expect(fake.rotateCookieNames).toEqual([['__Secure-1PSID', '__Secure-1PSIDTS', 'NID'], ['__Secure-1PSID', '__Secure-1PSIDTS']]);
    const page = await (await fetch(`${fake.url}/RotateCookiesPage?og_pid=658&rot=3&origin=${encodeURIComponent('https://gemini.google.com')}`)).text();
    const pageId = /init\('([^']+)',658\.0,1,null,600\.0\)/.exec(page)![1]!;
    const jar = `__Secure-1PSID=${PSID}; __Secure-1PSIDTS=${fake.accounts.get(PSID)!.psidts}`;
    expect((await rotate(jar, '[658,"-1"]')).status, 'an id the page never issued').toBe(400);
    const res = await rotate(jar, JSON.stringify([658, pageId]));
    expect(res.status).toBe(200);
    expect(res.headers.getSetCookie().map((c) => c.split('=')[0])).toEqual(['__Secure-1PSIDCC', '__Secure-3PSIDCC', 'SIDCC']);
    expect([fake.pageRotations, fake.rotations]).toEqual([1, 2]);
  });

  it('otAQ7b lists the models in the newer layout ([0] id, [1] category, [11] display, [17] number); flash37 adds 3.7 Flash', async () => {
    const list = async () => (await rpcBody(await rpc('otAQ7b')))[15] as unknown[][];
    const row = (m: unknown[]) => [m[0], m[1], m[11], m[17]];
    expect((await list()).map(row)).toEqual([
      [MODEL_IDS.flash, 'Fast', '3.6 Flash', 1],
      [MODEL_IDS.thinking, 'Thinking', '3.6 Flash Thinking', 2],
      [MODEL_IDS.pro, 'Pro', '3.1 Pro', 3],
      [MODEL_IDS.flashLite, 'Flash-Lite', '3.5 Flash-Lite', 6],
    ]);
    expect((await list())[0]![2]).toBe('Answers quickly');
    fake.flash37 = true;
    expect((await list()).map((m) => m[0])).toContain(MODEL_IDS.flash37);
    expect(contentFrames(await (await ask({ header: HEADER_12(MODEL_IDS.flash37) })).text())[0]![42]).toBe('3.7 Flash');
  });
});
