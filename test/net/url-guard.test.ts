// The SSRF guard for client-chosen URLs (issue 14): the address classifier range by range, URL
// normalization tricks, DNS names resolving to private addresses, redirects re-checked at every
// hop, size and time limits, the allow-list, and error messages that never name the target. Only
// loopback is contacted: the "allowed" path allow-lists 127.0.0.1 (or a test name resolved to it).
// fast-check compares the classifier with a reference written independently on plain numbers.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { isIP, type AddressInfo } from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GatewayError } from '../../src/core/gateway-error.js';
import { blockedName, blockedReason, parseAllowEntry, urlPolicy } from '../../src/net/address.js';
import { fetchClientUrl, fetchSecurityOptions, urlTarget, type FetchClientUrlOptions, type ResolveFn } from '../../src/net/url-guard.js';
import { configSchema } from '../../src/config/schema.js';

// --- the reference: ranges as numbers, no parsing ------------------------------------------

const v4 = (a: number, b: number, c: number, d: number) => ((a * 256 + b) * 256 + c) * 256 + d;
/** [first, last] of every blocked IPv4 range, written out as numbers. */
const REF_V4: Array<[number, number]> = [
  [v4(0, 0, 0, 0), v4(0, 255, 255, 255)],
  [v4(10, 0, 0, 0), v4(10, 255, 255, 255)],
  [v4(100, 64, 0, 0), v4(100, 127, 255, 255)],
  [v4(127, 0, 0, 0), v4(127, 255, 255, 255)],
  [v4(169, 254, 0, 0), v4(169, 254, 255, 255)],
  [v4(172, 16, 0, 0), v4(172, 31, 255, 255)],
  [v4(192, 0, 0, 0), v4(192, 0, 0, 255)],
  [v4(192, 0, 2, 0), v4(192, 0, 2, 255)],
  [v4(192, 88, 99, 0), v4(192, 88, 99, 255)],
  [v4(192, 168, 0, 0), v4(192, 168, 255, 255)],
  [v4(198, 18, 0, 0), v4(198, 19, 255, 255)],
  [v4(198, 51, 100, 0), v4(198, 51, 100, 255)],
  [v4(203, 0, 113, 0), v4(203, 0, 113, 255)],
  [v4(224, 0, 0, 0), v4(255, 255, 255, 255)], // multicast, reserved and broadcast
];
const refV4Blocked = (n: number) => REF_V4.some(([first, last]) => n >= first && n <= last);

const M32 = 0xffffffffn;
/** IPv6 as a 128-bit number: embedded IPv4 judged as IPv4, then only 2000::/3 minus a few blocks. */
function refV6Blocked(n: bigint): boolean {
  const low = Number(n & M32);
  if (n >> 32n === 0xffffn) return refV4Blocked(low); // ::ffff:a.b.c.d
  if (n >> 32n === 0xffff0000n) return refV4Blocked(low); // ::ffff:0:a.b.c.d
  if (n >> 32n === 0x0064ff9b0000000000000000n) return refV4Blocked(low); // 64:ff9b::/96
  if (n >> 112n === 0x2002n) return refV4Blocked(Number((n >> 80n) & M32)); // 6to4
  if (n >> 96n === 0x20010000n) return refV4Blocked(Number((n >> 64n) & M32)) || refV4Blocked(Number(~n & M32)); // Teredo
  if (n >> 125n !== 1n) return true; // outside 2000::/3
  if (n >> 80n === 0x200100020000n) return true; // 2001:2::/48
  if (n >> 100n === 0x2001001n || n >> 100n === 0x2001002n) return true; // 2001:10::/28, 2001:20::/28
  if (n >> 96n === 0x20010db8n) return true; // 2001:db8::/32
  if (n >> 108n === 0x3fff0n) return true; // 3fff::/20
  return false;
}

// --- generators -----------------------------------------------------------------------------

const u32 = fc.integer({ min: 0, max: 0xffffffff });
/** Mostly near the range edges, where off-by-one mistakes live. */
const interestingV4 = fc.oneof(
  u32,
  fc.tuple(fc.constantFrom(...REF_V4.flatMap(([a, b]) => [a, b])), fc.integer({ min: -2, max: 2 })).map(([edge, delta]) => Math.min(0xffffffff, Math.max(0, edge + delta))),
  fc.tuple(fc.constantFrom(...REF_V4), fc.double({ min: 0, max: 1, noNaN: true })).map(([[a, b], f]) => a + Math.floor((b - a) * f)),
);
const v4Text = (n: number) => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');

