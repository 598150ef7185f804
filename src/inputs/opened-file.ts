import type { Stats } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';

const CHUNK = 1 << 20;

/**
 * A file opened once and checked through its descriptor (see openInputFile in paths.ts): every read
 * goes through that descriptor, from the start, so what is read is the file that was checked, even
 * if its name is pointed elsewhere afterwards. Whoever opened it closes it.
 */
export class OpenedFile {
  constructor(
    /** The real path it was opened at: for manifests and messages, never to open again. */
    readonly path: string,
    private readonly handle: FileHandle,
  ) {}

  stat(): Promise<Stats> {
    return this.handle.stat();
  }

  /** The bytes from the start, in chunks; reads at explicit offsets, so passes may overlap. */
  async *chunks(): AsyncGenerator<Buffer> {
    let position = 0;
    for (;;) {
      const buffer = Buffer.allocUnsafe(CHUNK);
      const { bytesRead } = await this.handle.read(buffer, 0, CHUNK, position);
      if (bytesRead === 0) return;
      position += bytesRead;
      yield buffer.subarray(0, bytesRead);
    }
  }

  async text(): Promise<string> {
    const parts: Buffer[] = [];
    for await (const chunk of this.chunks()) parts.push(chunk);
    return Buffer.concat(parts).toString('utf8');
  }

  async close(): Promise<void> {
    await this.handle.close().catch(() => undefined);
  }
}
