// Attachments as Gemini web takes them: uploaded files with real names. Inline images and files
// are decoded; URL attachments are fetched (bounded in size and time); a prompt longer than
// `gemini.max_prompt_chars` travels as message.txt with a short note in the message box.

import { request as undiciRequest } from 'undici';
import type { GatewayConfig } from '../../config/schema.js';
import { GatewayError } from '../../core/gateway-error.js';
import type { GeminiSession, GenerateParams } from './session.js';
import type { Rendered } from './transcript.js';

type GeminiConfig = GatewayConfig['gemini'];

const LONG_PROMPT_NOTE =
  'The full conversation is in the attached file message.txt. Read it and continue: reply as the assistant to its last message.';

/** Uploads attachments (and a long prompt as message.txt) with real filenames. */
export async function prepareUploads(session: GeminiSession, rendered: Rendered, config: GeminiConfig, signal: AbortSignal): Promise<{ prompt: string; files: GenerateParams['files'] }> {
  const files: GenerateParams['files'] = [];
  let index = 0;
  for (const part of rendered.attachments) {
    index++;
    const { data, mimeType } = await attachmentBytes(part, config, signal);
    const name = part.type === 'file' && part.filename ? part.filename : `${part.type === 'image' ? 'image' : 'file'}-${index}.${extensionFor(mimeType)}`;
    files.push({ id: await session.upload(name, mimeType, data, signal), name });
  }
  let prompt = rendered.prompt;
  if (prompt.length > config.max_prompt_chars) {
    const name = 'message.txt';
    files.push({ id: await session.upload(name, 'text/plain', Buffer.from(prompt, 'utf8'), signal), name });
    prompt = LONG_PROMPT_NOTE;
  }
  return { prompt, files };
}

async function attachmentBytes(part: Rendered['attachments'][number], config: GeminiConfig, signal: AbortSignal): Promise<{ data: Buffer; mimeType: string }> {
  const limit = config.max_attachment_bytes;
  if (part.type === 'image' && part.mimeType && !/^image\/(png|jpe?g|gif|webp|heic|heif)$/i.test(part.mimeType)) {
    throw new GatewayError('unsupported_media_type', `Images must be PNG, JPEG, GIF, WebP or HEIC, not ${part.mimeType}`, { code: 'unsupported_image_type' });
  }
  if (part.data !== undefined) {
    const data = Buffer.from(part.data, 'base64');
    if (data.length > limit) throw new GatewayError('request_too_large', `An attachment is ${data.length} bytes; the limit is ${limit}`, { code: 'attachment_too_large' });
    return { data, mimeType: part.mimeType ?? 'application/octet-stream' };
  }
  const url = part.url ?? '';
  if (!/^https?:\/\//i.test(url)) throw new GatewayError('invalid_request', 'An attachment has neither data nor an http(s) URL', { code: 'invalid_attachment' });
  let res;
  try {
    res = await undiciRequest(url, { method: 'GET', signal, headersTimeout: 15_000, bodyTimeout: 15_000 });
  } catch (error) {
    throw new GatewayError('invalid_request', `Could not fetch the attachment ${url}: ${(error as Error).message}`, { code: 'attachment_fetch_failed' });
  }
  if (res.statusCode !== 200) {
    await res.body.dump();
    throw new GatewayError('invalid_request', `Could not fetch the attachment ${url}: HTTP ${res.statusCode}`, { code: 'attachment_fetch_failed' });
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of res.body) {
    size += (chunk as Buffer).length;
    if (size > limit) {
      res.body.destroy();
      throw new GatewayError('request_too_large', `The attachment at ${url} is larger than ${limit} bytes`, { code: 'attachment_too_large' });
    }
    chunks.push(chunk as Buffer);
  }
  const type = String(res.headers['content-type'] ?? part.mimeType ?? 'application/octet-stream').split(';')[0]!.trim();
  return { data: Buffer.concat(chunks), mimeType: part.mimeType ?? type };
}

const EXTENSIONS: Record<string, string> = {
  'image/png': 'png',
  'image/jpeg': 'jpg',
  'image/jpg': 'jpg',
  'image/gif': 'gif',
  'image/webp': 'webp',
  'image/heic': 'heic',
  'application/pdf': 'pdf',
  'text/plain': 'txt',
  'text/markdown': 'md',
  'text/csv': 'csv',
  'application/json': 'json',
};

function extensionFor(mimeType: string | undefined): string {
  return EXTENSIONS[(mimeType ?? '').toLowerCase().split(';')[0]!.trim()] ?? 'bin';
}