const PREFIXES: Array<[bigint, number]> = [
  [0n, 96], // ::/96 (::, ::1, IPv4-compatible)
  [0xffffn << 32n, 96],
  [0xffff0000n << 32n, 96],
  [0x0064ff9bn << 96n, 96],
  [0x0064ff9b0001n << 80n, 48],
  [0x2002n << 112n, 16],
  [0x20010000n << 96n, 32],
  [0x200100020000n << 80n, 48],
  [0x2001001n << 100n, 28],
  [0x2001002n << 100n, 28],
  [0x20010db8n << 96n, 32],
  [0x3fff0n << 108n, 20],
  [0xfc00n << 112n, 7],
  [0xfe80n << 112n, 10],
  [0xfec0n << 112n, 10],
  [0xff00n << 112n, 8],
  [0x2000n << 112n, 3],
  [0x2600n << 112n, 8],
  [0x100n << 112n, 64],
];
const random128 = fc.bigInt({ min: 0n, max: (1n << 128n) - 1n });
const interestingV6 = fc.oneof(
  random128,
  fc.tuple(fc.constantFrom(...PREFIXES), random128).map(([[prefix, length], rest]) => prefix | (rest & ((1n << BigInt(128 - length)) - 1n))),
  // an interesting IPv4 address in the embedding positions
  fc.tuple(fc.constantFrom(0xffffn << 32n, 0xffff0000n << 32n, 0x0064ff9bn << 96n), interestingV4).map(([prefix, n]) => prefix | BigInt(n)),
  fc.tuple(interestingV4, random128).map(([n, rest]) => (0x2002n << 112n) | (BigInt(n) << 80n) | (rest & ((1n << 80n) - 1n))),
  fc.tuple(interestingV4, interestingV4, fc.bigInt({ min: 0n, max: M32 })).map(([server, client, flags]) => (0x20010000n << 96n) | (BigInt(server) << 64n) | (flags << 32n) | (BigInt(client) ^ M32)),
);

/** A 128-bit number in one of the textual forms resolvers and clients produce. */
function v6Text(n: bigint, form: number): string {
  const groups = Array.from({ length: 8 }, (_, i) => Number((n >> BigInt(112 - 16 * i)) & 0xffffn));
  const hex = groups.map((g) => g.toString(16));
  let text: string;
  if (form % 4 === 0) text = groups.map((g) => g.toString(16).padStart(4, '0')).join(':');
  else if (form % 4 === 1) text = hex.join(':');
  else {
    // compress the longest run of zero groups
    let best = -1;
    let bestLength = 0;
    for (let i = 0; i < 8; ) {
      if (groups[i] !== 0) {
        i++;
        continue;
      }
      let j = i;
      while (j < 8 && groups[j] === 0) j++;
      if (j - i > bestLength) [best, bestLength] = [i, j - i];
      i = j;
    }
    const parts = form % 4 === 3 ? [...hex.slice(0, 6), v4Text(Number(n & M32))] : hex;
    const cut = form % 4 === 3 && best + bestLength > 6 ? -1 : best; // keep the dotted tail whole
    text = cut >= 0 && bestLength >= 2 ? `${parts.slice(0, cut).join(':')}::${parts.slice(cut + bestLength).join(':')}` : parts.join(':');
  }
  return form >= 4 ? text.toUpperCase() : text;
}

// --- unit tests of the classifier -----------------------------------------------------------

describe('blockedReason: IPv4', () => {
  const blocked = [
    '0.0.0.0', '0.255.255.255', '10.0.0.0', '10.255.255.255', '100.64.0.0', '100.127.255.255', '127.0.0.1', '127.255.255.254',
    '169.254.0.1', '169.254.169.254', '172.16.0.0', '172.31.255.255', '192.0.0.1', '192.0.0.170', '192.0.2.1', '192.88.99.1',
    '192.168.0.1', '192.168.255.255', '198.18.0.1', '198.19.255.255', '198.51.100.7', '203.0.113.9', '224.0.0.1', '239.255.255.250',
    '240.0.0.1', '255.255.255.255',
  ];
  const allowed = ['1.1.1.1', '8.8.8.8', '9.255.255.255', '11.0.0.0', '100.63.255.255', '100.128.0.0', '126.255.255.255', '128.0.0.0', '169.253.255.255', '169.255.0.0', '172.15.255.255', '172.32.0.0', '192.0.1.0', '192.167.255.255', '192.169.0.0', '198.17.255.255', '198.20.0.0', '223.255.255.255'];
  it.each(blocked)('refuses %s', (address) => expect(blockedReason(address)).toBeDefined());
  it.each(allowed)('allows %s', (address) => expect(blockedReason(address)).toBeUndefined());
  it('names the metadata address as link-local', () => expect(blockedReason('169.254.169.254')).toBe('link-local'));
});

