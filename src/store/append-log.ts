import { open, type FileHandle } from 'node:fs/promises';
import { StringDecoder } from 'node:string_decoder';

/**
 * An append-only file with group commit: lines appended while a write is in flight go out together in
 * the next single write. Each append resolves once its line is on disk (in the OS), so nothing is
 * acknowledged early, and under load the syscalls stay few.
 */
export class AppendLog {
  private handle: Promise<FileHandle> | undefined;
  private pending: { line: Buffer; resolve: (offset: number) => void; reject: (error: unknown) => void }[] = [];
  private writing = false;
  /** The file's size as this log knows it; the file is assumed to be this process's own when offsets matter. */
  size = 0;
  /** The file ends inside a line (a write cut short by a crash or a full disk): the next write starts a new one. */
  private midLine = false;

  constructor(readonly path: string) {}

  /** Appends one line (a newline is added) and resolves with the byte offset it was written at. */
  append(text: string): Promise<number> {
    return new Promise((resolve, reject) => {
      this.pending.push({ line: Buffer.from(text + '\n'), resolve, reject });
      if (!this.writing) void this.flush();
    });
  }

  private async flush(): Promise<void> {
    this.writing = true;
    while (this.pending.length > 0) {
      const batch = this.pending;
      this.pending = [];
      let handle: FileHandle | undefined;
      try {
        this.handle ??= this.openAtEnd();
        handle = await this.handle;
        const prefix = this.midLine ? Buffer.from('\n') : Buffer.alloc(0);
        const buffer = Buffer.concat([prefix, ...batch.map((b) => b.line)]);
        const { bytesWritten } = await handle.write(buffer);
        if (bytesWritten < buffer.length) throw Object.assign(new Error(`short write to ${this.path} (${bytesWritten} of ${buffer.length} bytes)`), { code: 'EIO' });
        const start = this.size + prefix.length;
        this.size += buffer.length;
        this.midLine = false;
        let offset = start;
        for (const entry of batch) {
          entry.resolve(offset);
          offset += entry.line.length;
        }
      } catch (error) {
        // Part of the batch may be on disk: learn where the file really ends, so later lines start
        // on a line of their own and their offsets are right.
        if (handle) await this.syncEnd(handle).catch(() => undefined);
        for (const entry of batch) entry.reject(error);
      }
    }
    this.writing = false;
  }

  private async openAtEnd(): Promise<FileHandle> {
    const handle = await open(this.path, 'a+');
    await this.syncEnd(handle);
    return handle;
  }

  private async syncEnd(handle: FileHandle): Promise<void> {
    const { size } = await handle.stat();
    this.size = size;
    if (size === 0) {
      this.midLine = false;
      return;
    }
    const last = Buffer.alloc(1);
    await handle.read(last, 0, 1, size - 1);
    this.midLine = last[0] !== 0x0a;
  }

  async close(): Promise<void> {
    while (this.writing || this.pending.length > 0) await new Promise((r) => setImmediate(r));
    const handle = this.handle;
    this.handle = undefined;
    if (handle) await (await handle).close();
  }
}

/**
 * The lines of a file (without their newlines), read in chunks so the file may be larger than one
 * string can hold; the last line is given even without a final newline. A missing file has no lines.
 */
export async function* readLines(path: string): AsyncGenerator<string> {
  let handle: FileHandle;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  try {
    const decoder = new StringDecoder('utf8');
    const buffer = Buffer.allocUnsafe(1 << 20);
    let rest = '';
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, null);
      if (bytesRead === 0) break;
      const lines = (rest + decoder.write(buffer.subarray(0, bytesRead))).split('\n');
      rest = lines.pop()!;
      for (const line of lines) if (line) yield line;
    }
    rest += decoder.end();
    if (rest) yield rest;
  } finally {
    await handle.close();
  }
}
