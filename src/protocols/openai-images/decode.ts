// The OpenAI Images API request: `POST /v1/images/generations` (JSON) and `/v1/images/edits`
// (multipart/form-data as the SDKs send it, or JSON with the image as base64 / a data: URL).

import { GatewayError } from '../../core/gateway-error.js';
import { invalid, isObject, nonEmptyString, optionalInteger, optionalString, parseDataUrl } from '../validate.js';

export interface ImagesRequest {
  model?: string;
  prompt: string;
  n: number;
  size?: string;
  responseFormat: 'url' | 'b64_json';
  images: Array<{ data: string; mimeType: string }>;
}

/** A multipart/form-data body: text fields and files (several files may share a name: `image[]`). */
export interface Multipart {
  fields: Record<string, string>;
  files: Array<{ name: string; filename?: string; type: string; data: Buffer }>;
}

export const MAX_IMAGES = 4;

export function decodeImagesRequest(body: unknown, edit: boolean): ImagesRequest {
  const multipart = isMultipart(body) ? body : undefined;
  const json = multipart ? multipart.fields : body;
  if (!isObject(json)) throw invalid('', 'the body must be a JSON object (or multipart/form-data for edits)');
  const prompt = nonEmptyString(json.prompt, 'prompt');
  const model = optionalString(json.model, 'model');
  const n = optionalInteger(typeof json.n === 'string' ? Number(json.n) : json.n, 'n', 1) ?? 1;
  if (n > MAX_IMAGES) throw invalid('n', `at most ${MAX_IMAGES} images a request`);
  const format = optionalString(json.response_format, 'response_format') ?? 'b64_json';
  if (format !== 'url' && format !== 'b64_json') throw invalid('response_format', 'must be "url" or "b64_json"');
  const size = optionalString(json.size, 'size');
  if (json.stream === true || json.stream === 'true') throw invalid('stream', 'streamed partial images are not supported: leave stream unset');
  const images: ImagesRequest['images'] = [];
  if (edit) {
    if (multipart) {
      for (const file of multipart.files) if (/^image(\[\])?$/.test(file.name)) images.push({ data: file.data.toString('base64'), mimeType: imageType(file.type, file.filename) });
    } else {
      for (const [index, value] of [json.image ?? json.images].flat().entries()) {
        if (value === undefined) continue;
        const raw = isObject(value) ? (value.image_url ?? value.b64_json) : value;
        if (typeof raw !== 'string' || !raw) throw invalid(`image[${index}]`, 'must be base64 image data or a data: URL');
        if (/^https?:\/\//i.test(raw)) throw invalid(`image[${index}]`, 'give the image as base64 or a data: URL (or upload it as multipart/form-data), not a link');
        const parsed = parseDataUrl(raw);
        images.push(parsed ?? { data: raw, mimeType: 'image/png' });
      }
    }
    if (images.length === 0) throw invalid('image', 'an image to edit is required');
  }
  return { ...(model ? { model } : {}), prompt, n, ...(size ? { size } : {}), responseFormat: format, images };
}

function imageType(type: string, filename: string | undefined): string {
  if (type.startsWith('image/')) return type;
  const ext = filename?.split('.').pop()?.toLowerCase();
  return ext === 'jpg' || ext === 'jpeg' ? 'image/jpeg' : ext === 'webp' ? 'image/webp' : ext === 'gif' ? 'image/gif' : 'image/png';
}

function isMultipart(body: unknown): body is Multipart {
  return isObject(body) && Array.isArray(body.files) && isObject(body.fields);
}

/** Parse a multipart/form-data body (small: a few images and text fields, within server.body_limit). */
export function parseMultipart(body: Buffer, contentType: string): Multipart {
  const match = /boundary=(?:"([^"]+)"|([^;]+))/i.exec(contentType);
  const boundary = match?.[1] ?? match?.[2]?.trim();
  if (!boundary) throw new GatewayError('invalid_request', 'multipart/form-data without a boundary', { code: 'invalid_multipart' });
  const delimiter = Buffer.from(`--${boundary}`);
  const out: Multipart = { fields: {}, files: [] };
  let at = body.indexOf(delimiter);
  while (at !== -1) {
    const start = at + delimiter.length;
    if (body.subarray(start, start + 2).toString() === '--') break; // the closing delimiter
    const next = body.indexOf(delimiter, start);
    if (next === -1) break;
    const part = body.subarray(start + 2, next - 2); // after CRLF, before the CRLF of the next delimiter
    const split = part.indexOf('\r\n\r\n');
    if (split !== -1) {
      const headers = part.subarray(0, split).toString('utf8');
      const data = part.subarray(split + 4);
      const name = /name="([^"]*)"/i.exec(headers)?.[1];
      const filename = /filename="([^"]*)"/i.exec(headers)?.[1];
      const type = /content-type:\s*([^\r\n;]+)/i.exec(headers)?.[1]?.trim() ?? 'application/octet-stream';
      if (name !== undefined) {
        if (filename !== undefined) out.files.push({ name, filename, type, data: Buffer.from(data) });
        else out.fields[name] = data.toString('utf8');
      }
    }
    at = next;
  }
  return out;
}
