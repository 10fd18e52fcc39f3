// Attachments as Gemini web takes them: uploaded files with real names. Inline images and files
// are decoded; URL attachments are fetched through the SSRF guard (public addresses only unless
// `security.fetch_allow` lists them, bounded in size and time, errors that never name the target).

import type { GatewayConfig } from '../../config/schema.js';
import { GatewayError } from '../../core/gateway-error.js';
import { fetchClientUrl, type UrlPolicy } from '../../net/url-guard.js';
import type { GeminiSession, GenerateParams } from './session.js';
import type { Rendered } from './transcript.js';

type GeminiConfig = GatewayConfig['gemini'];

/** Which client-chosen URLs may be fetched, and for how long (`security.*`). */
export interface FetchOptions {
  policy: UrlPolicy;
  timeoutMs: number;
}

/** Uploads the client's images and files with real filenames; their ids in order. */
export async function uploadAttachments(session: GeminiSession, rendered: Rendered, config: GeminiConfig, fetching: FetchOptions, signal: AbortSignal): Promise<GenerateParams['files']> {
  const files: GenerateParams['files'] = [];
  let index = 0;
  for (const part of rendered.attachments) {
    index++;
    const { data, mimeType } = await attachmentBytes(part, config, fetching, signal);
    const name = part.type === 'file' && part.filename ? part.filename : `${part.type === 'image' ? 'image' : 'file'}-${index}.${extensionFor(mimeType)}`;
    files.push({ id: await session.upload(name, mimeType, data, signal), name });
  }
  return files;
}

async function attachmentBytes(part: Rendered['attachments'][number], config: GeminiConfig, fetching: FetchOptions, signal: AbortSignal): Promise<{ data: Buffer; mimeType: string }> {
  const limit = config.max_attachment_bytes;
  if (part.type === 'image' && part.mimeType && !/^image\/(png|jpe?g|gif|webp|heic|heif)$/i.test(part.mimeType)) {
    throw new GatewayError('unsupported_media_type', `Images must be PNG, JPEG, GIF, WebP or HEIC, not ${part.mimeType}`, { code: 'unsupported_image_type' });
  }
  if (part.data !== undefined) {
    const data = Buffer.from(part.data, 'base64');
    if (data.length > limit) throw new GatewayError('request_too_large', `An attachment is ${data.length} bytes; the limit is ${limit}`, { code: 'attachment_too_large' });
    return { data, mimeType: part.mimeType ?? 'application/octet-stream' };
  }
  if (!part.url) throw new GatewayError('invalid_request', 'An attachment has neither data nor an http(s) URL', { code: 'invalid_attachment' });
  const fetched = await fetchClientUrl(part.url, { signal, maxBytes: limit, ...fetching });
  return { data: fetched.data, mimeType: part.mimeType ?? fetched.mimeType };
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
