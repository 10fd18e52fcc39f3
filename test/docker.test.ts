// No Docker engine runs here, so the image recipe is tested by running its exact steps: the build
// stage's COPY and RUN lines in a clean copy, then the runtime stage's files, start, the image's own
// HEALTHCHECK command. The compose files get a structural check (the docker client here has no
// compose plugin).
import { execSync, spawn } from 'node:child_process';
import { cp, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { parseConfigText } from '../src/config/load.js';
import { waitFor } from './helpers/gateway.js';

const dockerfile = await readFile('Dockerfile', 'utf8');

interface Stage {
  from: string;
  lines: Array<{ instruction: string; args: string }>;
}

function stages(text: string): Stage[] {
  const joined = text.replace(/\\\n\s*/g, ' ');
  const out: Stage[] = [];
  for (const raw of joined.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const [instruction, ...rest] = line.split(/\s+/);
    const args = rest.join(' ');
    if (instruction === 'FROM') out.push({ from: args, lines: [] });
    else out.at(-1)!.lines.push({ instruction: instruction!, args });
  }
  return out;
}

const parsed = stages(dockerfile);
const [build, runtime] = parsed as [Stage, Stage];
const instr = (stage: Stage, name: string) => stage.lines.filter((l) => l.instruction === name).map((l) => l.args);

describe('Dockerfile', () => {
  it('is multi-stage, non-root, exposes 8022, has volumes and a curl-free healthcheck', () => {
    expect(parsed).toHaveLength(2);
    expect(build.from).toMatch(/^node:\d+-\S+ AS build$/);
    expect(instr(runtime, 'USER')).toEqual(['1000']);
    expect(instr(runtime, 'EXPOSE')).toEqual(['8022']);
    expect(instr(runtime, 'VOLUME')[0]).toBe('["/app/config", "/app/cookies", "/app/logs"]');
    const health = instr(runtime, 'HEALTHCHECK')[0]!;
    expect(health).toContain('CMD ["node", "-e"');
    const instructions = dockerfile.split('\n').filter((l) => !l.trim().startsWith('#')).join('\n');
    expect(instructions).not.toMatch(/\bcurl\b|\bwget\b/);
    expect(instr(runtime, 'CMD')).toEqual(['["node", "dist/gateway.js"]']);
    // The bundle holds every dependency: nothing from node_modules reaches the final image.
    expect(instr(build, 'RUN').some((r) => r.includes('node scripts/bundle.mjs'))).toBe(true);
    expect(instr(runtime, 'COPY').some((c) => c.includes('node_modules'))).toBe(false);
  });

  it('depends on no native module (arm64 builds need nothing compiled)', () => {
    const lock = JSON.parse(execSync('cat package-lock.json').toString()) as { packages: Record<string, { dev?: boolean; hasInstallScript?: boolean }> };
    const native = Object.entries(lock.packages).filter(([name, p]) => name && !p.dev && p.hasInstallScript);
    expect(native).toEqual([]);
  });
});

let work: string | undefined;
afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

describe('image recipe, run step by step', () => {
  it('builds the bundle, starts without node_modules, and passes its own healthcheck', async () => {
    work = await mkdtemp(path.join(tmpdir(), 'gw-image-'));
    const buildDir = path.join(work, 'build');
    const appDir = path.join(work, 'app');
    await mkdir(buildDir);
    await mkdir(appDir);
    // Build stage: COPY then RUN, exactly as written.
    for (const line of build.lines) {
      if (line.instruction === 'COPY') {
        const parts = line.args.split(/\s+/);
        const destination = parts.pop()!;
        for (const source of parts) {
          const target = destination.endsWith('/') ? path.join(buildDir, destination, path.basename(source)) : path.join(buildDir, destination);
          await cp(source, target, { recursive: true });
        }
      } else if (line.instruction === 'RUN') {
        execSync(line.args, { cwd: buildDir, stdio: 'pipe', timeout: 240_000 });
      }
    }
    // Runtime stage: the files it copies from the build stage and the context.
    for (const line of runtime.lines.filter((l) => l.instruction === 'COPY')) {
      const parts = line.args.split(/\s+/);
      const fromBuild = parts[0] === '--from=build';
      const [source, destination] = fromBuild ? [parts[1]!.replace('/app/', ''), parts[2]!] : [parts[0]!, parts[1]!];
      const from = fromBuild ? path.join(buildDir, source) : source;
      await cp(from, destination.endsWith('/') ? path.join(appDir, destination, path.basename(source)) : path.join(appDir, destination), { recursive: true });
    }
    expect(existsSync(path.join(appDir, 'dist/gateway.js'))).toBe(true);
    expect(existsSync(path.join(appDir, 'node_modules'))).toBe(false);
    const sizeMb = Number(execSync(`du -sm ${appDir}`).toString().split('\t')[0]);
    expect(sizeMb).toBeLessThan(40);

    const port = 18000 + Math.floor(Math.random() * 2000);
    let out = '';
    const child = spawn(process.execPath, ['dist/gateway.js'], {
      cwd: appDir,
      env: { PATH: process.env.PATH ?? '', NODE_ENV: 'production', BEARER_TOKEN: 'image-test-token-0123456789', SERVER_PORT: String(port), SERVER_HOST: '127.0.0.1', CONFIG_PATH: path.join(appDir, 'config/config.yaml') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    try {
      await waitFor(() => out.includes('gateway listening'), 10_000);
      const health = instr(runtime, 'HEALTHCHECK')[0]!;
      const script = JSON.parse(health.slice(health.indexOf('CMD ') + 4)) as string[];
      execSync(`${process.execPath} -e ${JSON.stringify(script[2])}`, { env: { ...process.env, SERVER_PORT: String(port) }, timeout: 10_000 });
    } finally {
      child.kill('SIGTERM');
    }
  }, 300_000);
});

const compose = parse(await readFile('docker-compose.yml', 'utf8')) as { services: Record<string, Record<string, unknown>> };
const rpi = parse(await readFile('docker-compose.rpi.yml', 'utf8')) as { services: Record<string, Record<string, unknown>> };

type Service = Record<string, unknown>;

/** A compose service with `extends` resolved the way compose merges it (mappings merged, the rest replaced). */
async function resolveService(file: string, name: string): Promise<Service> {
  const doc = parse(await readFile(file, 'utf8')) as { services: Record<string, Service> };
  const service = doc.services[name];
  if (!service) throw new Error(`${file} has no service ${name}`);
  const { extends: base, ...own } = service as Service & { extends?: { file?: string; service: string } };
  if (!base) return own;
  const parent = await resolveService(base.file ? path.join(path.dirname(file), base.file) : file, base.service);
  const merged: Service = { ...parent };
  for (const [key, value] of Object.entries(own)) {
    const inherited = parent[key];
    const mergeable = (v: unknown) => v && typeof v === 'object' && !Array.isArray(v);
    merged[key] = mergeable(value) && mergeable(inherited) ? { ...(inherited as object), ...(value as object) } : value;
  }
  return merged;
}

describe('compose files', () => {
  it('runs the gateway with config read-only, cookies and logs volumes, restart and healthcheck', () => {
    const gw = compose.services['gemini-gateway']!;
    expect(gw.build).toBe('.');
    expect(gw.ports).toEqual(['8022:8022']);
    expect(gw.volumes).toEqual(['./config:/app/config:ro', './cookies:/app/cookies', './logs:/app/logs']);
    expect(gw.restart).toBe('unless-stopped');
    expect((gw.healthcheck as { test: string[] }).test.slice(0, 2)).toEqual(['CMD', 'node']);
    expect((gw.environment as Record<string, string>).BEARER_TOKEN).toMatch(/^\$\{BEARER_TOKEN:\?/);
  });

  it('offers gpt4free as an internal sidecar the gateway reaches by name', () => {
    const g4f = compose.services.g4f!;
    expect(g4f.image).toMatch(/^hlohaus789\/g4f/);
    expect(g4f.ports).toBeUndefined();
    expect((compose.services['gemini-gateway']!.environment as Record<string, string>).G4F_BASE_URL).toBe('http://g4f:1337/v1');
  });

  it('limits the Pi variant to 512 MB and one CPU with a heap sized for it', () => {
    const gw = rpi.services['gemini-gateway']!;
    expect(gw.deploy).toEqual({ resources: { limits: { memory: '512M', cpus: '1.0' } } });
    expect((gw.environment as Record<string, string>).NODE_OPTIONS).toBe('--max-old-space-size=256 --max-semi-space-size=4');
  });

  it('the Pi file works on its own (docker compose -f docker-compose.rpi.yml up), as the design shows', async () => {
    const gw = await resolveService('docker-compose.rpi.yml', 'gemini-gateway');
    expect(gw.build).toBe('.');
    expect(gw.ports).toEqual(['8022:8022']);
    expect(gw.volumes).toEqual(['./config:/app/config:ro', './cookies:/app/cookies', './logs:/app/logs']);
    expect(gw.healthcheck).toBeDefined();
    expect(gw.environment).toMatchObject({ BEARER_TOKEN: expect.stringMatching(/^\$\{BEARER_TOKEN:\?/), NODE_OPTIONS: expect.any(String) });
    expect(gw.deploy).toEqual({ resources: { limits: { memory: '512M', cpus: '1.0' } } });
  });

  it("runs the design's config.yaml (no g4f.base_url) against the g4f sidecar: G4F_BASE_URL wins", async () => {
    const env = { ...(compose.services['gemini-gateway']!.environment as Record<string, string>), BEARER_TOKEN: 'from-dot-env-0123456789' };
    const loaded = parseConfigText(await readFile('test/fixtures/design/config.yaml', 'utf8'), env);
    expect(loaded.ok).toBe(true);
    if (!loaded.ok) return;
    expect(loaded.config.g4f.base_url).toBe('http://g4f:1337/v1');
    expect(loaded.config.gemini.models).toEqual(['gemini-2.5-pro', 'gemini-2.5-flash', 'gemini-3.0-pro', 'gemini-2.0-flash']);
    // Each design model is served: by its own entry or as an alias of a current one.
    const { model_map: map, model_aliases: aliases } = loaded.config.gemini;
    for (const model of loaded.config.gemini.models) expect(map[model] ?? map[aliases[model] ?? ''], model).toBeDefined();
  });

  it('sets no environment variable that would silently shadow a hot-reloadable key of config.yaml', () => {
    const env = compose.services['gemini-gateway']!.environment as Record<string, string>;
    // COOKIE_PATH would override gemini.cookie_path from the file; the default already points into the volume.
    expect(env.COOKIE_PATH).toBeUndefined();
    // The ones left (BEARER_TOKEN, G4F_BASE_URL) are announced on reload (test/config-reload.test.ts).
    expect(Object.keys(env).sort()).toEqual(['BEARER_TOKEN', 'CONFIG_PATH', 'G4F_BASE_URL']);
  });
});
