import { inflateRawSync } from 'node:zlib';

/** The entries of a zip archive (enough of the format for the bundles this project writes). */
export function unzip(archive: Buffer): Map<string, { data: Buffer; mode: number }> {
  const entries = new Map<string, { data: Buffer; mode: number }>();
  const end = archive.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  let at = archive.readUInt32LE(end + 16);
  for (let i = 0; i < archive.readUInt16LE(end + 10); i++) {
    const method = archive.readUInt16LE(at + 10);
    const size = archive.readUInt32LE(at + 20);
    const nameLength = archive.readUInt16LE(at + 28);
    const skip = archive.readUInt16LE(at + 30) + archive.readUInt16LE(at + 32);
    const mode = archive.readUInt32LE(at + 38) >>> 16;
    const local = archive.readUInt32LE(at + 42);
    const name = archive.toString('utf8', at + 46, at + 46 + nameLength);
    const start = local + 30 + archive.readUInt16LE(local + 26) + archive.readUInt16LE(local + 28);
    const body = archive.subarray(start, start + size);
    entries.set(name, { data: method === 8 ? inflateRawSync(body) : body, mode });
    at += 46 + nameLength + skip;
  }
  return entries;
}
