// Preloaded into the gateway process by test/load.test.ts (NODE_OPTIONS="--expose-gc --import …").
// On SIGUSR2: a full garbage collection, then one line "heapUsed external rss" appended to
// GW_GC_PROBE_FILE. Memory after a forced GC is what the process retains; RSS is not (it moves with
// every collection and with whatever else uses the machine).
// GW_TEST_LEAK_BYTES > 0 retains that many bytes per HTTP request: a deliberate leak, to prove the
// load test catches one (see test/load.test.ts).
import { appendFileSync } from 'node:fs';
import diagnostics from 'node:diagnostics_channel';

const file = process.env.GW_GC_PROBE_FILE;
if (file && typeof globalThis.gc === 'function') {
  process.on('SIGUSR2', () => {
    globalThis.gc();
    const m = process.memoryUsage();
    appendFileSync(file, `${m.heapUsed} ${m.external} ${m.rss}\n`);
  });
}

const leakBytes = Number(process.env.GW_TEST_LEAK_BYTES ?? 0);
if (leakBytes > 0) {
  const kept = [];
  diagnostics.subscribe('http.server.request.start', () => {
    kept.push(`${Math.random()}`.padEnd(leakBytes, 'x'));
  });
}