describe('blockedReason: IPv6', () => {
  const blocked = [
    '::', '::1', '0:0:0:0:0:0:0:1', '[::1]', '::127.0.0.1', 'fc00::1', 'fd12:3456::1', 'fdff:ffff::', 'fe80::1', 'fe80::1%eth0', 'febf::1', 'fec0::1',
    'ff02::1', 'ff05::1:3', '100::1', '2001:db8::1', '2001:2::1', '3fff::1', '3fff:fff::1', '64:ff9b:1::1',
    // IPv4-mapped, SIIT, NAT64, 6to4 and Teredo with a private IPv4 inside
    '::ffff:127.0.0.1', '::ffff:7f00:1', '::FFFF:169.254.169.254', '::ffff:a9fe:a9fe', '::ffff:10.0.0.1', '::ffff:0:192.168.1.1', '64:ff9b::10.0.0.1',
    '64:ff9b::a9fe:a9fe', '2002:7f00:1::', '2002:c0a8:101::1', '2001:0:808:808::80ff:fffe', '2001:0:a00:1::f7f7:fbfb', '2001:0:4136:e378:8000:63bf:3fff:fdd2',
  ];
  const allowed = ['2606:4700:4700::1111', '2001:4860:4860::8888', '2a00:1450:4001::1', '::ffff:8.8.8.8', '::ffff:808:808', '3fff:1000::1', '64:ff9b::808:808', '2002:808:808::1', '2001:0:808:808::f7f7:fbfb'];
  it.each(blocked)('refuses %s', (address) => expect(blockedReason(address)).toBeDefined());
  it.each(allowed)('allows %s', (address) => expect(blockedReason(address)).toBeUndefined());
  it('refuses what is not an address (fail closed)', () => {
    for (const text of ['', 'abc', '1.2.3', '::g', '1.2.3.4.5', 'localhost']) expect(blockedReason(text)).toBeDefined();
  });
});

describe('blockedName', () => {
  it.each(['localhost', 'LOCALHOST.', 'foo.localhost', 'metadata.google.internal', 'metadata.google.internal.', 'metadata', 'metadata.goog', 'printer.local', 'nas.home.arpa', 'instance-data'])('refuses %s', (name) => expect(blockedName(name)).toBe(true));
  it.each(['example.com', 'localhost.example.com', 'internal.example.com', 'metadata.example.com'])('allows %s', (name) => expect(blockedName(name)).toBe(false));
});

describe('urlTarget reads the normalized host', () => {
  it.each([
    ['http://2130706433/', '127.0.0.1'],
    ['http://0x7f.1/', '127.0.0.1'],
    ['http://0177.0.0.1/', '127.0.0.1'],
    ['http://127.1/', '127.0.0.1'],
    ['http://0x7f000001/', '127.0.0.1'],
    ['http://0/', '0.0.0.0'],
    ['http://0251.0376.0251.0376/', '169.254.169.254'],
    ['http://[::ffff:127.0.0.1]/', '::ffff:7f00:1'],
    ['http://[0:0:0:0:0:ffff:7f00:1]:8080/', '::ffff:7f00:1'],
    ['HTTP://[FE80::1]/', 'fe80::1'],
  ])('%s -> %s', (url, address) => {
    const target = urlTarget(url);
    expect(target.kind).toBe('address');
    expect(target.kind === 'address' && target.address).toBe(address);
    expect(blockedReason(address)).toBeDefined();
  });
  it.each(['ftp://example.com/a.png', 'file:///etc/passwd', 'gopher://127.0.0.1:25/', 'data:image/png;base64,AAAA', 'javascript:alert(1)', 'http://user:pw@example.com/', 'http://user@example.com/', 'http://:pw@example.com/', 'not a url', 'http://'])(
    'refuses %s outright',
    (url) => expect(urlTarget(url).kind).toBe('refused'),
  );
  it('gives names lower case without a trailing dot', () => {
    const target = urlTarget('http://Files.Example.COM./x');
    expect(target.kind === 'name' && target.name).toBe('files.example.com');
  });
});

