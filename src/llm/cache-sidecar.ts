import { createHash } from 'node:crypto';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';

/**
 * A sealed cache segment's index on disk, beside it: what a scan of the segment would find (each
 * entry's 128-bit key fold, offset and length), so opening a large cache reads a few megabytes instead
 * of every segment. It names the segment's size and mtime and ends with a SHA-256 of itself: a sidecar
 * that does not match its segment, or is cut short or damaged, is ignored and the segment scanned.
 *
 * Layout (little-endian): magic (8 bytes), segment size (f64), segment mtime in ms (f64), entry count
 * (u32), 4 bytes zero; then per entry four u32 key words, offset (f64), length (u32), 4 bytes zero;
 * then the SHA-256 of everything before it.
 */
const MAGIC = Buffer.from('AIDCIX01');
const HEADER = 32;
const ENTRY = 32;
const DIGEST = 32;

/** What a sidecar is checked against: the segment as it is on disk now. */
export interface SegmentStamp {
  size: number;
  mtimeMs: number;
}

export function sidecarPath(segment: string): string {
  return `${segment}.idx`;
}

/** A segment's entries in the order a scan meets them, packed as the sidecar stores them. */
export class SegmentEntries {
  count = 0;

  constructor(private bytes: Buffer = Buffer.alloc(ENTRY * 1024)) {}

  push(words: Uint32Array, offset: number, length: number): void {
    if ((this.count + 1) * ENTRY > this.bytes.length) {
      const bigger = Buffer.alloc(this.bytes.length * 2);
      this.bytes.copy(bigger);
      this.bytes = bigger;
    }
    const at = this.count * ENTRY;
    for (let w = 0; w < 4; w++) this.bytes.writeUInt32LE(words[w]!, at + w * 4);
    this.bytes.writeDoubleLE(offset, at + 16);
    this.bytes.writeUInt32LE(length, at + 24);
    this.count++;
  }

  forEach(each: (words: Uint32Array, offset: number, length: number) => void): void {
    // Read through typed arrays over the packed bytes (copied first when they are not 8-byte aligned).
    const used = this.count * ENTRY;
    const bytes = this.bytes.byteOffset % 8 === 0 ? this.bytes : Buffer.from(this.bytes.subarray(0, used));
    const words32 = new Uint32Array(bytes.buffer, bytes.byteOffset, used / 4);
    const words64 = new Float64Array(bytes.buffer, bytes.byteOffset, used / 8);
    const words = new Uint32Array(4);
    for (let i = 0; i < this.count; i++) {
      const at = i * (ENTRY / 4);
      words[0] = words32[at]!;
      words[1] = words32[at + 1]!;
      words[2] = words32[at + 2]!;
      words[3] = words32[at + 3]!;
      each(words, words64[i * (ENTRY / 8) + 2]!, words32[at + 6]!);
    }
  }

  get packed(): Buffer {
    return this.bytes.subarray(0, this.count * ENTRY);
  }
}

/** The entries of the segment's sidecar; undefined when there is none, or it does not match `stamp` or fails its check. */
export async function readSidecar(segment: string, stamp: SegmentStamp): Promise<SegmentEntries | undefined> {
  let data: Buffer;
  try {
    data = await readFile(sidecarPath(segment));
  } catch {
    return undefined;
  }
  if (data.length < HEADER + DIGEST || data.compare(MAGIC, 0, MAGIC.length, 0, MAGIC.length) !== 0) return undefined;
  const count = data.readUInt32LE(24);
  if (data.length !== HEADER + count * ENTRY + DIGEST) return undefined;
  if (data.readDoubleLE(8) !== stamp.size || data.readDoubleLE(16) !== stamp.mtimeMs) return undefined;
  const body = data.subarray(0, data.length - DIGEST);
  if (!createHash('sha256').update(body).digest().equals(data.subarray(body.length))) return undefined;
  const entries = new SegmentEntries(data.subarray(HEADER, body.length));
  entries.count = count;
  return entries;
}

/** Writes the sidecar under a temporary name and renames it into place, so a crash leaves either none or a whole one. */
export async function writeSidecar(segment: string, stamp: SegmentStamp, entries: SegmentEntries): Promise<void> {
  const header = Buffer.alloc(HEADER);
  MAGIC.copy(header);
  header.writeDoubleLE(stamp.size, 8);
  header.writeDoubleLE(stamp.mtimeMs, 16);
  header.writeUInt32LE(entries.count, 24);
  const body = entries.packed;
  const digest = createHash('sha256').update(header).update(body).digest();
  const final = sidecarPath(segment);
  const temp = `${final}.${process.pid}.tmp`;
  try {
    await writeFile(temp, Buffer.concat([header, body, digest]));
    await rename(temp, final);
  } catch (error) {
    await rm(temp, { force: true }).catch(() => undefined);
    throw error;
  }
}
