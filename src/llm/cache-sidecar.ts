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
  private bytes = Buffer.alloc(ENTRY * 1024);
  count = 0;

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
    forEachEntry(this.bytes, 0, this.count * ENTRY, each);
  }

  get packed(): Buffer {
    return this.bytes.subarray(0, this.count * ENTRY);
  }
}

/**
 * Calls `each` for every entry of the segment's sidecar, in order, and returns true; returns false,
 * having called nothing, when there is no sidecar or it does not match `stamp` or fails its check.
 */
export async function loadSidecar(segment: string, stamp: SegmentStamp, each: (words: Uint32Array, offset: number, length: number) => void): Promise<boolean> {
  let data: Buffer;
  try {
    data = await readFile(sidecarPath(segment));
  } catch {
    return false;
  }
  if (data.length < HEADER + DIGEST || data.compare(MAGIC, 0, MAGIC.length, 0, MAGIC.length) !== 0) return false;
  const count = data.readUInt32LE(24);
  if (data.length !== HEADER + count * ENTRY + DIGEST) return false;
  if (data.readDoubleLE(8) !== stamp.size || data.readDoubleLE(16) !== stamp.mtimeMs) return false;
  const body = data.subarray(0, data.length - DIGEST);
  if (!createHash('sha256').update(body).digest().equals(data.subarray(body.length))) return false;
  forEachEntry(data, HEADER, body.length, each);
  return true;
}

function forEachEntry(bytes: Buffer, from: number, to: number, each: (words: Uint32Array, offset: number, length: number) => void): void {
  const words = new Uint32Array(4);
  for (let at = from; at < to; at += ENTRY) {
    for (let w = 0; w < 4; w++) words[w] = bytes.readUInt32LE(at + w * 4);
    each(words, bytes.readDoubleLE(at + 16), bytes.readUInt32LE(at + 24));
  }
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
