// Measurements on one target process: CPU from /proc (the target's own utime + stime, so the load
// generator's work is not counted), memory from /proc, throughput with autocannon, latency and time
// to first byte with sequential requests, CPU per chunk on paced streams.
import { readFileSync } from 'node:fs';
import autocannon from 'autocannon';
import { request } from 'undici';

export const TOKEN = 'bench-token-0123456789abcdef';
const HEADERS = { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` };

/** utime + stime of a process in microseconds (/proc counts clock ticks of 10 ms). */
export function cpuMicros(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10_000;
}

/** Resident set now and its high-water mark (VmHWM), MiB. */
export function memory(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (name: string) => Number(new RegExp(`${name}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
  return { rss: kb('VmRSS') / 1024, peak: kb('VmHWM') / 1024 };
}

export const median = (xs: number[]): number => (xs.length ? [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]! : NaN);
const percentile = (xs: number[], p: number): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))] ?? NaN;

export interface Throughput {
  rps: number;
  cpuUs: number;
}

/** Requests per second at `connections` concurrent connections, and the target's CPU per request. */
export async function throughput(url: string, body: object, connections: number, seconds: number, pid: number): Promise<Throughput> {
  const cpuBefore = cpuMicros(pid);
  const result = await autocannon({ url, method: 'POST', connections, duration: seconds, headers: HEADERS, body: JSON.stringify(body) });
  const cpu = cpuMicros(pid) - cpuBefore;
  const failed = result.errors + result.non2xx + result.timeouts;
  if (failed > 0) throw new Error(`${url} ${JSON.stringify(body).slice(0, 80)}: ${failed} failed requests`);
  const requests = result.requests.total;
  // Over the time autocannon really ran: it sometimes runs a second past `duration` (4.02 s for 3
  // seconds, measured), and requests / seconds then read a third too high.
  return { rps: requests / (result.duration || seconds), cpuUs: requests ? cpu / requests : 0 };
}

export interface Latency {
  p50: number;
  p99: number;
  ttfb50: number;
}

/** One request: ms to the first body byte and to the end. */
async function timeOne(url: string, payload: string): Promise<{ first: number; total: number }> {
  const started = performance.now();
  const res = await request(url, { method: 'POST', headers: HEADERS, body: payload });
  if (res.statusCode !== 200) throw new Error(`${url}: HTTP ${res.statusCode}: ${await res.body.text()}`);
  let first = 0;
  for await (const _chunk of res.body) if (!first) first = performance.now() - started;
  return { first, total: performance.now() - started };
}

/**
 * c=1 latency from sequential requests for `seconds` (autocannon's histogram counts whole ms, too
 * coarse for sub-millisecond answers): p50 / p99 of the whole answer, p50 of the first byte.
 */
export async function latency(url: string, body: object, seconds: number): Promise<Latency> {
  const payload = JSON.stringify(body);
  const firsts: number[] = [];
  const totals: number[] = [];
  const until = performance.now() + seconds * 1000;
  while (performance.now() < until || totals.length < 20) {
    const { first, total } = await timeOne(url, payload);
    firsts.push(first);
    totals.push(total);
  }
  return { p50: median(totals), p99: percentile(totals, 0.99), ttfb50: median(firsts) };
}

/**
 * CPU per chunk on paced streams: `concurrency` connections each run `perConnection` streams of
 * `chunks` chunks back to back; the target's CPU over the run divided by the chunks delivered. A
 * fixed amount of work (not a fixed time) so no stream is cut off at the end of the measurement.
 */
export async function pacedChunkCpu(url: string, body: object, chunks: number, concurrency: number, perConnection: number, pid: number): Promise<number> {
  const payload = JSON.stringify(body);
  const cpuBefore = cpuMicros(pid);
  const connection = async () => {
    for (let i = 0; i < perConnection; i++) await timeOne(url, payload);
  };
  await Promise.all(Array.from({ length: concurrency }, connection));
  return (cpuMicros(pid) - cpuBefore) / (concurrency * perConnection * chunks);
}