describe('the allow-list', () => {
  it('parses addresses, CIDRs, names and suffixes, and nothing else', () => {
    for (const entry of ['127.0.0.1', '10.0.0.0/8', '::1', '[::1]', 'fd00::/8', '::ffff:10.0.0.1', 'files.lan', '*.corp.example', 'a_b.lan']) expect(parseAllowEntry(entry), entry).toBeDefined();
    for (const entry of ['', '10.0.0.0/33', '::/129', '10.0.0.0/x', 'bad host', '*.', 'http://x/', '1.2.3', 'a..b']) expect(parseAllowEntry(entry), entry).toBeUndefined();
  });
  it('matches networks (mapped addresses as IPv4), exact names and subdomains of suffixes', () => {
    const policy = urlPolicy(['10.1.0.0/16', 'fd00::/8', 'files.lan', '*.corp.example']);
    expect(policy.allowsAddress('10.1.2.3')).toBe(true);
    expect(policy.allowsAddress('::ffff:10.1.2.3')).toBe(true);
    expect(policy.allowsAddress('10.2.0.1')).toBe(false);
    expect(policy.allowsAddress('fd12::1')).toBe(true);
    expect(policy.allowsAddress('fe80::1')).toBe(false);
    expect(policy.allowsHost('FILES.lan.')).toBe(true);
    expect(policy.allowsHost('x.files.lan')).toBe(false);
    expect(policy.allowsHost('a.b.corp.example')).toBe(true);
    expect(policy.allowsHost('corp.example')).toBe(false);
    expect(policy.allowsHost('evilcorp.example')).toBe(false);
  });
  it('is the config section security (defaults: nothing allowed, 15 s); bad entries are config errors', () => {
    const config = configSchema.parse({});
    expect(config.security).toEqual({ fetch_allow: [], fetch_timeout: 15 });
    expect(fetchSecurityOptions(config.security).timeoutMs).toBe(15_000);
    expect(configSchema.safeParse({ security: { fetch_allow: ['10.0.0.0/8', '*.lan'] } }).success).toBe(true);
    expect(configSchema.safeParse({ security: { fetch_allow: ['10.0.0.0/99'] } }).success).toBe(false);
    expect(() => urlPolicy(['not valid!'])).toThrow();
  });
});

// --- fuzz: the classifier agrees with the reference ------------------------------------------

describe('fuzz: classifier vs reference', () => {
  it('IPv4 in dotted decimal', () => {
    fc.assert(fc.property(interestingV4, (n) => (blockedReason(v4Text(n)) !== undefined) === refV4Blocked(n)), { numRuns: 20_000 });
  });

  it('IPv4 in the forms URL parsers accept (decimal, hex, octal, short) normalizes to the same verdict', () => {
    const forms = (n: number): string[] => {
      const [a, b, c, d] = [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255];
      return [String(n), `0x${n.toString(16)}`, `0${n.toString(8)}`, `${a}.${n & 0xffffff}`, `${a}.${b}.${(c << 8) | d}`, [a, b, c, d].map((x) => `0x${x.toString(16)}`).join('.'), [a, b, c, d].map((x) => `0${x.toString(8)}`).join('.')];
    };
    fc.assert(
      fc.property(interestingV4, fc.nat(6), (n, which) => {
        const target = urlTarget(`http://${forms(n)[which]}/`);
        return target.kind === 'address' && target.address === v4Text(n) && (blockedReason(target.address) !== undefined) === refV4Blocked(n);
      }),
      { numRuns: 10_000 },
    );
  });

  it('IPv6 in every textual form (full, short, compressed, dotted tail, upper case)', () => {
    fc.assert(
      fc.property(interestingV6, fc.nat(7), (n, form) => {
        const text = v6Text(n, form);
        expect(isIP(text), text).toBe(6);
        expect(blockedReason(text) !== undefined, text).toBe(refV6Blocked(n));
      }),
      { numRuns: 30_000 },
    );
  });

  it('IPv6 in URLs (brackets, normalized by the URL parser)', () => {
    fc.assert(
      fc.property(interestingV6, fc.nat(7), (n, form) => {
        const target = urlTarget(`http://[${v6Text(n, form)}]:8080/x`);
        expect(target.kind).toBe('address');
        expect(target.kind === 'address' && blockedReason(target.address) !== undefined).toBe(refV6Blocked(n));
      }),
      { numRuns: 5_000 },
    );
  });
});

