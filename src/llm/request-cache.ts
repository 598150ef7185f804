import { createHash, randomBytes } from 'node:crypto';
import { open, mkdir, readdir, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { ResolvedEndpoint } from '../config.js';
import { AppendLog } from '../store/append-log.js';
import type { CompletionRequest, TokenUsage } from './chat-model.js';
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

/**
 * Model replies on disk, keyed by request identity, so a resumed or repeated run repeats no call
 * that already finished. Each process appends to a file of its own (no two writers share a file,
 * so nothing interleaves); every file is indexed at open, and only the index (key → file, offset)
 * stays in memory. A line cut short by a crash is skipped.
 */
export class RequestCache {
  private readonly index = new Map<string, { file: string; offset: number; length: number }>();
  /** Read handles by file; promises, so concurrent first reads share one open. */
  private readonly handles = new Map<string, Promise<FileHandle>>();
  private writer: AppendLog | undefined;

  constructor(private readonly dir: string) {}

  async open(): Promise<this> {
    await mkdir(this.dir, { recursive: true });
    for (const name of (await readdir(this.dir)).filter((n) => n.endsWith('.jsonl')).sort()) await this.scan(join(this.dir, name));
    return this;
  }

  get size(): number {
    return this.index.size;
  }

  private async scan(file: string): Promise<void> {
    const handle = await open(file, 'r');
    try {
      const buffer = await handle.readFile();
      let start = 0;
      while (start < buffer.length) {
        let end = buffer.indexOf(10, start);
        if (end < 0) end = buffer.length; // a final line without newline: cut short, unless it parses
        const line = buffer.subarray(start, end);
        const key = keyOf(line);
        if (key) this.index.set(key, { file, offset: start, length: end - start });
        start = end + 1;
      }
    } finally {
      await handle.close();
    }
  }

  async get(key: string): Promise<CachedReply | undefined> {
    const at = this.index.get(key);
    if (!at) return undefined;
    let handle = this.handles.get(at.file);
    if (!handle) {
      handle = open(at.file, 'r');
      this.handles.set(at.file, handle);
    }
    const buffer = Buffer.alloc(at.length);
    try {
      await (await handle).read(buffer, 0, at.length, at.offset);
      const entry = JSON.parse(buffer.toString('utf8')) as CachedReply & { k: string };
      return { value: entry.value, model: entry.model, usage: entry.usage };
    } catch {
      return undefined;
    }
  }

  /** Appends one reply to this process's own file; resolves once it is written. */
  async put(key: string, reply: CachedReply): Promise<void> {
    this.writer ??= new AppendLog(join(this.dir, `${Date.now().toString(36)}-${process.pid}-${randomBytes(4).toString('hex')}.jsonl`));
    const line = JSON.stringify({ k: key, ...reply });
    const offset = await this.writer.append(line);
    this.index.set(key, { file: this.writer.path, offset, length: Buffer.byteLength(line) });
  }

  /** Closes the open files; the index stays, and files reopen on the next use. */
  async release(): Promise<void> {
    const handles = [...this.handles.values()];
    this.handles.clear();
    for (const handle of handles) await (await handle.catch(() => undefined))?.close().catch(() => undefined);
    await this.writer?.close();
  }

  async close(): Promise<void> {
    await this.release();
    this.writer = undefined;
  }
}

function keyOf(line: Buffer): string | undefined {
  // Lines start with {"k":"<64 hex>", so the key is read without parsing the whole entry.
  const head = line.subarray(0, 72).toString('latin1');
  const match = /^\{"k":"([0-9a-f]{64})"/.exec(head);
  if (!match || line[line.length - 1] !== 0x7d /* } */) return undefined;
  return match[1];
}
