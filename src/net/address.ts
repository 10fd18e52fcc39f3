// Which network addresses and host names a client-chosen URL may reach (SSRF guard, issue 14).
// Pure functions, no I/O: the fetcher (url-guard.ts) resolves names and asks here about every
// address it would connect to. Anything that is not plainly a public unicast address is refused:
// loopback, private, shared (CGNAT), link-local (cloud metadata at 169.254.169.254), multicast,
// reserved and documentation ranges, and IPv6 forms that embed such an IPv4 address (mapped,
// SIIT, NAT64, 6to4, Teredo). `security.fetch_allow` lists the exceptions.

import { BlockList, isIP, isIPv4, isIPv6 } from 'node:net';

/** IPv4 ranges that are never fetched (RFC 6890 special-purpose registry, roughly). */
const V4_BLOCKED: ReadonlyArray<readonly [string, number, string]> = [
  ['0.0.0.0', 8, 'this network'],
  ['10.0.0.0', 8, 'private'],
  ['100.64.0.0', 10, 'shared address space'],
  ['127.0.0.0', 8, 'loopback'],
  ['169.254.0.0', 16, 'link-local'],
  ['172.16.0.0', 12, 'private'],
  ['192.0.0.0', 24, 'IETF protocol assignments'],
  ['192.0.2.0', 24, 'documentation'],
  ['192.88.99.0', 24, '6to4 relay anycast'],
  ['192.168.0.0', 16, 'private'],
  ['198.18.0.0', 15, 'benchmarking'],
  ['198.51.100.0', 24, 'documentation'],
  ['203.0.113.0', 24, 'documentation'],
  ['224.0.0.0', 4, 'multicast'],
  ['240.0.0.0', 4, 'reserved'], // includes the broadcast address 255.255.255.255
];

/** Inside global unicast (2000::/3), the parts that are not reachable public hosts. */
const V6_BLOCKED_GLOBAL: ReadonlyArray<readonly [string, number, string]> = [
  ['2001:2::', 48, 'benchmarking'],
  ['2001:10::', 28, 'ORCHID'],
  ['2001:20::', 28, 'ORCHIDv2'],
  ['2001:db8::', 32, 'documentation'],
  ['3fff::', 20, 'documentation'],
];

function blockList(ranges: ReadonlyArray<readonly [string, number, string]>, type: 'ipv4' | 'ipv6'): Array<{ list: BlockList; reason: string }> {
  return ranges.map(([network, prefix, reason]) => {
    const list = new BlockList();
    list.addSubnet(network, prefix, type);
    return { list, reason };
  });
}

const V4_LISTS = blockList(V4_BLOCKED, 'ipv4');
const V6_LISTS = blockList(V6_BLOCKED_GLOBAL, 'ipv6');

/** Host names refused whatever they resolve to (resolvers may answer them locally). */
const BLOCKED_NAMES = new Set(['localhost', 'localhost.localdomain', 'ip6-localhost', 'ip6-loopback', 'metadata', 'metadata.goog', 'metadata.google.internal', 'instance-data', 'instance-data.ec2.internal']);
/** Suffixes of names that only exist inside a network: .localhost, mDNS, .internal, home networks. */
const BLOCKED_SUFFIXES = ['.localhost', '.local', '.internal', '.home.arpa', '.localdomain', '.metadata.goog'];

/** "fe80::1%eth0" / "[::1]" -> "fe80::1" / "::1"; lower case. */
export function stripAddress(text: string): string {
  let s = text.trim().toLowerCase();
  if (s.startsWith('[') && s.endsWith(']')) s = s.slice(1, -1);
  const zone = s.indexOf('%');
  return zone >= 0 ? s.slice(0, zone) : s;
}

/** The eight 16-bit groups of an IPv6 address (any textual form, dotted tail too), or undefined. */
export function ipv6Groups(text: string): number[] | undefined {
  const s = stripAddress(text);
  if (!isIPv6(s)) return undefined;
  let head = s;
  const tail: number[] = [];
  const lastColon = s.lastIndexOf(':');
  const last = s.slice(lastColon + 1);
  if (last.includes('.')) {
    const v4 = ipv4Number(last);
    if (v4 === undefined) return undefined;
    tail.push(v4 >>> 16, v4 & 0xffff);
    head = s.slice(0, lastColon + 1);
    if (head.endsWith(':') && !head.endsWith('::')) head = head.slice(0, -1);
  }
  const parse = (part: string): number[] => (part === '' ? [] : part.split(':').map((g) => parseInt(g, 16)));
  let groups: number[];
  const gap = head.indexOf('::');
  if (gap >= 0) {
    const left = parse(head.slice(0, gap));
    const right = [...parse(head.slice(gap + 2)), ...tail];
    const fill = 8 - left.length - right.length;
    if (fill < 0) return undefined;
    groups = [...left, ...new Array<number>(fill).fill(0), ...right];
  } else {
    groups = [...parse(head), ...tail];
  }
  return groups.length === 8 && groups.every((g) => Number.isInteger(g) && g >= 0 && g <= 0xffff) ? groups : undefined;
}

