import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { AppendLog } from '../../store/append-log.js';

/** Where a batch goes: enough of its endpoint to reach it again after a restart (never the key itself, only its variable's name). */
export interface BatchTarget {
  baseURL: string | undefined;
  apiKeyEnv: string;
  model: string;
}

export interface LedgerBatch {
  name: string;
  wave: number;
  target: BatchTarget;
  /** The body hashes of the requests it holds (forgotten once it is closed). */
  keys: string[];
  requests: number;
  id?: string;
  status: string;
  /** Its results were read back (or it ended without them): nothing more to wait for. */
  closed: boolean;
}

type Entry =
  | { t: 'submitting'; name: string; wave: number; target: BatchTarget; keys: string[] }
  | { t: 'submitted'; name: string; id: string }
  | { t: 'status'; name: string; status: string }
  | { t: 'closed'; name: string; status: string };

/**
 * The batches of a run, in its folder (`batches.jsonl`, append-only): written before a file is sent
 * (with the requests it holds), when the provider gives it an id, when its status changes, and when
 * its results are in. A process restarted after a crash reads it to poll the batches already
 * submitted instead of sending their requests again.
 */
export class BatchLedger {
  private readonly log: AppendLog;

  constructor(readonly path: string) {
    this.log = new AppendLog(path);
  }

  /**
   * Every batch the run has submitted or begun to submit, by name, in order. Read as a stream, and a
   * closed batch keeps only its count of requests, so a long run's ledger costs little to resume.
   */
  async read(): Promise<Map<string, LedgerBatch>> {
    const batches = new Map<string, LedgerBatch>();
    const stream = createReadStream(this.path, 'utf8');
    const opened = new Promise<boolean>((resolve, reject) => {
      stream.once('open', () => resolve(true));
      stream.once('error', (error: NodeJS.ErrnoException) => (error.code === 'ENOENT' ? resolve(false) : reject(error)));
    });
    if (!(await opened)) return batches;
    for await (const line of createInterface({ input: stream, crlfDelay: Infinity })) {
      let entry: Entry;
      try {
        entry = JSON.parse(line) as Entry;
      } catch {
        continue; // empty, or cut short by a crash
      }
      if (entry.t === 'submitting') {
        batches.set(entry.name, { name: entry.name, wave: entry.wave, target: entry.target, keys: entry.keys, requests: entry.keys.length, status: 'submitting', closed: false });
        continue;
      }
      const batch = batches.get(entry.name);
      if (!batch) continue;
      if (entry.t === 'submitted') {
        batch.id = entry.id;
        batch.status = 'submitted';
      } else {
        batch.status = entry.status;
        if (entry.t === 'closed') {
          batch.closed = true;
          batch.keys = [];
        }
      }
    }
    return batches;
  }

  async submitting(batch: { name: string; wave: number; target: BatchTarget; keys: string[] }): Promise<void> {
    await this.log.append(JSON.stringify({ t: 'submitting', ...batch }));
  }

  async submitted(name: string, id: string): Promise<void> {
    await this.log.append(JSON.stringify({ t: 'submitted', name, id }));
  }

  async status(name: string, status: string): Promise<void> {
    await this.log.append(JSON.stringify({ t: 'status', name, status }));
  }

  async closed(name: string, status: string): Promise<void> {
    await this.log.append(JSON.stringify({ t: 'closed', name, status }));
  }

  async close(): Promise<void> {
    await this.log.close();
  }
}
