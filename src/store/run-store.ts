import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Low } from 'lowdb';
import { makeFolderIn } from '../paths.js';
import { JsonFile } from './json-file.js';
import { z } from 'zod';
import { InputError } from '../errors.js';
import type { ScreenReport } from '../exports/screen.js';
import { SHARD_BY } from '../pipeline/shard.js';
import { HealthTally, isSampleHealth, type SampleHealth } from '../pipeline/health.js';
import { UsageMeter } from '../pipeline/usage.js';
import { AppendLog, readLines } from './append-log.js';
import { acquireLock, LockHeldError, lockOwner } from './run-lock.js';
import { usageSchema, type Usage } from './record.js';

export const RUN_ID_PATTERN = /^[a-z0-9][a-z0-9_-]{2,63}$/;
export const RUN_STATUSES = ['running', 'done', 'cancelled', 'failed', 'stopped', 'interrupted'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

export const runOptionsSchema = z.object({
  agents: z.number().int(),
  max_rounds: z.number().int(),
  grade: z.boolean(),
  preference: z.boolean(),
  belief_rounds: z.number().int(),
  min_margin: z.number(),
  policy_ids: z.array(z.string()),
  /** Dedup and decontamination of the input rows, when asked for. */
  screen: z.object({ dedup_threshold: z.number().optional(), decontaminate: z.string().optional(), ngram: z.number().optional(), ngram_overlap: z.number().optional() }).optional(),
  recipe: z.string().optional().describe('What one sample is ("baseline", "grading", …); absent for "aidsafe", so runs made before recipes existed keep their ids.'),
  eval: z
    .object({ suite: z.string(), target_model: z.string(), target_address: z.string().optional(), target_temperature: z.number(), templates: z.string() })
    .optional()
    .describe('An evaluation run: the suite and the model under evaluation, with the base URL of a URL target (the judge is in the config hash).'),
});
export type RunOptions = z.infer<typeof runOptionsSchema>;

export const runManifestSchema = z.object({
  id: z.string(),
  created_at: z.string(),
  updated_at: z.string(),
  status: z.enum(RUN_STATUSES),
  stop_reason: z.string().optional(),
  error: z.string().optional(),
  input: z.object({
    path: z.string(),
    sha256: z.string(),
    column: z.string(),
    rows: z.number().int().describe('Data rows in the file.'),
    limit: z.number().int().optional(),
    shard: z.string().optional().describe('"i/n": this run takes the i-th of n shards of the rows.'),
    shard_by: z.literal(SHARD_BY).optional().describe('How rows were assigned to shards: by a hash of the normalised prompt; absent on sharded runs made before, which took rows whose index modulo n is i − 1.'),
  }),
  options: runOptionsSchema,
  /** Samples this run covers (after limit and shard). */
  total: z.number().int(),
  config_hash: z.string(),
  /** The reports of dedup and decontamination: each input row dropped and the row or benchmark prompt it matched. */
  screened: z.custom<ScreenReport>().optional(),
  batch_mode: z
    .enum(['api', 'files'])
    .optional()
    .describe('How the run last sent its model calls, when in waves: "api" (a provider Batch API) or "files" (offline batch files); its cost is figured at the batch price.'),
  /** On a run made by `merge`: the shard runs it was made from. */
  merged_from: z.array(z.object({ run_id: z.string(), shard: z.string() })).optional(),
});
export type RunManifest = z.infer<typeof runManifestSchema>;

/** One line of a run's sample log. The last line for an index tells its state. */
export interface SampleEvent {
  i: number;
  s: 'started' | 'done' | 'failed';
  record_id: string;
  pair_id?: string;
  /** On "done" of a sample that made a pair: "kept", or why the pair was dropped. */
  pair?: string;
  error?: string;
  raw?: string;
  /** On failures: the prompt (cut to 2,000 characters) and the row's other columns, so a report can show what failed. */
  prompt?: string;
  metadata?: Record<string, unknown>;
  usage?: Usage;
  /** On "done": what the sample adds to the run's health figures (pipeline/health.ts). */
  health?: SampleHealth;
  at: string;
}

export interface RunProgress {
  done: number;
  failed: number;
  usage: Usage;
  /** Last event per sample index. */
  samples: Map<number, SampleEvent>;
  /** The health contributions of the samples done whose line carries one. */
  health: HealthTally;
}

/**
 * Runs on disk: runs/<id>/run.json (the manifest, rewritten only when the run's state changes),
 * runs/<id>/samples.jsonl (an append-only log, one short line per sample event, so a 10,000-sample
 * run never rewrites a growing file), and runs/<id>/lock while a process is working on it.
 */
export class RunStore {
  readonly dir: string;

  constructor(private readonly dataDir: string) {
    this.dir = join(dataDir, 'runs');
  }

  private runDir(id: string): string {
    if (!RUN_ID_PATTERN.test(id)) throw new Error(`invalid run id "${id}"`);
    return join(this.dir, id);
  }

  async readManifest(id: string): Promise<RunManifest | undefined> {
    if (!RUN_ID_PATTERN.test(id)) return undefined;
    const db = new Low<RunManifest | null>(new JsonFile(join(this.runDir(id), 'run.json')), null);
    await db.read();
    return db.data ?? undefined;
  }

  async writeManifest(manifest: RunManifest): Promise<void> {
    await makeFolderIn(this.dataDir, this.runDir(manifest.id));
    const db = new Low<RunManifest>(new JsonFile(join(this.runDir(manifest.id), 'run.json')), manifest);
    await db.write();
  }

  private logs = new Map<string, AppendLog>();

  async append(id: string, event: SampleEvent): Promise<void> {
    let log = this.logs.get(id);
    if (!log) {
      log = new AppendLog(join(this.runDir(id), 'samples.jsonl'));
      this.logs.set(id, log);
    }
    await log.append(JSON.stringify(event));
  }

  /** Closes a run's log file when the run stops. */
  async release(id: string): Promise<void> {
    await this.logs.get(id)?.close();
    this.logs.delete(id);
  }

  /**
   * Calls `onEvent` with each event of the run's sample log, in order, reading the log as a stream (it
   * grows past what one string may hold). A line cut short by a crash is skipped.
   */
  async replay(id: string, onEvent: (event: SampleEvent) => void): Promise<void> {
    for await (const line of readLines(join(this.runDir(id), 'samples.jsonl'))) {
      let event: SampleEvent;
      try {
        event = JSON.parse(line) as SampleEvent;
      } catch {
        continue;
      }
      if (event.usage && !usageSchema.safeParse(event.usage).success) delete event.usage;
      onEvent(event);
    }
  }

  /** Replays the sample log into the last event of every sample (for reports and exports; a run in progress keeps less). */
  async progress(id: string): Promise<RunProgress> {
    const samples = new Map<number, SampleEvent>();
    const meter = new UsageMeter();
    await this.replay(id, (event) => {
      samples.set(event.i, event);
      if (event.usage) meter.merge(event.usage);
    });
    let done = 0;
    let failed = 0;
    const health = new HealthTally();
    for (const event of samples.values()) {
      if (event.s === 'done') done++;
      else if (event.s === 'failed') failed++;
      if (event.s === 'done' && isSampleHealth(event.health)) health.add(event.health);
    }
    return { done, failed, usage: meter.usage, samples, health };
  }

  async list(): Promise<RunManifest[]> {
    let names: string[] = [];
    try {
      names = await readdir(this.dir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    const manifests: RunManifest[] = [];
    for (const name of names) {
      const manifest = RUN_ID_PATTERN.test(name) ? await this.readManifest(name) : undefined;
      if (manifest) manifests.push(manifest);
    }
    return manifests.sort((a, b) => b.created_at.localeCompare(a.created_at));
  }

  /**
   * Takes the run's lock, so two processes never work on one run at once. A lock left by a process
   * that is gone (killed, crashed; or its pid now belongs to another process) is taken over by exactly
   * one of the processes that find it: see run-lock.ts.
   */
  async lock(id: string): Promise<() => Promise<void>> {
    await makeFolderIn(this.dataDir, this.runDir(id));
    try {
      return await acquireLock(join(this.runDir(id), 'lock'));
    } catch (error) {
      if (error instanceof LockHeldError) throw new InputError(`run_id: run "${id}" is already running in process ${error.owner.pid}; wait for it or cancel it`);
      throw error;
    }
  }

  /** The live process holding a run's lock, if any. */
  async lockHolder(id: string): Promise<{ pid: number } | undefined> {
    if (!RUN_ID_PATTERN.test(id)) return undefined;
    const owner = await lockOwner(join(this.runDir(id), 'lock')).catch(() => undefined);
    return owner ? { pid: owner.pid } : undefined;
  }
}
