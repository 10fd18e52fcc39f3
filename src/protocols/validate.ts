// Small, allocation-free checks for hand-written request decoders. Each failure is a 400
// GatewayError naming the field path (`messages[2].content[0].type`), as clients expect.

import { GatewayError } from '../core/gateway-error.js';
import type { ImagePart } from '../core/types.js';

export type Json = Record<string, unknown>;

export function invalid(path: string, message: string): GatewayError {
  return new GatewayError('invalid_request', `${path}: ${message}`, { param: path, code: 'invalid_request' });
}

export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

export function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function object(value: unknown, path: string): Json {
  if (value === undefined) throw invalid(path, 'required');
  if (!isObject(value)) throw invalid(path, `expected an object, got ${describe(value)}`);
  return value;
}

export function array(value: unknown, path: string): unknown[] {
  if (value === undefined) throw invalid(path, 'required');
  if (!Array.isArray(value)) throw invalid(path, `expected an array, got ${describe(value)}`);
  return value;
}

export function string(value: unknown, path: string): string {
  if (value === undefined) throw invalid(path, 'required');
  if (typeof value !== 'string') throw invalid(path, `expected a string, got ${describe(value)}`);
  return value;
}

export function nonEmptyString(value: unknown, path: string): string {
  const s = string(value, path);
  if (s.length === 0) throw invalid(path, 'must not be empty');
  return s;
}

export function optionalString(value: unknown, path: string): string | undefined {
  return value === undefined || value === null ? undefined : string(value, path);
}

export function optionalNumber(value: unknown, path: string, min?: number, max?: number): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value)) throw invalid(path, `expected a number, got ${describe(value)}`);
  if (min !== undefined && value < min) throw invalid(path, `must be >= ${min}`);
  if (max !== undefined && value > max) throw invalid(path, `must be <= ${max}`);
  return value;
}

export function optionalInteger(value: unknown, path: string, min?: number): number | undefined {
  const n = optionalNumber(value, path, min);
  if (n !== undefined && !Number.isInteger(n)) throw invalid(path, 'must be an integer');
  return n;
}

export function optionalBoolean(value: unknown, path: string): boolean | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'boolean') throw invalid(path, `expected a boolean, got ${describe(value)}`);
  return value;
}

/** `stop` fields: a string or an array of strings. */
export function optionalStringList(value: unknown, path: string): string[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return [value];
  return array(value, path).map((item, i) => string(item, `${path}[${i}]`));
}

/** An OpenAI image URL (base64 data URL or http(s)) as a canonical image part. */
export function imageFromUrl(url: string, path: string): ImagePart {
  const inline = parseDataUrl(url);
  if (inline) return { type: 'image', mimeType: inline.mimeType, data: inline.data };
  if (!/^https?:\/\//i.test(url)) throw invalid(path, 'expected an http(s) URL or a base64 data URL');
  return { type: 'image', url };
}

/** `data:image/png;base64,AAAA` -> parts; undefined when not a base64 data URL. */
export function parseDataUrl(url: string): { mimeType: string; data: string } | undefined {
  if (!url.startsWith('data:')) return undefined;
  const comma = url.indexOf(',');
  if (comma < 0) return undefined;
  const meta = url.slice(5, comma);
  if (!meta.endsWith(';base64')) return undefined;
  return { mimeType: meta.slice(0, -7) || 'application/octet-stream', data: url.slice(comma + 1) };
}
