import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Low } from 'lowdb';
import { JsonFile } from './json-file.js';
import { RecordIndex } from './record-index.js';
import { RECORD_ID_PATTERN, summarize, type RecordSummary, type StoredRecord } from './record.js';

export interface ListOptions {
  limit: number;
  /** Return records older than this id (the `next_cursor` of the previous page). */
  cursor?: string;
}

/**
 * Records on disk, one lowdb JSON file per record under `records/`. A write touches only its own
 * file (written to a temp file, then renamed), so no file grows with the dataset and two server
 * processes sharing a data folder never overwrite each other's records. Listing goes through
 * `records.index` (see RecordIndex), which every write appends to.
 */
export class RecordStore {
  readonly dir: string;
  private readonly index: RecordIndex;

  constructor(dataDir: string) {
    this.dir = join(dataDir, 'records');
    this.index = new RecordIndex(join(dataDir, 'records.index'), this.dir);
  }

  /** Makes records/ in the data folder, which exists by now: one level, since on a read-only mount Node's recursive mkdir says ENOENT rather than EROFS. */
  async init(): Promise<void> {
    await mkdir(this.dir).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'EEXIST') throw error;
    });
  }

  private file(id: string): string {
    if (!RECORD_ID_PATTERN.test(id)) throw new Error(`invalid record id "${id}"`);
    return join(this.dir, `${id}.json`);
  }

  async put(record: StoredRecord): Promise<void> {
    const db = new Low<StoredRecord>(new JsonFile(this.file(record.id), { compact: true }), record);
    await this.index.willWrite(record.id);
    await db.write();
    await this.index.written(record.id);
  }

  async get(id: string): Promise<StoredRecord | undefined> {
    if (!RECORD_ID_PATTERN.test(id)) return undefined;
    const db = new Low<StoredRecord | null>(new JsonFile(this.file(id)), null);
    await db.read();
    return db.data ?? undefined;
  }

  /** Every record id, newest first, from a fresh listing of the folder (an export reads them all anyway). */
  async ids(): Promise<string[]> {
    return [...(await this.index.newestFirst({ scan: true }))];
  }

  /** A page of summaries, newest first: reads the page's files only (and skips ids whose file is gone). */
  async list({ limit, cursor }: ListOptions): Promise<{ records: RecordSummary[]; next_cursor?: string }> {
    const records: RecordSummary[] = [];
    let last: string | undefined;
    for (const id of await this.index.newestFirst({ cursor })) {
      if (records.length === limit) return { records, next_cursor: last };
      const record = await this.get(id);
      if (record) records.push(summarize(record));
      last = id;
    }
    return { records };
  }
}
