// The production bundle: src/main.ts -> dist/gateway.js and src/cli.ts -> dist/gateway-cli.js,
// with every dependency inside (the Docker image runs them with no node_modules). Start-up time is
// mostly module loading: one file instead of hundreds of ES modules saves the resolution and the
// per-module link work. Code splitting puts what is imported with `import()` (Gemini web provider,
// ioredis, gpt-tokenizer, ...) in dist/chunks/, loaded only when a config uses it.
// Code only ever required lazily goes to CommonJS bundles in dist/lazy/ (see LAZY_CJS).
// `node scripts/bundle.mjs [--if-stale]`: with --if-stale, nothing is done when the bundle is newer
// than every file under src/ and package-lock.json (prestart on a fresh clone builds it once).

import { readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { build } from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = path.join(root, 'dist');
const ENTRIES = { gateway: 'src/main.ts', 'gateway-cli': 'src/cli.ts' };

function newestMtime(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(full) : statSync(full).mtimeMs);
  }
  return newest;
}

function isStale() {
  let built;
  try {
    built = Math.min(...Object.keys(ENTRIES).map((name) => statSync(path.join(dist, `${name}.js`)).mtimeMs));
  } catch {
    return true;
  }
  return Math.max(newestMtime(path.join(root, 'src')), statSync(path.join(root, 'package-lock.json')).mtimeMs, statSync(fileURLToPath(import.meta.url)).mtimeMs, statSync(UNDICI_SLIM).mtimeMs) > built;
}

// Two modules load CommonJS code lazily with createRequire so the tsc output keeps it lazy and
// synchronous: ajv in src/tools/args.ts, Fastify's schema compilers in src/http/schema-compilers.ts.
// esbuild cannot follow those calls, so the bundle turns them into plain require()s; LAZY_CJS below
// then sends them to dist/lazy/ (loaded on first call, not even parsed at start).
const REWRITES = {
  // The BPE worker loads the tokenizer by path: in the bundle that is its lazy CommonJS file.
  'src/core/bpe-worker.ts': [["createRequire(import.meta.url).resolve('gpt-tokenizer/encoding/o200k_base')", "require.resolve('./lazy/gpt-tokenizer-o200k.cjs')"]],
  'src/tools/args.ts': [["createRequire(import.meta.url)('ajv/dist/2020.js')", "require('ajv/dist/2020.js')"]],
  'src/http/schema-compilers.ts': [
    ["const fastifyRequire = createRequire(createRequire(import.meta.url).resolve('fastify'));", ''],
    ["fastifyRequire('@fastify/ajv-compiler')", "require('@fastify/ajv-compiler')"],
    ["fastifyRequire('@fastify/fast-json-stringify-compiler')", "require('@fastify/fast-json-stringify-compiler')"],
  ],
};
const lazyRequires = {
  name: 'lazy-requires',
  setup(b) {
    b.onLoad({ filter: /[\\/]src[\\/].*\.ts$/ }, (args) => {
      const rewrites = REWRITES[path.relative(root, args.path).split(path.sep).join('/')];
      if (!rewrites) return undefined;
      let source = readFileSync(args.path, 'utf8');
      for (const [from, to] of rewrites) {
        if (!source.includes(from)) throw new Error(`bundle: ${from} not found in ${args.path} (update REWRITES in scripts/bundle.mjs)`);
        source = source.replaceAll(from, to);
      }
      return { contents: source, loader: 'ts' };
    });
  },
};

// `undici` from src/ resolves to scripts/undici-slim.cjs (the parts the gateway uses); the slim
// file's own `undici/lib/...` requires resolve normally. Every name src/ imports must be there.
const UNDICI_SLIM = path.join(root, 'scripts', 'undici-slim.cjs');
const UNDICI_EXPORTS = ['Dispatcher', 'Agent', 'ProxyAgent', 'Socks5ProxyAgent', 'EnvHttpProxyAgent', 'request'];

function undiciImports(dir, names = new Set()) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) undiciImports(full, names);
    else if (entry.name.endsWith('.ts')) {
      for (const [, list] of readFileSync(full, 'utf8').matchAll(/import\s*(?:type\s*)?\{([^}]*)\}\s*from\s*'undici'/g)) {
        for (const item of list.split(',')) {
          const name = item.trim().replace(/^type\s+/, '').split(/\s+as\s+/)[0];
          if (name && !item.trim().startsWith('type ')) names.add(name);
        }
      }
    }
  }
  return names;
}

const undiciSlim = {
  name: 'undici-slim',
  setup(b) {
    const missing = [...undiciImports(path.join(root, 'src'))].filter((name) => !UNDICI_EXPORTS.includes(name));
    if (missing.length) throw new Error(`bundle: src/ imports ${missing.join(', ')} from undici; add them to scripts/undici-slim.cjs and UNDICI_EXPORTS`);
    b.onResolve({ filter: /^undici$/ }, (args) => (args.importer.startsWith(path.join(root, 'src')) ? { path: UNDICI_SLIM } : undefined));
  },
};

