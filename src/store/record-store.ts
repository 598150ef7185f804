import { mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Low } from 'lowdb';
import { JsonFile } from './json-file.js';
import { RECORD_ID_PATTERN, summarize, type RecordSummary, type StoredRecord } from './record.js';

export interface ListOptions {
  limit: number;
  /** Return records older than this id (the `next_cursor` of the previous page). */
  cursor?: string;
}

/**
 * Records on disk, one lowdb JSON file per record under `records/`. A write touches only its own
 * file (written to a temp file, then renamed), so no file grows with the dataset and two server
 * processes sharing a data folder never overwrite each other's records.
 */
export class RecordStore {
  readonly dir: string;

  constructor(dataDir: string) {
    this.dir = join(dataDir, 'records');
  }

  async init(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
  }

  private file(id: string): string {
    if (!RECORD_ID_PATTERN.test(id)) throw new Error(`invalid record id "${id}"`);
    return join(this.dir, `${id}.json`);
  }

  async put(record: StoredRecord): Promise<void> {
    const db = new Low<StoredRecord>(new JsonFile(this.file(record.id)), record);
    await db.write();
  }

  async get(id: string): Promise<StoredRecord | undefined> {
    if (!RECORD_ID_PATTERN.test(id)) return undefined;
    const db = new Low<StoredRecord | null>(new JsonFile(this.file(id)), null);
    await db.read();
    return db.data ?? undefined;
  }

  /** Record ids, newest first. Ids sort by creation time, so this is a directory listing and a sort. */
  async ids(): Promise<string[]> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    return names
      .filter((n) => n.endsWith('.json'))
      .map((n) => n.slice(0, -5))
      .filter((id) => RECORD_ID_PATTERN.test(id))
      .sort((a, b) => (idTime(a) === idTime(b) ? (a < b ? 1 : -1) : idTime(a) < idTime(b) ? 1 : -1));
  }

  async list({ limit, cursor }: ListOptions): Promise<{ records: RecordSummary[]; next_cursor?: string }> {
    const ids = await this.ids();
    const start = cursor ? ids.indexOf(cursor) + 1 : 0;
    if (cursor && start === 0) throw new Error(`cursor "${cursor}" is not a record id in this store`);
    const page = ids.slice(start, start + limit);
    const records: RecordSummary[] = [];
    for (const id of page) {
      const record = await this.get(id);
      if (record) records.push(summarize(record));
    }
    const more = start + limit < ids.length;
    return more && page.length > 0 ? { records, next_cursor: page[page.length - 1] } : { records };
  }
}

/** The time part of an id, which follows its prefix, so records of every kind interleave by time. */
function idTime(id: string): string {
  return id.slice(id.indexOf('_') + 1);
}
