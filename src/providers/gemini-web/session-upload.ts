// Uploads: the two-step resumable protocol the web app uses now (start, then the bytes to the
// session URL with "upload, finalize"), falling back to one multipart POST where the upload host
// does not offer it. Session cookies are .google.com cookies: they do not go to the upload host.

import { randomUUID } from 'node:crypto';
import { fromHttpStatus } from './errors.js';
import type { GeminiSession } from './session.js';

/** The file's identifier for the message's file list. */
export async function uploadFile(session: GeminiSession, name: string, mimeType: string, data: Buffer, signal?: AbortSignal): Promise<string> {
  const { upload, gemini } = session.options.endpoints;
  const common = { origin: gemini, referer: `${gemini}/`, 'x-tenant-id': 'bard-storage', 'push-id': session.pushId };
  const start = await session.send('POST', `${upload}/upload/`, {
    signal,
    withCookies: false,
    body: JSON.stringify({ file: { filename: name } }),
    headers: {
      ...common,
      'content-type': 'application/json',
      'x-goog-upload-protocol': 'resumable',
      'x-goog-upload-command': 'start',
      'x-goog-upload-header-content-length': String(data.length),
      'x-goog-upload-header-content-type': mimeType,
      'x-goog-upload-file-name': encodeURIComponent(name),
    },
  });
  if (start.status === 200 && start.uploadUrl) {
    const done = await session.send('POST', start.uploadUrl, {
      signal,
      withCookies: false,
      body: data,
      headers: { ...common, 'content-type': mimeType, 'x-goog-upload-command': 'upload, finalize', 'x-goog-upload-offset': '0' },
    });
    if (done.status < 200 || done.status >= 300) throw fromHttpStatus(done.status, 'upload', done.body);
    return done.body.trim();
  }
  const boundary = `----gw${randomUUID().replace(/-/g, '')}`;
  const head = Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${name.replace(/"/g, '')}"\r\nContent-Type: ${mimeType}\r\n\r\n`);
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  const res = await session.send('POST', `${upload}/upload`, {
    signal,
    withCookies: false,
    body: Buffer.concat([head, data, tail]),
    headers: { ...common, 'content-type': `multipart/form-data; boundary=${boundary}` },
  });
  if (res.status < 200 || res.status >= 300) throw fromHttpStatus(res.status, 'upload', res.body);
  return res.body.trim();
}
