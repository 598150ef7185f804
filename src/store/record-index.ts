import { appendFile, open, readdir, stat } from 'node:fs/promises';
import { log } from '../log.js';
import { RECORD_ID_PATTERN } from './record.js';

const STAMP = /^@[0-9]+$/;

/** How much of the index file is read at once when catching up with it. */
const READ_CHUNK = 4 * 1024 * 1024;

/**
 * The ids of the records folder in time order, so a page of `list_records` costs a binary search and
 * the page's own files instead of a listing and sort of the whole folder.
 *
 * On disk it is an append-only text file beside `records/` (not inside it: the folder holds records
 * only). Each line is an id, an id and a stamp (`cot_… @1764309600123456789`), or a stamp alone. A
 * stamp is the records folder's modification time in nanoseconds, read after a record was renamed
 * into the folder (or before a scan of it), and says: every record in the folder at that time is in
 * the index. Every process sharing the data folder appends to the same file (each append is one
 * write in append mode, which a local file system puts whole at the end; a torn line only makes the
 * reader scan) and reads only what was added since it last looked.
 *
 * A record that reaches the folder without `put` — written by an older version, copied in by a merge
 * of data folders, or renamed into place by a process that died before it appended the stamp — changes
 * the folder's modification time past the newest stamp. The next look at the index sees that and scans
 * the folder once (readdir, as listing did before the index), appends the ids it lacks and a new stamp.
 * A missing index file is the same case with nothing known. Intents (`id` appended before the record
 * is written) mean a crash after the rename still leaves the id in the index; an id whose file never
 * arrived, or was deleted, is skipped when a page is read.
 *
 * The check trusts the file system's timestamps: a record copied in during the few microseconds
 * between another process's rename and its stamp, within the same clock tick, is seen at the next
 * scan rather than at once; `ids()` always scans.
 */
export class RecordIndex {
  /** Ids in ascending time order. */
  private sorted: string[] = [];
  /** Bytes of the index file taken in so far, and which file (a replaced one is read from the start). */
  private offset = 0;
  private inode: bigint | undefined;
  /** The newest folder modification time known to be covered by the ids taken in. */
  private stamp = -1n;
  /** A line that was not an id or a stamp (a torn write): the folder is scanned to be sure. */
  private damaged = false;
  private warned = false;
  private queue: Promise<unknown> = Promise.resolve();
  /** Lines for the next append; `stamp` lines get the folder's time. */
  private waiting: { id: string; stamp: boolean; done: () => void }[] = [];
  private flushing = false;

  constructor(
    readonly path: string,
    private readonly dir: string,
  ) {}

  /** Appended before the record is written, so a crash after its rename cannot hide it. */
  willWrite(id: string): Promise<void> {
    return this.enqueue(id, false);
  }

  /** Appended after the record is in place, with the folder's time that now covers it. */
  written(id: string): Promise<void> {
    return this.enqueue(id, true);
  }

  private enqueue(id: string, stamp: boolean): Promise<void> {
    return new Promise((resolve) => {
      this.waiting.push({ id, stamp, done: resolve });
      if (!this.flushing) void this.flush();
    });
  }

  /**
   * One append, and one look at the folder's time, for all the lines that arrived while the previous
   * append was written: a run writing many records at once does not pay a file open per line. The time
   * is read after every record of the group was renamed into place, so it covers them all.
   */
  private async flush(): Promise<void> {
    this.flushing = true;
    while (this.waiting.length > 0) {
      const group = this.waiting.splice(0);
      const folderTime = group.some((line) => line.stamp) ? await folderMtime(this.dir).catch(() => undefined) : undefined;
      // Without a stamp the folder stays newer than the index says, and the next listing scans it.
      await this.append(group.map(({ id, stamp }) => (stamp && folderTime !== undefined ? `${id} @${folderTime}\n` : `${id}\n`)).join(''));
      for (const line of group) line.done();
    }
    this.flushing = false;
  }

  /**
   * Ids newest first, starting after `cursor` (an id) when given. Catches up with the index file first,
   * and scans the folder when it holds records the index does not account for (or always, with `scan`).
   */
  async newestFirst(options: { cursor?: string; scan?: boolean } = {}): Promise<Iterable<string>> {
    await this.serial(() => this.refresh(options.scan ?? false));
    const sorted = this.sorted;
    let start = sorted.length - 1;
    if (options.cursor !== undefined) {
      const at = position(sorted, options.cursor);
      if (sorted[at] !== options.cursor) throw new Error(`cursor "${options.cursor}" is not a record id in this store`);
      start = at - 1;
    }
    return (function* () {
      for (let i = start; i >= 0; i--) yield sorted[i]!;
    })();
  }

