// A call block -> a tool name and arguments the client can trust: undo Markdown escapes and HTML
// entities, repair almost-JSON (jsonrepair), then validate the arguments against the tool's JSON
// Schema (ajv, draft 2020-12 as Claude Code writes them). Anything still wrong is an error message
// meant for the model's corrective re-ask, never a malformed call.

import { createRequire } from 'node:module';
import { jsonrepair } from 'jsonrepair';
import type { ToolDefinition } from '../core/types.js';
import { trimSchema } from './format.js';

type Validator = ((data: unknown) => boolean) & { errors?: Array<{ instancePath: string; message?: string; params?: Record<string, unknown> }> | null };
interface AjvLike {
  compile(schema: object): Validator;
}

// ajv is CommonJS; its 2020-12 build understands $schema draft 2020-12, prefixItems, $defs...
// Loaded on the first emulated call: most gateways never validate anything.
let ajv: AjvLike | undefined;
function compiler(): AjvLike {
  if (!ajv) {
    const Ajv2020 = createRequire(import.meta.url)('ajv/dist/2020.js') as { default: new (options: object) => AjvLike };
    ajv = new Ajv2020.default({ strict: false, allErrors: true, validateFormats: false, logger: false });
  }
  return ajv;
}
const validators = new Map<string, Validator | null>();

function validatorFor(schema: Record<string, unknown> | undefined): Validator | null {
  const key = JSON.stringify(schema ?? {});
  let validator = validators.get(key);
  if (validator === undefined) {
    try {
      validator = compiler().compile(trimSchema(schema));
    } catch {
      validator = null; // a schema ajv cannot compile is not the model's fault: accept any object
    }
    if (validators.size > 500) validators.clear();
    validators.set(key, validator);
  }
  return validator;
}

const JSON_ESCAPES = new Set(['"', '\\', '/', 'b', 'f', 'n', 'r', 't', 'u']);

/** Remove Markdown backslash escapes that are not JSON escapes (`\_`, `\[`, `\*` …). */
export function unescapeMarkdown(text: string): string {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '\\' && i + 1 < text.length) {
      const next = text[i + 1]!;
      if (JSON_ESCAPES.has(next)) {
        out += c + next;
        i++;
        continue;
      }
      if ('[]_*~#`<>|!(){}+-.'.includes(next)) continue; // a Markdown escape: drop the backslash
    }
    out += c;
  }
  return out;
}

function decodeEntities(text: string): string {
  if (!text.includes('&')) return text;
  return text.replace(/&(quot|amp|lt|gt|apos|#39|#x27|#34);/g, (_m, e: string) => ({ quot: '"', amp: '&', lt: '<', gt: '>', apos: "'", '#39': "'", '#x27': "'", '#34': '"' })[e] ?? _m);
}

export type ParsedCall = { ok: true; name: string; args: Record<string, unknown> } | { ok: false; error: string; name?: string };

export function parseCall(raw: string, tools: ToolDefinition[]): ParsedCall {
  const text = decodeEntities(unescapeMarkdown(raw)).trim();
  if (!text) return { ok: false, error: 'the toolcall block is empty' };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    try {
      value = JSON.parse(jsonrepair(text));
    } catch {
      return { ok: false, error: 'the block is not valid JSON' };
    }
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) return { ok: false, error: 'the block must hold one JSON object {"name": …, "arguments": {…}}' };
  const call = value as Record<string, unknown>;
  const name = typeof call.name === 'string' ? call.name.trim() : typeof call.tool === 'string' ? call.tool.trim() : '';
  if (!name) return { ok: false, error: 'the block has no "name"' };
  const tool = tools.find((t) => t.name === name);
  if (!tool) return { ok: false, name, error: `there is no tool named "${name}" (available: ${tools.map((t) => t.name).join(', ')})` };

  let args: unknown = call.arguments ?? call.args ?? call.parameters ?? call.input ?? {};
  if (typeof args === 'string') {
    // Some models double-encode the arguments.
    try {
      args = JSON.parse(jsonrepair(args));
    } catch {
      return { ok: false, name, error: '"arguments" must be a JSON object' };
    }
  }
  if (!args || typeof args !== 'object' || Array.isArray(args)) return { ok: false, name, error: '"arguments" must be a JSON object' };

  const validate = validatorFor(tool.parameters);
  if (validate && !validate(args)) {
    const problems = (validate.errors ?? []).slice(0, 5).map((e) => {
      const at = e.instancePath ? `arguments${e.instancePath.replace(/\//g, '.')}` : 'arguments';
      const extra = e.params && 'additionalProperty' in e.params ? ` (${String(e.params.additionalProperty)})` : e.params && 'missingProperty' in e.params ? ` (${String(e.params.missingProperty)})` : '';
      return `${at} ${e.message ?? 'is invalid'}${extra}`;
    });
    return { ok: false, name, error: `the arguments for ${name} do not match its schema: ${problems.join('; ')}` };
  }
  return { ok: true, name, args: args as Record<string, unknown> };
}
