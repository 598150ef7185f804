import { createHash, randomBytes } from 'node:crypto';
import { open, mkdir, readdir, stat, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { ResolvedEndpoint } from '../config.js';
import { AppendLog } from '../store/append-log.js';
import type { CompletionRequest, TokenUsage } from './chat-model.js';
import { CacheIndex, keyWordsFromBytes } from './cache-index.js';
import { readSidecar, SegmentEntries, writeSidecar, type SegmentStamp } from './cache-sidecar.js';
import { jsonSchemaOf } from './json-schema.js';

export interface CachedReply {
  value: unknown;
  model: string;
  usage: TokenUsage;
}

/**
 * The identity of a request: model, sampling parameters, schema and messages; not the server's
 * address, so a model server that moved (another port, another replica) still answers from the cache.
 */
export function requestKey(endpoint: ResolvedEndpoint, request: CompletionRequest<unknown>): string {
  const identity = JSON.stringify({
    model: endpoint.model,
    temperature: endpoint.temperature ?? null,
    schema_name: request.schemaName,
    schema: jsonSchemaOf(request.schema),
    messages: request.messages,
  });
  return createHash('sha256').update(identity).digest('hex');
}

/** A process's cache file is closed and a new one begun past this size, so no file grows without bound. */
export const SEGMENT_BYTES = 64 * 2 ** 20;

const SCAN_CHUNK = 1 << 20;
/** `{"k":"`, 64 hex digits and a quote: what identifies a line. */
const KEY_HEAD = 71;

/**
 * Model replies on disk, keyed by request identity, so a resumed or repeated run repeats no call
 * that already finished. Each process appends to files of its own (no two writers share a file, so
 * nothing interleaves), a new one every `segmentBytes`. A full segment gets a sidecar index (see
 * `cache-sidecar.ts`); at open a segment is loaded from its sidecar when that matches, else scanned as
 * a stream, and only a compact index (key → file number, offset, length) stays in memory. A line cut
 * short by a crash is skipped.
 */
export class RequestCache {
  private readonly index = new CacheIndex();
  /** File paths by the number the index knows them by. */
  private readonly files: string[] = [];
  /** Read handles by file number; promises, so concurrent first reads share one open. */
  private readonly handles = new Map<number, Promise<FileHandle>>();
  private writer: { log: AppendLog; file: number } | undefined;
  /** Full segments still finishing their last writes. */
  private readonly closing = new Set<Promise<void>>();

  constructor(
    private readonly dir: string,
    private readonly segmentBytes = SEGMENT_BYTES,
  ) {}

  async open(): Promise<this> {
    await mkdir(this.dir, { recursive: true });
    for (const name of (await readdir(this.dir)).filter((n) => n.endsWith('.jsonl')).sort()) await this.load(join(this.dir, name));
    return this;
  }

  /** Indexes one segment from its sidecar, or by scanning it (then writing the sidecar a full segment lacks). */
  private async load(path: string): Promise<void> {
    const file = this.fileNumber(path);
    const add = (words: Uint32Array, offset: number, length: number) => this.index.setWords(words, file, offset, length);
    const before = await stampOf(path);
    const indexed = before && (await readSidecar(path, before));
    const entries = indexed || new SegmentEntries();
    if (!indexed) await scanSegment(path, entries);
    this.index.reserve(entries.count);
    entries.forEach(add);
    if (indexed) return;
    // A segment still growing (another process's open one) gets no sidecar; a full one does, once.
    if (before && before.size >= this.segmentBytes) {
      const after = await stampOf(path);
      if (after && after.size === before.size && after.mtimeMs === before.mtimeMs) await writeSidecar(path, after, entries).catch(() => undefined);
    }
  }

  /** Writes a full segment's sidecar once its last lines are on disk, from a scan of the file itself. */
  private async seal(log: AppendLog): Promise<void> {
    await log.close();
    const stamp = await stampOf(log.path);
    if (!stamp) return;
    const entries = new SegmentEntries();
    await scanSegment(log.path, entries);
    const now = await stampOf(log.path);
    if (now && now.size === stamp.size && now.mtimeMs === stamp.mtimeMs) await writeSidecar(log.path, stamp, entries);
  }

  get size(): number {
    return this.index.size;
  }

  /** The files this cache has read or written, oldest first. */
  get paths(): readonly string[] {
    return this.files;
  }

  private fileNumber(path: string): number {
    this.files.push(path);
    return this.files.length - 1;
  }

  async get(key: string): Promise<CachedReply | undefined> {
    const at = this.index.get(key);
    if (!at) return undefined;
    let handle = this.handles.get(at.file);
    if (!handle) {
      handle = open(this.files[at.file]!, 'r');
      this.handles.set(at.file, handle);
    }
    const buffer = Buffer.alloc(at.length);
    try {
      await (await handle).read(buffer, 0, at.length, at.offset);
      const entry = JSON.parse(buffer.toString('utf8')) as CachedReply & { k: string };
      // The index holds part of each key: the line holds all of it.
      if (entry.k !== key) return undefined;
      return { value: entry.value, model: entry.model, usage: entry.usage };
    } catch {
      return undefined;
    }
  }

  /** Appends one reply to this process's own file; resolves once it is written. */
  async put(key: string, reply: CachedReply): Promise<void> {
    if (this.writer && this.writer.log.size >= this.segmentBytes) {
      const full = this.seal(this.writer.log).catch(() => undefined);
      this.closing.add(full);
      void full.finally(() => this.closing.delete(full));
      this.writer = undefined;
    }
    if (!this.writer) {
      const path = join(this.dir, `${Date.now().toString(36)}-${process.pid}-${randomBytes(4).toString('hex')}.jsonl`);
      this.writer = { log: new AppendLog(path), file: this.fileNumber(path) };
    }
    const { log, file } = this.writer;
    const line = JSON.stringify({ k: key, ...reply });
    const offset = await log.append(line);
    this.index.set(key, { file, offset, length: Buffer.byteLength(line) });
  }

  /** Closes the open files; the index stays, and files reopen on the next use. */
  async release(): Promise<void> {
    const handles = [...this.handles.values()];
    this.handles.clear();
    for (const handle of handles) await (await handle.catch(() => undefined))?.close().catch(() => undefined);
    await this.writer?.log.close();
    await Promise.all(this.closing);
  }

  async close(): Promise<void> {
    await this.release();
    this.writer = undefined;
  }
}

const ENTRY_START = Buffer.from('{"k":"');
const KEY_START = ENTRY_START.length;

/** Whether a line, from its first bytes and its last, is a whole entry: it starts {"k":"<64 hex>" (the digits are checked as they are read) and ends }. */
function isEntry(head: Buffer, last: number): boolean {
  // Lines start with the key, so it is read without parsing the whole entry; a line cut short does not end with }.
  return head.length >= KEY_HEAD && last === 0x7d && head.compare(ENTRY_START, 0, KEY_START, 0, KEY_START) === 0 && head[KEY_START + 64] === 0x22;
}

/** Collects a segment's whole entries, reading it in chunks: a file may be larger than one buffer can hold. */
async function scanSegment(path: string, entries: SegmentEntries): Promise<void> {
  const handle = await open(path, 'r');
  try {
    const buffer = Buffer.allocUnsafe(SCAN_CHUNK);
    let position = 0;
    // The line being read: where it starts, its first bytes (copied when it runs past a chunk), its last byte.
    let lineStart = 0;
    let head: Buffer | undefined;
    let last = -1;
    const endLine = (end: number) => {
      const words = head && isEntry(head, last) ? keyWordsFromBytes(head, KEY_START) : undefined;
      if (words) entries.push(words, lineStart, end - lineStart);
      lineStart = end + 1;
      head = undefined;
      last = -1;
    };
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, SCAN_CHUNK, position);
      if (bytesRead === 0) break;
      const chunk = buffer.subarray(0, bytesRead);
      let from = 0;
      while (from < bytesRead) {
        const newline = chunk.indexOf(10, from);
        const end = newline < 0 ? bytesRead : newline;
        if (end > from) {
          const have = head?.length ?? 0;
          if (have < KEY_HEAD) {
            const more = chunk.subarray(from, Math.min(end, from + KEY_HEAD - have));
            head = head ? Buffer.concat([head, more]) : more;
          }
          last = chunk[end - 1]!;
        }
        if (newline < 0) {
          // The line goes on in the next chunk, which overwrites this buffer: keep a copy of its head.
          if (head) head = Buffer.from(head);
          break;
        }
        endLine(position + newline);
        from = newline + 1;
      }
      position += bytesRead;
    }
    // A final line without newline: cut short, unless it parses.
    if (position > lineStart) endLine(position);
  } finally {
    await handle.close();
  }
}

async function stampOf(path: string): Promise<SegmentStamp | undefined> {
  try {
    const { size, mtimeMs } = await stat(path);
    return { size, mtimeMs };
  } catch {
    return undefined;
  }
}
