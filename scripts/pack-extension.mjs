#!/usr/bin/env node
// Packs extension/ into dist-extension/gemini-gateway-cookies.zip (the file Chrome's "Pack" or the
// Chrome Web Store / addons.mozilla.org take). No dependency: a minimal zip writer (deflate via
// node:zlib, CRC-32 via zlib.crc32), entries sorted and dated 1980-01-01 so the zip is reproducible.
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { crc32, deflateRawSync } from 'node:zlib';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const source = path.join(root, 'extension');
const out = path.join(root, 'dist-extension', 'gemini-gateway-cookies.zip');

function files(dir, prefix = '') {
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => !e.name.startsWith('.'))
    .flatMap((e) => (e.isDirectory() ? files(path.join(dir, e.name), `${prefix}${e.name}/`) : [`${prefix}${e.name}`]))
    .sort();
}

const DOS_DATE = (0 << 9) | (1 << 5) | 1; // 1980-01-01, 00:00
const locals = [];
const centrals = [];
let offset = 0;
for (const name of files(source)) {
  const data = readFileSync(path.join(source, name));
  const packed = deflateRawSync(data, { level: 9 });
  const [method, body] = packed.length < data.length ? [8, packed] : [0, data];
  const nameBytes = Buffer.from(name, 'utf8');
  const fields = (header) => {
    header.writeUInt16LE(20, 0); // version needed: 2.0
    header.writeUInt16LE(0x0800, 2); // UTF-8 names
    header.writeUInt16LE(method, 4);
    header.writeUInt16LE(0, 6); // time
    header.writeUInt16LE(DOS_DATE, 8);
    header.writeUInt32LE(crc32(data), 10);
    header.writeUInt32LE(body.length, 14);
    header.writeUInt32LE(data.length, 18);
    header.writeUInt16LE(nameBytes.length, 22);
    return header;
  };
  const local = Buffer.alloc(30);
  local.writeUInt32LE(0x04034b50, 0);
  fields(local.subarray(4));
  locals.push(local, nameBytes, body);
  const central = Buffer.alloc(46);
  central.writeUInt32LE(0x02014b50, 0);
  central.writeUInt16LE(20, 4); // made by: 2.0, MS-DOS attributes
  fields(central.subarray(6));
  central.writeUInt32LE(offset, 42);
  centrals.push(central, nameBytes);
  offset += local.length + nameBytes.length + body.length;
}
const directory = Buffer.concat(centrals);
const end = Buffer.alloc(22);
end.writeUInt32LE(0x06054b50, 0);
end.writeUInt16LE(centrals.length / 2, 8);
end.writeUInt16LE(centrals.length / 2, 10);
end.writeUInt32LE(directory.length, 12);
end.writeUInt32LE(offset, 16);
mkdirSync(path.dirname(out), { recursive: true });
writeFileSync(out, Buffer.concat([...locals, directory, end]));
const { version } = JSON.parse(readFileSync(path.join(source, 'manifest.json'), 'utf8'));
console.log(`${path.relative(root, out)}: ${centrals.length / 2} files, version ${version}`);