// --- fetching (loopback only) ------------------------------------------------------------------

let server: Server;
let port = 0;
let hits: string[] = [];
const BYTES = Buffer.from('\x89PNG fake image bytes');

function route(req: IncomingMessage, res: ServerResponse): void {
  hits.push(req.url ?? '');
  const url = new URL(req.url ?? '/', 'http://x');
  const redirect = (location: string, status = 302): void => void res.writeHead(status, { location }).end();
  switch (url.pathname) {
    case '/ok':
      return void res.writeHead(200, { 'content-type': 'Image/PNG; charset=binary' }).end(BYTES);
    case '/no-type':
      return void res.writeHead(200).end('x');
    case '/exact':
      return void res.writeHead(200, { 'content-type': 'text/plain' }).end('a'.repeat(1000));
    case '/big':
      return void res.writeHead(200, { 'content-type': 'image/png', 'content-length': '5000' }).end('a'.repeat(5000));
    case '/stream-big': {
      res.writeHead(200, { 'content-type': 'image/png' }); // chunked, no length
      let sent = 0;
      const tick = setInterval(() => {
        if (res.destroyed || sent > 1_000_000) {
          clearInterval(tick);
          return void res.end();
        }
        res.write('b'.repeat(512));
        sent += 512;
      }, 1);
      return;
    }
    case '/slow-headers':
      return; // never answers
    case '/slow-body':
      res.writeHead(200, { 'content-type': 'image/png' });
      return void res.write('partial');
    case '/missing':
      return void res.writeHead(404).end('not here');
    case '/to':
      return redirect(url.searchParams.get('u') ?? '/ok', Number(url.searchParams.get('s') ?? 302));
    case '/loop':
      return redirect('/loop');
    case '/chain': {
      const n = Number(url.searchParams.get('n'));
      return n > 0 ? redirect(`/chain?n=${n - 1}`) : redirect('/ok');
    }
    default:
      return void res.writeHead(500).end();
  }
}

