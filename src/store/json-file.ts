import { readFile } from 'node:fs/promises';
import type { Adapter } from 'lowdb';
import { writeFileAtomic } from './write-file.js';

/**
 * lowdb's JSON file, written through writeFileAtomic: lowdb's own writer leaves its temp file behind
 * when a write fails (a full disk), and those pile up beside every record. `compact` drops the
 * indentation (records: one per sample, read by programs; it made up 15% of their bytes); reading
 * takes either form.
 */
export class JsonFile<T> implements Adapter<T> {
  constructor(
    readonly path: string,
    private readonly options: { compact?: boolean } = {},
  ) {}

  async read(): Promise<T | null> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    }
    return JSON.parse(text) as T;
  }

  async write(data: T): Promise<void> {
    await writeFileAtomic(this.path, this.options.compact ? JSON.stringify(data) : JSON.stringify(data, null, 2));
  }
}