// CommonJS code only ever required lazily (Fastify's schema compilers and inject(), ajv for tool
// arguments) is not even parsed at start: each is its own CommonJS bundle in dist/lazy/, required
// by path when first needed. About 450 KB less to compile at every start.
const LAZY_CJS = {
  '@fastify/ajv-compiler': 'fastify-ajv-compiler',
  '@fastify/fast-json-stringify-compiler': 'fastify-fast-json-stringify-compiler',
  'light-my-request': 'light-my-request',
  'ajv/dist/2020.js': 'ajv-2020',
  'gpt-tokenizer/encoding/o200k_base': 'gpt-tokenizer-o200k',
};
const lazyCjs = {
  name: 'lazy-cjs',
  setup(b) {
    const filter = new RegExp(`^(${Object.keys(LAZY_CJS).map((k) => k.replace(/[.\/]/g, '\\$&')).join('|')})$`);
    b.onResolve({ filter }, (args) => (args.kind === 'require-call' ? { path: `./lazy/${LAZY_CJS[args.path]}.cjs`, external: true } : undefined));
  },
};

// CommonJS dependencies call require() for Node built-ins and read __dirname; an ES module has
// neither, so each output file defines them from its own URL. require() resolves from dist/ in every
// file (a chunk in dist/chunks/ too), so the lazy bundles' `./lazy/...` paths hold wherever the
// require ends up.
const BANNER = [
  "import { createRequire as __gwCreateRequire } from 'node:module';",
  "import { fileURLToPath as __gwFileURLToPath } from 'node:url';",
  "import { dirname as __gwDirname } from 'node:path';",
  "const require = __gwCreateRequire(/\\/chunks\\/[^/]*$/.test(import.meta.url) ? new URL('../gateway.js', import.meta.url) : import.meta.url);",
  'const __filename = __gwFileURLToPath(import.meta.url);',
  'const __dirname = __gwDirname(__filename);',
].join(' ');

export async function bundle() {
  for (const name of ['chunks', 'lazy', ...Object.keys(ENTRIES).flatMap((n) => [`${n}.js`, `${n}.js.map`])]) rmSync(path.join(dist, name), { recursive: true, force: true });
  const result = await build({
    absWorkingDir: root,
    entryPoints: ENTRIES,
    outdir: dist,
    entryNames: '[name]',
    chunkNames: 'chunks/[name]-[hash]',
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    // Whitespace and syntax only: identifiers keep their source names, so stack traces read as the code.
    minifyWhitespace: true,
    minifySyntax: true,
    // Linked: the map is read only when a debugger or --enable-source-maps asks for it.
    sourcemap: 'linked',
    banner: { js: BANNER },
    plugins: [lazyRequires, undiciSlim, lazyCjs],
    metafile: true,
    legalComments: 'linked',
    logLevel: 'warning',
  });
  const resolve = createRequire(path.join(root, 'package.json')).resolve;
  const lazy = await build({
    absWorkingDir: root,
    entryPoints: Object.fromEntries(Object.entries(LAZY_CJS).map(([specifier, name]) => [`lazy/${name}`, resolve(specifier)])),
    outdir: dist,
    outExtension: { '.js': '.cjs' },
    bundle: true,
    format: 'cjs',
    platform: 'node',
    target: 'node20',
    minifyWhitespace: true,
    minifySyntax: true,
    sourcemap: 'linked',
    metafile: true,
    legalComments: 'linked',
    logLevel: 'warning',
  });
  const metafile = { inputs: { ...result.metafile.inputs, ...lazy.metafile.inputs }, outputs: { ...result.metafile.outputs, ...lazy.metafile.outputs } };
  writeFileSync(path.join(dist, 'bundle-meta.json'), JSON.stringify(metafile));
  return { ...result, metafile };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  if (process.argv.includes('--if-stale') && !isStale()) process.exit(0);
  const started = Date.now();
  const { metafile } = await bundle();
  const outputs = Object.keys(metafile.outputs).filter((file) => file.endsWith('.js') || file.endsWith('.cjs'));
  const size = (file) => `${(metafile.outputs[file].bytes / 1024).toFixed(0)} KB`;
  for (const file of outputs.filter((file) => !file.includes('/chunks/') && !file.includes('/lazy/'))) console.log(`${file} ${size(file)}`);
  const count = (dir) => outputs.filter((file) => file.includes(`/${dir}/`)).length;
  console.log(`${count('chunks')} chunks in dist/chunks/, ${count('lazy')} in dist/lazy/, metafile dist/bundle-meta.json (${Date.now() - started} ms)`);
}