beforeAll(async () => {
  server = createServer(route);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const LOOPBACK = urlPolicy(['127.0.0.1']);
const base = () => `http://127.0.0.1:${port}`;
/** A resolver from a fixed table; any other name is "not found". Counts calls. */
function resolver(table: Record<string, string[]>): ResolveFn & { calls: string[] } {
  const calls: string[] = [];
  const fn = async (name: string) => {
    calls.push(name);
    const addresses = table[name];
    if (!addresses) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${name}`), { code: 'ENOTFOUND' });
    return addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };
  return Object.assign(fn, { calls });
}
const noDns = resolver({});

async function failure(url: string, options: Partial<FetchClientUrlOptions> = {}): Promise<GatewayError> {
  const error = await fetchClientUrl(url, { maxBytes: 1000, timeoutMs: 3000, resolve: noDns, ...options }).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(GatewayError);
  return error as GatewayError;
}

/** Nothing about the target in what the client sees: host, address, port, path, error text. */
function expectNoTargetDetails(error: GatewayError, ...secrets: string[]): void {
  const visible = JSON.stringify({ ...error, message: error.message });
  for (const secret of [...secrets, String(port), 'ENOTFOUND', 'ECONNREFUSED', 'getaddrinfo']) if (secret) expect(visible).not.toContain(secret);
}

describe('fetchClientUrl', () => {
  it('fetches an allow-listed loopback URL: bytes and the bare media type', async () => {
    const result = await fetchClientUrl(`${base()}/ok`, { maxBytes: 1000, timeoutMs: 3000, policy: LOOPBACK });
    expect(result.data.equals(BYTES)).toBe(true);
    expect(result.mimeType).toBe('image/png');
    expect((await fetchClientUrl(`${base()}/no-type`, { maxBytes: 10, timeoutMs: 3000, policy: LOOPBACK })).mimeType).toBe('application/octet-stream');
  });

  it('refuses loopback by default, without connecting', async () => {
    hits = [];
    for (const url of [`${base()}/ok`, `http://2130706433:${port}/ok`, `http://0x7f.1:${port}/ok`, `http://[::ffff:127.0.0.1]:${port}/ok`, `http://localhost:${port}/ok`]) {
      const error = await failure(url);
      expect(error.kind).toBe('invalid_request');
      expect(error.code).toBe('url_refused');
      expect(error.message).toMatch(/refused/);
      expectNoTargetDetails(error, '127.0.0.1', 'localhost', '2130706433', '0x7f', '/ok');
    }
    expect(hits).toEqual([]);
  });

  it('refuses private, link-local, metadata and other reserved literals before any DNS', async () => {
    const dns = resolver({});
    for (const host of ['10.0.0.1', '172.16.5.4', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '224.0.0.1', '255.255.255.255', '[::1]', '[fd00::1]', '[fe80::1]', '[::ffff:169.254.169.254]', '[64:ff9b::a9fe:a9fe]', '[2002:a9fe:a9fe::1]']) {
      const error = await failure(`http://${host}/latest/meta-data/`, { resolve: dns, param: 'messages[0].content[1].image_url.url' });
      expect(error.code, host).toBe('url_refused');
      expect(error.param).toBe('messages[0].content[1].image_url.url');
      expectNoTargetDetails(error, host.replace(/[[\]]/g, ''), 'meta-data');
    }
    expect(dns.calls).toEqual([]);
  });

  it('refuses internal names (metadata.google.internal, localhost) without resolving them', async () => {
    const dns = resolver({ 'metadata.google.internal': ['8.8.8.8'] });
    for (const host of ['metadata.google.internal', 'METADATA.google.internal.', 'localhost', 'x.localhost', 'printer.local']) {
      const error = await failure(`http://${host}/computeMetadata/v1/`, { resolve: dns });
      expect(error.code, host).toBe('url_refused');
      expectNoTargetDetails(error, host.toLowerCase().replace(/\.$/, ''), 'computeMetadata');
    }
    expect(dns.calls).toEqual([]);
  });

  it('refuses other schemes and user:password@ URLs', async () => {
    for (const url of ['file:///etc/passwd', 'ftp://example.com/x', 'gopher://example.com/', `http://user:secret@127.0.0.1:${port}/ok`, 'http://admin@example.com/']) {
      const error = await failure(url, { policy: LOOPBACK });
      expect(error.code, url).toBe('url_refused');
      expectNoTargetDetails(error, 'secret', 'admin', 'passwd', 'example.com');
    }
  });

  it('refuses a DNS name that resolves to a private address, also when one answer of several is private', async () => {
    const dns = resolver({
      'evil.test': ['127.0.0.1'],
      'meta.test': ['169.254.169.254'],
      'mixed.test': ['127.0.0.1', '10.0.0.7'], // 127.0.0.1 is allow-listed below: the other answer still refuses
      'mapped.test': ['::ffff:10.0.0.1'],
      'v6.test': ['fd00::5'],
      'nat64.test': ['64:ff9b::c0a8:0101'],
    });
    hits = [];
    for (const name of ['evil.test', 'meta.test', 'mixed.test', 'mapped.test', 'v6.test', 'nat64.test']) {
      const error = await failure(`http://${name}:${port}/ok`, { resolve: dns, policy: name === 'mixed.test' ? LOOPBACK : undefined });
      expect(error.code, name).toBe('url_refused');
      expectNoTargetDetails(error, name, '127.0.0.1', '169.254', '10.0.0', 'fd00', 'c0a8');
    }
    expect(hits).toEqual([]);
  });

  it('connects to the checked address only (no second DNS lookup to rebind)', async () => {
    // "pinned.test" exists only in the injected resolver: the connection succeeds, so it went to
    // the checked address and never asked the system resolver.
    const dns = resolver({ 'pinned.test': ['127.0.0.1'] });
    const result = await fetchClientUrl(`http://pinned.test:${port}/ok`, { maxBytes: 1000, timeoutMs: 3000, policy: LOOPBACK, resolve: dns });
    expect(result.data.equals(BYTES)).toBe(true);
    expect(dns.calls).toEqual(['pinned.test']);
  });

  it('IPv6 loopback: refused by default, fetched when ::1 is listed, also behind a name (pinned)', async (context) => {
    const v6 = createServer(route);
    const listening = await new Promise<boolean>((resolve) => v6.once('error', () => resolve(false)).listen(0, '::1', () => resolve(true)));
    if (!listening) return context.skip('no IPv6 loopback here');
    try {
      const v6port = (v6.address() as AddressInfo).port;
      expect((await failure(`http://[::1]:${v6port}/ok`, { policy: LOOPBACK })).code).toBe('url_refused');
      const policy = urlPolicy(['::1']);
      expect((await fetchClientUrl(`http://[::1]:${v6port}/ok`, { maxBytes: 1000, timeoutMs: 3000, policy })).data.equals(BYTES)).toBe(true);
      const dns = resolver({ 'six.test': ['::1'] });
      expect((await fetchClientUrl(`http://six.test:${v6port}/ok`, { maxBytes: 1000, timeoutMs: 3000, policy, resolve: dns })).data.equals(BYTES)).toBe(true);
    } finally {
      v6.closeAllConnections();
      await new Promise((resolve) => v6.close(resolve));
    }
  });

  it('allows a listed host name whatever it resolves to; other names resolving there stay refused', async () => {
    const dns = resolver({ 'files.test': ['127.0.0.1'], 'other.test': ['127.0.0.1'] });
    const policy = urlPolicy(['files.test']);
    expect((await fetchClientUrl(`http://files.test:${port}/ok`, { maxBytes: 1000, timeoutMs: 3000, policy, resolve: dns })).data.equals(BYTES)).toBe(true);
    expect((await failure(`http://other.test:${port}/ok`, { policy, resolve: dns })).code).toBe('url_refused');
    expect((await failure(`${base()}/ok`, { policy, resolve: dns })).code).toBe('url_refused');
  });

  it('a name that does not resolve could not be fetched (the resolver error is not shown)', async () => {
    const error = await failure(`http://nowhere.test/x`, { resolve: resolver({}) });
    expect(error.code).toBe('url_fetch_failed');
    expect(error.message).toBe('The URL could not be fetched');
    expectNoTargetDetails(error, 'nowhere.test');
  });

  it('follows redirects between allowed URLs and refuses the hop to a blocked one', async () => {
    expect((await fetchClientUrl(`${base()}/to?u=/ok`, { maxBytes: 1000, timeoutMs: 3000, policy: LOOPBACK })).data.equals(BYTES)).toBe(true);
    expect((await fetchClientUrl(`${base()}/chain?n=4`, { maxBytes: 1000, timeoutMs: 3000, policy: LOOPBACK })).data.equals(BYTES)).toBe(true);
    for (const status of [301, 302, 303, 307, 308]) {
      expect((await fetchClientUrl(`${base()}/to?s=${status}&u=${encodeURIComponent(`${base()}/ok`)}`, { maxBytes: 1000, timeoutMs: 3000, policy: LOOPBACK })).data.equals(BYTES)).toBe(true);
    }
    const dns = resolver({ 'internal.test': ['192.168.0.10'] });
    const targets = [
      `http://127.0.0.2:${port}/ok`, // loopback, but not the allow-listed address
      'http://169.254.169.254/latest/meta-data/iam/',
      'http://[::1]/',
      `http://localhost:${port}/ok`,
      'http://metadata.google.internal/computeMetadata/v1/',
      'http://internal.test/admin',
      'http://2852039166/', // 169.254.169.254 in decimal
      'file:///etc/passwd',
      `http://user:pw@127.0.0.1:${port}/ok`,
    ];
    for (const target of targets) {
      hits = [];
      const error = await failure(`${base()}/to?u=${encodeURIComponent(target)}`, { policy: LOOPBACK, resolve: dns });
      expect(error.code, target).toBe('url_refused');
      expect(hits).toEqual([`/to?u=${encodeURIComponent(target)}`]); // the first hop only
      expectNoTargetDetails(error, '127.0.0.2', '169.254', 'meta-data', 'internal', 'passwd', '192.168', '2852039166', 'localhost');
    }
    expect(dns.calls).toEqual(['internal.test']);
  });

  it('stops after maxRedirects', async () => {
    expect((await failure(`${base()}/loop`, { policy: LOOPBACK })).code).toBe('url_fetch_failed');
    expect((await failure(`${base()}/chain?n=3`, { policy: LOOPBACK, maxRedirects: 2 })).code).toBe('url_fetch_failed');
    expect((await fetchClientUrl(`${base()}/chain?n=1`, { maxBytes: 1000, timeoutMs: 3000, policy: LOOPBACK, maxRedirects: 2 })).data.equals(BYTES)).toBe(true);
  });

  it('an answer other than 200 could not be fetched; a closed port likewise, without the socket error', async () => {
    const missing = await failure(`${base()}/missing`, { policy: LOOPBACK });
    expect(missing.code).toBe('url_fetch_failed');
    expectNoTargetDetails(missing, '404', 'not here');
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const closedPort = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const refused = await failure(`http://127.0.0.1:${closedPort}/x`, { policy: LOOPBACK });
    expect(refused.code).toBe('url_fetch_failed');
    expectNoTargetDetails(refused, String(closedPort));
  });

  it('limits the size: by Content-Length, while streaming, and exactly maxBytes passes', async () => {
    const declared = await failure(`${base()}/big`, { policy: LOOPBACK, maxBytes: 1000 });
    expect([declared.kind, declared.code]).toEqual(['request_too_large', 'url_too_large']);
    const started = Date.now();
    const streamed = await failure(`${base()}/stream-big`, { policy: LOOPBACK, maxBytes: 4096 });
    expect([streamed.kind, streamed.code]).toEqual(['request_too_large', 'url_too_large']);
    expect(Date.now() - started).toBeLessThan(2500);
    expect((await fetchClientUrl(`${base()}/exact`, { maxBytes: 1000, timeoutMs: 3000, policy: LOOPBACK })).data.length).toBe(1000);
    expect((await failure(`${base()}/exact`, { policy: LOOPBACK, maxBytes: 999 })).code).toBe('url_too_large');
  });

  it('limits the time: no headers, a stalled body, a resolver that never answers', async () => {
    for (const [url, resolve] of [
      [`${base()}/slow-headers`, noDns],
      [`${base()}/slow-body`, noDns],
      ['http://hang.test/x', (() => new Promise(() => undefined)) as ResolveFn],
    ] as const) {
      const started = Date.now();
      const error = await failure(url, { policy: LOOPBACK, timeoutMs: 300, resolve });
      expect(error.code, url).toBe('url_fetch_timeout');
      expect(error.kind).toBe('invalid_request'); // not retryable: another attempt would fetch it again
      expect(error.message).toBe('The URL could not be fetched within 0.3 s');
      expect(Date.now() - started).toBeLessThan(2000);
    }
  });

  it("rethrows the client's abort reason", async () => {
    const controller = new AbortController();
    const reason = new Error('client went away');
    setTimeout(() => controller.abort(reason), 100);
    await expect(fetchClientUrl(`${base()}/slow-headers`, { maxBytes: 1000, timeoutMs: 5000, policy: LOOPBACK, signal: controller.signal })).rejects.toBe(reason);
    const aborted = new AbortController();
    aborted.abort(reason);
    await expect(fetchClientUrl(`${base()}/ok`, { maxBytes: 1000, timeoutMs: 5000, policy: LOOPBACK, signal: aborted.signal })).rejects.toBe(reason);
  });

  it('fuzz: names resolving to random blocked addresses are refused and never named', async () => {
    let n = 0;
    const blockedAddress = fc.oneof(
      interestingV4.filter(refV4Blocked).map(v4Text),
      interestingV6.filter(refV6Blocked).chain((x) => fc.nat(7).map((form) => v6Text(x, form))),
    ).filter((address) => !LOOPBACK.allowsAddress(address));
    await fc.assert(
      fc.asyncProperty(fc.domain(), fc.array(blockedAddress, { minLength: 1, maxLength: 3 }), fc.array(fc.constantFrom('127.0.0.1', '::ffff:127.0.0.1'), { maxLength: 2 }), async (name, bad, good) => {
        n++;
        // Blocked per the production classifier too, so a bug could not make this test connect anywhere.
        for (const address of bad) expect(blockedReason(address), address).toBeDefined();
        const fqdn = `${name}.test`;
        const dns = resolver({ [fqdn]: [...good, ...bad] });
        // The "good" answers are loopback, allow-listed: were a blocked answer ignored, the fetch
        // would go to 127.0.0.1 (and fail differently), never to another host.
        const error = await failure(`https://${fqdn}/image.png`, { resolve: dns, policy: LOOPBACK });
        expect(error.code).toBe('url_refused');
        expectNoTargetDetails(error, fqdn, ...bad, 'image.png');
      }),
      { numRuns: 300 },
    );
    expect(n).toBe(300);
  });
});