/** Dotted-quad IPv4 (the only form DNS answers and normalized URLs use) -> 32-bit number. */
function ipv4Number(text: string): number | undefined {
  if (!isIPv4(text)) return undefined;
  return text.split('.').reduce((n, octet) => n * 256 + Number(octet), 0);
}

function ipv4Text(n: number): string {
  return [n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff].join('.');
}

function v4From(high: number, low: number): string {
  return ipv4Text(((high << 16) | low) >>> 0);
}

/** IPv4-mapped IPv6 (::ffff:a.b.c.d) -> a.b.c.d; anything else unchanged (stripped, lower case). */
export function normalizeAddress(text: string): string {
  const s = stripAddress(text);
  if (!isIPv6(s)) return s;
  const g = ipv6Groups(s);
  if (g && g[0] === 0 && g[1] === 0 && g[2] === 0 && g[3] === 0 && g[4] === 0 && g[5] === 0xffff) return v4From(g[6]!, g[7]!);
  return s;
}

function v4Reason(address: string): string | undefined {
  for (const { list, reason } of V4_LISTS) if (list.check(address, 'ipv4')) return reason;
  return undefined;
}

/**
 * Why an address must not be fetched, or undefined for a public unicast address. Unparseable
 * input is refused (fail closed).
 */
export function blockedReason(text: string): string | undefined {
  const s = stripAddress(text);
  if (isIPv4(s)) return v4Reason(s);
  const g = ipv6Groups(s);
  if (!g) return 'not an IP address';
  const embedded = (v4: string, form: string): string | undefined => {
    const reason = v4Reason(v4);
    return reason ? `${reason} (IPv4 in ${form})` : undefined;
  };
  const zeros = (from: number, to: number) => g.slice(from, to).every((x) => x === 0);
  // ::ffff:a.b.c.d (mapped) and ::ffff:0:a.b.c.d (SIIT) reach the IPv4 address itself.
  if (zeros(0, 5) && g[5] === 0xffff) return embedded(v4From(g[6]!, g[7]!), 'IPv4-mapped IPv6');
  if (zeros(0, 4) && g[4] === 0xffff && g[5] === 0) return embedded(v4From(g[6]!, g[7]!), 'SIIT IPv6');
  // 64:ff9b::/96: NAT64 translators reach the embedded IPv4 address.
  if (g[0] === 0x64 && g[1] === 0xff9b && zeros(2, 6)) return embedded(v4From(g[6]!, g[7]!), 'NAT64 IPv6');
  // 2002::/16: 6to4, the IPv4 address in bits 16-47.
  if (g[0] === 0x2002) return embedded(v4From(g[1]!, g[2]!), '6to4 IPv6');
  // 2001::/32: Teredo, the server in bits 32-63 and the client obfuscated (inverted) in bits 96-127.
  if (g[0] === 0x2001 && g[1] === 0) {
    return embedded(v4From(g[2]!, g[3]!), 'Teredo IPv6') ?? embedded(v4From(~g[6]! & 0xffff, ~g[7]! & 0xffff), 'Teredo IPv6');
  }
  // Only 2000::/3 is global unicast: the rest is ::, ::1, IPv4-compatible, fc00::/7, fe80::/10,
  // fec0::/10, ff00::/8, 100::/64, 64:ff9b:1::/48 and unassigned space.
  if ((g[0]! & 0xe000) !== 0x2000) {
    if (zeros(0, 7) && g[7] === 0) return 'unspecified';
    if (zeros(0, 7) && g[7] === 1) return 'loopback';
    if ((g[0]! & 0xfe00) === 0xfc00) return 'unique local';
    if ((g[0]! & 0xffc0) === 0xfe80) return 'link-local';
    if ((g[0]! & 0xff00) === 0xff00) return 'multicast';
    return 'not global unicast';
  }
  for (const { list, reason } of V6_LISTS) if (list.check(s, 'ipv6')) return reason;
  return undefined;
}

