// Real client requests for benchmarks. The captures in test/fixtures/clients cut strings over
// 200 characters ("…[trimmed, N chars total]"); this restores each to its full length with
// English-like filler, so a Claude Code first turn is its real ~80 KB again.
import { readFileSync } from 'node:fs';
import path from 'node:path';

const WORDS = 'the tool reads a file and returns its content so the agent can decide what to edit next while keeping the user informed'.split(' ');
const TRIMMED = /…\[trimmed, (\d+) chars total\]/;

function filler(length: number, seed: number): string {
  let out = '';
  for (let i = seed; out.length < length; i++) out += `${WORDS[i % WORDS.length]} `;
  return out.slice(0, length);
}

function restore(value: unknown, seed = { n: 0 }): unknown {
  if (typeof value === 'string') {
    const match = TRIMMED.exec(value);
    if (!match) return value;
    const head = value.slice(0, match.index);
    return head + filler(Number(match[1]) - head.length, seed.n++);
  }
  if (Array.isArray(value)) return value.map((v) => restore(v, seed));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, restore(v, seed)]));
  }
  return value;
}

export function capturedBody(name: string): Record<string, unknown> {
  const capture = JSON.parse(readFileSync(path.resolve('test/fixtures/clients', name), 'utf8')) as { body: unknown };
  return restore(capture.body) as Record<string, unknown>;
}
