// Generated images on disk (gemini.image_cache): a bounded LRU directory so a second fetch of
// the same image (a link opened twice, b64_json after the link) does not go to Google. Files are
// named by a hash of the Google URL; the index is rebuilt from the directory (oldest mtime first)
// on first use, so the cache survives restarts; the oldest files go once the total passes max_bytes.

import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';

type Image = { status: number; type: string; body: Buffer };

const TYPES: Record<string, string> = { png: 'image/png', jpg: 'image/jpeg', webp: 'image/webp', gif: 'image/gif', bin: 'application/octet-stream' };
const EXTENSIONS: Record<string, string> = Object.fromEntries(Object.entries(TYPES).map(([ext, type]) => [type, ext]));

export class ImageCache {
  private index: Map<string, { file: string; size: number }> | undefined;
  private loading: Promise<Map<string, { file: string; size: number }>> | undefined;
  private total = 0;

  constructor(
    private dir: string,
    private maxBytes: number,
  ) {}

  configure(dir: string, maxBytes: number): void {
    if (dir !== this.dir) {
      this.index = undefined;
      this.loading = undefined;
      this.total = 0;
    }
    this.dir = dir;
    this.maxBytes = maxBytes;
  }

  /** The cached image for a Google URL, or the fetched one (stored when it is a 200). */
  async through(url: string, fetch: () => Promise<Image>): Promise<Image> {
    const key = createHash('sha256').update(url).digest('hex').slice(0, 40);
    const index = await this.load();
    const hit = index.get(key);
    if (hit) {
      try {
        const body = await readFile(path.join(this.dir, hit.file));
        index.delete(key);
        index.set(key, hit); // most recently used last
        void utimes(path.join(this.dir, hit.file), new Date(), new Date()).catch(() => undefined);
        return { status: 200, type: TYPES[path.extname(hit.file).slice(1)] ?? 'application/octet-stream', body };
      } catch {
        index.delete(key);
        this.total -= hit.size;
      }
    }
    const image = await fetch();
    if (image.status === 200 && image.body.length > 0 && image.body.length <= this.maxBytes) await this.store(index, key, image).catch(() => undefined);
    return image;
  }

  private async store(index: Map<string, { file: string; size: number }>, key: string, image: Image): Promise<void> {
    const file = `${key}.${EXTENSIONS[image.type.split(';')[0]!.trim().toLowerCase()] ?? 'bin'}`;
    await mkdir(this.dir, { recursive: true });
    await writeFile(path.join(this.dir, file), image.body);
    const old = index.get(key);
    if (old) this.total -= old.size;
    index.delete(key);
    index.set(key, { file, size: image.body.length });
    this.total += image.body.length;
    for (const [oldest, entry] of index) {
      if (this.total <= this.maxBytes) break;
      index.delete(oldest);
      this.total -= entry.size;
      await rm(path.join(this.dir, entry.file), { force: true });
    }
  }

  private load(): Promise<Map<string, { file: string; size: number }>> {
    if (this.index) return Promise.resolve(this.index);
    this.loading ??= (async () => {
      const found: Array<{ key: string; file: string; size: number; mtime: number }> = [];
      const names = await readdir(this.dir).catch(() => [] as string[]);
      for (const file of names) {
        const match = /^([0-9a-f]{40})\.(png|jpg|webp|gif|bin)$/.exec(file);
        if (!match) continue;
        const info = await stat(path.join(this.dir, file)).catch(() => undefined);
        if (info?.isFile()) found.push({ key: match[1]!, file, size: info.size, mtime: info.mtimeMs });
      }
      found.sort((a, b) => a.mtime - b.mtime);
      const index = new Map(found.map((f) => [f.key, { file: f.file, size: f.size }]));
      this.total = found.reduce((sum, f) => sum + f.size, 0);
      this.index = index;
      return index;
    })();
    return this.loading;
  }
}