/** Host name (lower case, no trailing dot) that is refused whatever it resolves to. */
export function blockedName(hostname: string): boolean {
  const name = normalizeHostname(hostname);
  return BLOCKED_NAMES.has(name) || BLOCKED_SUFFIXES.some((suffix) => name.endsWith(suffix));
}

/** Lower case, without brackets and trailing dots. */
export function normalizeHostname(hostname: string): string {
  let name = hostname.trim().toLowerCase();
  if (name.startsWith('[') && name.endsWith(']')) name = name.slice(1, -1);
  return name.replace(/\.+$/, '');
}

// --- the allow-list (security.fetch_allow) -------------------------------------------------

export type AllowEntry =
  | { kind: 'net'; network: string; prefix: number; family: 'ipv4' | 'ipv6' }
  | { kind: 'host'; name: string }
  | { kind: 'suffix'; suffix: string };

const LABEL = '[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?';
const HOSTNAME = new RegExp(`^${LABEL}(\\.${LABEL})*$`);

/** "10.0.0.0/8", "fd00::/8", "127.0.0.1", "[::1]", "files.lan", "*.corp.example" -> entry; else undefined. */
export function parseAllowEntry(text: string): AllowEntry | undefined {
  const raw = text.trim().toLowerCase();
  if (raw === '') return undefined;
  const slash = raw.indexOf('/');
  if (slash >= 0) {
    const network = normalizeAddress(raw.slice(0, slash));
    const prefixText = raw.slice(slash + 1);
    const family = isIP(network);
    if (family === 0 || !/^\d{1,3}$/.test(prefixText)) return undefined;
    const prefix = Number(prefixText);
    if (prefix > (family === 4 ? 32 : 128)) return undefined;
    return { kind: 'net', network, prefix, family: family === 4 ? 'ipv4' : 'ipv6' };
  }
  const address = normalizeAddress(raw);
  const family = isIP(address);
  if (family !== 0) return { kind: 'net', network: address, prefix: family === 4 ? 32 : 128, family: family === 4 ? 'ipv4' : 'ipv6' };
  if (raw.startsWith('*.')) {
    const suffix = normalizeHostname(raw.slice(2));
    return HOSTNAME.test(suffix) ? { kind: 'suffix', suffix } : undefined;
  }
  const name = normalizeHostname(raw);
  // A name made of digits and dots only would be read as an IPv4 address by URL parsers.
  return HOSTNAME.test(name) && !/^[\d.]+$/.test(name) ? { kind: 'host', name } : undefined;
}

/** The compiled allow-list: addresses (CIDRs) and host names that may be fetched though private. */
export interface UrlPolicy {
  /** The host name was listed (exactly, or under a `*.` suffix): its addresses are not checked. */
  allowsHost(hostname: string): boolean;
  /** The address is inside a listed network (IPv4-mapped IPv6 counts as IPv4). */
  allowsAddress(address: string): boolean;
}

/** Compiles `security.fetch_allow`. Invalid entries throw (the config schema rejects them first). */
export function urlPolicy(allow: readonly string[] = []): UrlPolicy {
  const v4 = new BlockList();
  const v6 = new BlockList();
  const hosts = new Set<string>();
  const suffixes: string[] = [];
  for (const text of allow) {
    const entry = parseAllowEntry(text);
    if (!entry) throw new Error(`security.fetch_allow: not an IP address, CIDR or host name: "${text}"`);
    if (entry.kind === 'net') (entry.family === 'ipv4' ? v4 : v6).addSubnet(entry.network, entry.prefix, entry.family);
    else if (entry.kind === 'host') hosts.add(entry.name);
    else suffixes.push(`.${entry.suffix}`);
  }
  return {
    allowsHost(hostname) {
      const name = normalizeHostname(hostname);
      return hosts.has(name) || suffixes.some((suffix) => name.endsWith(suffix));
    },
    allowsAddress(text) {
      const address = normalizeAddress(text);
      if (isIPv4(address)) return v4.check(address, 'ipv4');
      return isIPv6(address) && v6.check(address, 'ipv6');
    },
  };
}

/** Nothing allowed beyond public addresses. */
export const DEFAULT_POLICY: UrlPolicy = urlPolicy([]);
