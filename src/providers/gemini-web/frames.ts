// Gemini web response framing: an anti-XSSI prefix `)]}'`, then frames of
// `<length>\n<json>\n` where the length counts UTF-16 units of the JSON plus both newlines. Google's
// JSON never holds a raw newline, so a frame is read as the line after its length line; the length
// is only the fallback for a frame glued to the next one. Bytes may split anywhere (inside a UTF-8
// character too): decoding is incremental.

import { StringDecoder } from 'node:string_decoder';

/** One envelope ("part") of a frame: `["wrb.fr", …]`, `["di", …]`, `["e", …]`. */
export type Part = unknown[];

export class FrameDecoder {
  private readonly decoder = new StringDecoder('utf8');
  private buffer = '';
  private prefixDone = false;

  /** Feed bytes; returns the parts of every frame completed by them. */
  push(chunk: Buffer | string): Part[] {
    this.buffer += typeof chunk === 'string' ? chunk : this.decoder.write(chunk);
    return this.drain(false);
  }

  /** End of body: parts of a last frame without its trailing newline. */
  end(): Part[] {
    this.buffer += this.decoder.end();
    return this.drain(true);
  }

  private drain(final: boolean): Part[] {
    if (!this.prefixDone) {
      const trimmed = this.buffer.trimStart();
      if (trimmed.length < 4 && !final) return [];
      if (trimmed.startsWith(")]}'")) this.buffer = trimmed.slice(4);
      this.prefixDone = true;
    }
    const parts: Part[] = [];
    for (;;) {
      let start = 0;
      while (start < this.buffer.length && /\s/.test(this.buffer[start]!)) start++;
      if (start > 0) this.buffer = this.buffer.slice(start);
      if (this.buffer.length === 0) break;

      const newline = this.buffer.indexOf('\n');
      const head = newline < 0 ? this.buffer : this.buffer.slice(0, newline);
      if (!/^\d+$/.test(head)) {
        // Unframed JSON (whole-body or line-delimited answers).
        const line = newline < 0 ? (final ? this.buffer : undefined) : head;
        if (line === undefined) break;
        const value = tryParse(line);
        this.buffer = newline < 0 ? '' : this.buffer.slice(newline + 1);
        if (value !== undefined) parts.push(...flatten(value));
        continue;
      }
      if (newline < 0) break; // the length line is not complete yet
      const length = Number(head);
      const rest = this.buffer.slice(newline + 1);
      const end = rest.indexOf('\n');
      const line = end < 0 ? undefined : rest.slice(0, end);
      let value = line === undefined ? undefined : tryParse(line);
      let consumed = line === undefined ? 0 : end + 1;
      if (value === undefined) {
        // No parseable line: trust the length (JSON = length - 2 units; tolerate off by one).
        for (const size of [length - 2, length - 1, length - 3]) {
          if (size <= 0 || rest.length < size) continue;
          value = tryParse(rest.slice(0, size));
          if (value !== undefined) {
            consumed = size;
            break;
          }
        }
      }
      if (value === undefined) {
        if (!final && (line === undefined || rest.length < length)) break; // wait for more bytes
        // A malformed frame: skip its line so one bad frame cannot wedge the stream.
        this.buffer = rest.slice(line === undefined ? rest.length : end + 1);
        continue;
      }
      this.buffer = rest.slice(consumed);
      parts.push(...flatten(value));
    }
    return parts;
  }
}

function tryParse(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** A frame is usually an array of envelopes; flatten one level so each envelope is a part. */
function flatten(value: unknown): Part[] {
  if (!Array.isArray(value)) return [];
  if (value.length > 0 && value.every((v) => Array.isArray(v))) return value as Part[];
  return [value];
}
