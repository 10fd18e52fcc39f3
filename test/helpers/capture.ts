import { Writable } from 'node:stream';

/** A stream that keeps everything written to it, for asserting on log output. */
export class CaptureStream extends Writable {
  text = '';
  override _write(chunk: Buffer | string, _enc: BufferEncoding, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
  /** JSON log lines (format: json). */
  lines(): Array<Record<string, unknown>> {
    return this.text
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  }
  clear(): void {
    this.text = '';
  }
}
