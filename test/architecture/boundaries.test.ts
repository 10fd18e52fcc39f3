// The layering of src/ (docs/ARCHITECTURE.md), checked over the real import graph so a change that
// crosses a boundary fails CI instead of waiting for a review:
// - core/ imports nothing of ours outside core/;
// - protocols/ and providers/ never import each other, and protocols/ never imports the pipeline;
// - tools/ imports neither protocols/, providers/ nor pipeline/;
// - admin/ and http/ reach providers only through capabilities (core/provider.ts);
// - outside providers/, only the catalog and the registry are imported (and the CLI's cookie-file
//   converter);
// - no import cycles among runtime imports.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = path.resolve('src');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    return statSync(full).isDirectory() ? files(full) : full.endsWith('.ts') && !full.endsWith('.d.ts') ? [full] : [];
  });
}

interface Edge {
  from: string;
  to: string;
  typeOnly: boolean;
}

/** Every relative import of every file under src/, as paths relative to src/. */
function importGraph(): Edge[] {
  const edges: Edge[] = [];
  const pattern = /(?:^|\n)\s*(import|export)\s+(type\s+)?(?:[^'";]*?\sfrom\s+)?['"](\.{1,2}\/[^'"]+)['"]|import\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)/g;
  for (const file of files(SRC)) {
    const text = readFileSync(file, 'utf8');
    for (const match of text.matchAll(pattern)) {
      const spec = match[3] ?? match[4]!;
      const target = path.resolve(path.dirname(file), spec.replace(/\.js$/, '.ts'));
      edges.push({ from: path.relative(SRC, file), to: path.relative(SRC, target), typeOnly: Boolean(match[2]) });
    }
  }
  return edges;
}

const graph = importGraph();
const top = (p: string) => (p.includes(path.sep) ? p.split(path.sep)[0]! : '.');
const violations = (rule: (e: Edge) => boolean) => graph.filter(rule).map((e) => `${e.from} -> ${e.to}`);

describe('module boundaries', () => {
  it('reads a graph of the real size (the check itself works)', () => {
    expect(graph.length).toBeGreaterThan(200);
    expect(graph.some((e) => e.from === 'app.ts' && e.to === 'pipeline/serve.ts')).toBe(true);
  });

  it('core/ imports nothing of ours outside core/', () => {
    expect(violations((e) => top(e.from) === 'core' && top(e.to) !== 'core')).toEqual([]);
  });

  it('protocols/ and providers/ never import each other; protocols/ never imports the pipeline', () => {
    expect(violations((e) => top(e.from) === 'protocols' && ['providers', 'pipeline'].includes(top(e.to)))).toEqual([]);
    expect(violations((e) => top(e.from) === 'providers' && ['protocols', 'pipeline'].includes(top(e.to)))).toEqual([]);
  });

  it('tools/ imports neither protocols/, providers/ nor the pipeline', () => {
    expect(violations((e) => top(e.from) === 'tools' && ['protocols', 'providers', 'pipeline'].includes(top(e.to)))).toEqual([]);
  });

  it('admin/ and http/ reach providers only through capabilities', () => {
    expect(violations((e) => ['admin', 'http'].includes(top(e.from)) && top(e.to) === 'providers')).toEqual([]);
  });

  it('outside providers/, only the catalog and the registry are imported', () => {
    const allowed = new Set(['providers/catalog.ts', 'providers/registry.ts']);
    const cliConverter = (e: Edge) => e.from === 'cli.ts' && e.to === 'providers/gemini-web/cookie-file.ts';
    expect(violations((e) => top(e.from) !== 'providers' && top(e.to) === 'providers' && !allowed.has(e.to) && !cliConverter(e))).toEqual([]);
  });

  it('has no import cycles among runtime imports', () => {
    const next = new Map<string, string[]>();
    for (const e of graph) if (!e.typeOnly) next.set(e.from, [...(next.get(e.from) ?? []), e.to]);
    const cycles: string[] = [];
    const state = new Map<string, 'open' | 'done'>();
    const walk = (node: string, trail: string[]) => {
      if (state.get(node) === 'done') return;
      if (state.get(node) === 'open') {
        cycles.push([...trail.slice(trail.indexOf(node)), node].join(' -> '));
        return;
      }
      state.set(node, 'open');
      for (const to of next.get(node) ?? []) walk(to, [...trail, node]);
      state.set(node, 'done');
    };
    for (const node of next.keys()) walk(node, []);
    expect(cycles).toEqual([]);
  });
});
