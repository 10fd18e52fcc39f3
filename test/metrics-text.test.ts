// The gateway's own series in the Prometheus text format (src/metrics.ts writes it by hand).
import { describe, expect, it } from 'vitest';
import { Counter, Gauge, Histogram, renderMetrics } from '../src/metrics.js';

describe('metrics text', () => {
  it('writes cumulative histogram buckets, +Inf, sum and count per label set', () => {
    const h = new Histogram('t_seconds', 'help text', ['route'], [0.01, 0.1, 1]);
    for (const v of [0.003, 0.01, 0.2, 0.5, 7]) h.observe({ route: '/a' }, v);
    h.observe({ route: '/b' }, 0.05);
    expect(h.render()).toBe(
      '# HELP t_seconds help text\n# TYPE t_seconds histogram\n' +
        't_seconds_bucket{route="/a",le="0.01"} 2\nt_seconds_bucket{route="/a",le="0.1"} 2\nt_seconds_bucket{route="/a",le="1"} 4\nt_seconds_bucket{route="/a",le="+Inf"} 5\n' +
        `t_seconds_sum{route="/a"} ${0.003 + 0.01 + 0.2 + 0.5 + 7}\nt_seconds_count{route="/a"} 5\n` +
        't_seconds_bucket{route="/b",le="0.01"} 0\nt_seconds_bucket{route="/b",le="0.1"} 1\nt_seconds_bucket{route="/b",le="1"} 1\nt_seconds_bucket{route="/b",le="+Inf"} 1\n' +
        't_seconds_sum{route="/b"} 0.05\nt_seconds_count{route="/b"} 1\n',
    );
  });

  it('keeps one series per label combination, escapes label values, and shows an unlabelled counter at 0', () => {
    const c = new Counter('t_total', 'h', ['a', 'b']);
    c.inc({ a: 'x', b: 'y' });
    c.inc({ a: 'x', b: 'y' }, 2);
    c.inc({ a: 'x', b: 'z' });
    c.inc({ a: 'q"\\\n', b: '' });
    expect(c.render().split('\n').slice(2)).toEqual(['t_total{a="x",b="y"} 3', 't_total{a="x",b="z"} 1', 't_total{a="q\\"\\\\\\n",b=""} 1', '']);
    expect(new Counter('t_plain_total', 'h').render()).toContain('\nt_plain_total 0\n');
    const g = new Gauge('t_gauge', 'h');
    g.inc();
    g.inc();
    g.dec();
    expect(g.render()).toBe('# HELP t_gauge h\n# TYPE t_gauge gauge\nt_gauge 1\n');
  });

  it('adds the process and Node.js series from prom-client', async () => {
    const text = await renderMetrics();
    expect(text).toMatch(/^# TYPE gateway_requests_total counter$/m);
    expect(text).toMatch(/^gateway_process_resident_memory_bytes \d+/m);
    expect(text).toMatch(/^gateway_nodejs_eventloop_lag_p99_seconds /m);
  });
});
