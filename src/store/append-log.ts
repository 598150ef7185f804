import { open, type FileHandle } from 'node:fs/promises';

/**
 * An append-only file with group commit: lines appended while a write is in flight go out together in
 * the next single write. Each append resolves once its line is on disk (in the OS), so nothing is
 * acknowledged early, and under load the syscalls stay few.
 */
export class AppendLog {
  private handle: Promise<FileHandle> | undefined;
  private pending: { line: Buffer; resolve: (offset: number) => void; reject: (error: unknown) => void }[] = [];
  private writing = false;
  /** Bytes written through this log; the file is assumed to be this process's own when offsets matter. */
  size = 0;

  constructor(
    readonly path: string,
    initialSize = 0,
  ) {
    this.size = initialSize;
  }

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
      const start = this.size;
      const buffer = Buffer.concat(batch.map((b) => b.line));
      try {
        this.handle ??= open(this.path, 'a');
        const handle = await this.handle;
        await handle.write(buffer);
        this.size += buffer.length;
        let offset = start;
        for (const entry of batch) {
          entry.resolve(offset);
          offset += entry.line.length;
        }
      } catch (error) {
        for (const entry of batch) entry.reject(error);
      }
    }
    this.writing = false;
  }

  async close(): Promise<void> {
    while (this.writing || this.pending.length > 0) await new Promise((r) => setImmediate(r));
    const handle = this.handle;
    this.handle = undefined;
    if (handle) await (await handle).close();
  }
}
