// What a Node AbortSignal costs per request, against the RequestAbort the pipeline uses instead
// (src/core/call-signal.ts): create, add a listener, remove it. `node bench/abort-signal-cost.mjs`
// (after `npm run build`: it loads the tsc output in dist/).
import { RequestAbort } from '../dist/core/call-signal.js';

const N = 200_000;
const kept = new Array(1024);
const noop = () => {};
function measure(label, make) {
  for (let i = 0; i < 20_000; i++) kept[i & 1023] = make();
  const started = performance.now();
  for (let i = 0; i < N; i++) kept[i & 1023] = make();
  console.log(`${label.padEnd(52)} ${(((performance.now() - started) * 1000) / N).toFixed(2)} µs`);
}

measure('AbortController + signal', () => new AbortController().signal);
measure('AbortController + signal + add/remove listener', () => {
  const signal = new AbortController().signal;
  signal.addEventListener('abort', noop, { once: true });
  signal.removeEventListener('abort', noop);
  return signal;
});
measure('RequestAbort + add/remove listener', () => {
  const abort = new RequestAbort();
  abort.addEventListener('abort', noop, { once: true });
  abort.removeEventListener('abort', noop);
  return abort;
});
