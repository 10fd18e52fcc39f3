// RSS of a process around the BPE worker: before, after counts, and after the worker ended when idle.
//   npx tsc -p tsconfig.bench.json && node --expose-gc dist-bench/bench/bpe-worker-rss.js
import { readFileSync } from 'node:fs';
import { BpeWorker } from '../src/core/bpe-worker.js';

const rss = () => `${(process.memoryUsage().rss / 1048576).toFixed(1)} MiB`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const gc = (globalThis as { gc?: () => void }).gc;

const out: string[] = [`start ${rss()}`];
const bpe = new BpeWorker({ idleMs: 1000 });
const text = readFileSync('test/fixtures/tokens/clients/claude-code_08_messages_interactive_main.txt', 'utf8');
await bpe.count(text);
out.push(`after one ${(text.length / 1024).toFixed(0)} KB count ${rss()}`);
await bpe.count('你'.repeat(2_000_000));
out.push(`after 2 M CJK characters ${rss()}`);
await sleep(1500);
gc?.();
out.push(`worker ended (${bpe.running ? 'still running' : 'idle 1 s'}) ${rss()}`);
await sleep(5000);
gc?.();
out.push(`5 s later ${rss()}`);
console.log(out.join('; '));