  /** One refresh at a time: two interleaved would both take in the same new bytes. */
  private serial(work: () => Promise<void>): Promise<void> {
    const next = this.queue.then(work);
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async refresh(scan: boolean): Promise<void> {
    // The folder's time is read before the index, so a stamp appended in between can only cover it.
    const folderTime = await folderMtime(this.dir);
    await this.catchUp();
    if (scan || this.damaged || (folderTime !== undefined && folderTime > this.stamp)) await this.scan();
  }

  /** Takes in the lines appended since the last look (all of them, if the file is new or was replaced). */
  private async catchUp(): Promise<void> {
    let handle;
    try {
      handle = await open(this.path, 'r');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      if (this.inode !== undefined) this.reset(undefined);
      return;
    }
    try {
      const { size, ino } = await handle.stat({ bigint: true });
      if (ino !== this.inode || size < BigInt(this.offset)) this.reset(ino);
      const fresh: string[] = [];
      const buffer = Buffer.alloc(Math.min(READ_CHUNK, Math.max(0, Number(size) - this.offset)));
      while (this.offset < Number(size)) {
        const { bytesRead } = await handle.read(buffer, 0, Math.min(buffer.length, Number(size) - this.offset), this.offset);
        if (bytesRead === 0) break;
        const end = buffer.lastIndexOf(10, bytesRead - 1); // a line still being appended waits for the next look
        if (end < 0) break;
        this.takeLines(buffer.toString('utf8', 0, end), fresh);
        this.offset += end + 1;
      }
      this.insert(fresh);
    } finally {
      await handle.close();
    }
  }

  private reset(inode: bigint | undefined): void {
    this.sorted = [];
    this.offset = 0;
    this.inode = inode;
    this.stamp = -1n;
  }

  /** Reads lines by index rather than splitting: a new process takes in every line of a long index once. */
  private takeLines(text: string, fresh: string[]): void {
    let newest = '';
    for (let start = 0; start < text.length; ) {
      let end = text.indexOf('\n', start);
      if (end < 0) end = text.length;
      let from = start;
      while (from < end) {
        let to = text.indexOf(' ', from);
        if (to < 0 || to > end) to = end;
        const token = text.slice(from, to);
        if (token.charCodeAt(0) === 64 /* @ */ && STAMP.test(token)) {
          // Decimal times of the same length compare as text; a longer one is later.
          if (token.length - 1 > newest.length || (token.length - 1 === newest.length && token.slice(1) > newest)) newest = token.slice(1);
        } else if (RECORD_ID_PATTERN.test(token)) {
          fresh.push(token); // each id comes twice (intent, then stamp): insert drops repeats
        } else {
          this.damaged = true;
        }
        from = to + 1;
      }
      start = end + 1;
    }
    if (newest !== '' && BigInt(newest) > this.stamp) this.stamp = BigInt(newest);
  }

  /**
   * New ids mostly come after every known one and are pushed. Otherwise the ids are copied, not changed
   * in place: a page being read walks the array it started with.
   */
  private insert(fresh: string[]): void {
    fresh.sort(compareIds);
    const sorted = this.sorted;
    let copy: string[] | undefined;
    let previous: string | undefined;
    for (const id of fresh) {
      if (id === previous) continue;
      previous = id;
      const target = copy ?? sorted;
      const last = target[target.length - 1];
      if (last === undefined || compareIds(last, id) < 0) {
        target.push(id);
        continue;
      }
      const at = position(target, id);
      if (target[at] === id) continue;
      copy ??= sorted.slice();
      copy.splice(position(copy, id), 0, id);
    }
    if (copy) this.sorted = copy;
  }

  /**
   * The ids become exactly the folder's records; those the index file lacks are appended, with the
   * folder's time read before the listing (a record that arrives during it moves the time on, and is
   * found by the next scan).
   */
  private async scan(): Promise<void> {
    const folderTime = await folderMtime(this.dir);
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      names = [];
    }
    const present: string[] = [];
    for (const name of names) {
      if (!name.endsWith('.json')) continue;
      const id = name.slice(0, -5);
      if (RECORD_ID_PATTERN.test(id)) present.push(id);
    }
    present.sort(compareIds);
    const missing = present.filter((id) => this.sorted[position(this.sorted, id)] !== id);
    this.sorted = present;
    this.damaged = false;
    if (folderTime === undefined) return;
    if (folderTime > this.stamp) this.stamp = folderTime;
    await this.append(missing.map((id) => `${id}\n`).join('') + `@${folderTime}\n`);
  }

  /**
   * The index only speeds listing up: when it cannot be written (a full disk), records are still
   * written, and the folder's time, left ahead of the newest stamp, makes the next look scan.
   */
  private async append(text: string): Promise<void> {
    try {
      await appendFile(this.path, text);
    } catch (error) {
      if (!this.warned) log('warning', `record index ${this.path} not updated: ${(error as Error).message}; listing scans the records folder instead`);
      this.warned = true;
    }
  }
}

async function folderMtime(dir: string): Promise<bigint | undefined> {
  try {
    return (await stat(dir, { bigint: true })).mtimeNs;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** Where `id` is, or would go, in sorted ids. */
function position(sorted: readonly string[], id: string): number {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (compareIds(sorted[mid]!, id) < 0) low = mid + 1;
    else high = mid;
  }
  return low;
}

/**
 * Ids order by the time part after their prefix, so records of every kind interleave by time; the
 * same time and random part falls back to the whole id. Compared in place: sorting a long index
 * calls this millions of times.
 */
export function compareIds(a: string, b: string): number {
  let x = a.indexOf('_') + 1;
  let y = b.indexOf('_') + 1;
  for (; x < a.length && y < b.length; x++, y++) {
    const d = a.charCodeAt(x) - b.charCodeAt(y);
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  if (a.length - x !== b.length - y) return a.length - x < b.length - y ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}
