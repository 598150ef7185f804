import { derivedRunId } from '../pipeline/run-identity.js';
import { MergeConflictError } from './merge-files.js';
import type { RunManifest, RunProgress, SampleEvent } from './run-store.js';

export interface ShardRun {
  manifest: RunManifest;
  progress: RunProgress;
  /** Names the run in messages; default its id. Shard runs that share a run id are told apart by their folder. */
  label?: string;
}

export interface MergedJob {
  /** The merged run: the id the same job gets when run without shards. */
  run_id: string;
  /** The shard runs it was made from, as "run-id (i/n)". */
  from: string[];
  /** Shards of the job not among them, as "i/n". */
  missing_shards: string[];
  done: number;
  failed: number;
  total: number;
}

/**
 * The job a shard run belongs to: what it ran (input, rows, options, models), without the shard.
 * Its id is the id the run would have had without --shard, so after a merge `export --run-id`,
 * `report` and a plain `run` of the same command all find the whole job under one id.
 */
export function jobIdOf(manifest: RunManifest): string {
  const { sha256, column, limit } = manifest.input;
  return derivedRunId({ sha256, column, limit }, manifest.options, manifest.config_hash);
}

/**
 * One run made of a job's shard runs: every sample's last state (a done sample wins over a failed
 * or unfinished one in another run), and a manifest that covers the shards merged. The same shards
 * give the same bytes, so merging again changes nothing. `previous` is the merged run already in the
 * target when the shard runs are not kept there (they share its id): its samples and shards are kept.
 */
export function mergeShardRuns(jobId: string, runs: ShardRun[], previous?: ShardRun): { manifest: RunManifest; log: string; job: MergedJob } {
  const ordered = [...runs].sort((a, b) => shardKey(a.manifest).localeCompare(shardKey(b.manifest)) || a.manifest.id.localeCompare(b.manifest.id) || (a.label ?? '').localeCompare(b.label ?? ''));
  const first = ordered[0]!.manifest;
  const events = new Map<number, { event: SampleEvent; run: string }>();
  for (const { manifest, progress, label } of previous ? [previous, ...ordered] : ordered) {
    for (const event of progress.samples.values()) {
      const held = events.get(event.i);
      if (!held || rank(event) > rank(held.event) || (rank(event) === rank(held.event) && event.at > held.event.at)) events.set(event.i, { event, run: label ?? manifest.id });
      if (held && event.s === 'done' && held.event.s === 'done' && (held.event.record_id !== event.record_id || held.event.pair_id !== event.pair_id)) {
        throw new MergeConflictError(
          `run ${jobId}: sample ${event.i} is done in two shard runs with different records: ${held.run} (record ${held.event.record_id}) and ${label ?? manifest.id} (record ${event.record_id}); merge only one of them`,
        );
      }
    }
  }
  const samples = [...events.values()].map((e) => e.event).sort((a, b) => a.i - b.i);
  const done = samples.filter((e) => e.s === 'done').length;
  const failed = samples.filter((e) => e.s === 'failed').length;
  const count = Number(first.input.shard?.split('/')[1]);
  const before = previous?.manifest.merged_from ?? [];
  const present = new Set([...before.map((m) => m.shard), ...ordered.map((r) => r.manifest.input.shard)].filter((s) => s?.endsWith(`/${count}`)));
  const missing = Array.from({ length: count }, (_, i) => `${i + 1}/${count}`).filter((s) => !present.has(s));
  const unfinished = ordered.filter((r) => r.manifest.status !== 'done').map((r) => `${r.manifest.input.shard} (${r.manifest.status})`);
  const stopReason = missing.length > 0 ? `merged ${present.size} of ${count} shards; missing ${missing.join(', ')}` : unfinished.length > 0 ? `shards not done: ${unfinished.join(', ')}` : undefined;
  const { shard: _shard, shard_by: _by, ...input } = first.input;
  const shardsBefore = new Set(before.map((m) => m.shard));
  const added = ordered.filter((r) => !shardsBefore.has(r.manifest.input.shard ?? ''));
  // A shard merged before keeps its place (and its rows in the total); one merged again is not counted twice.
  const mergedFrom = [...before, ...added.map((r) => ({ run_id: r.manifest.id, shard: r.manifest.input.shard ?? '' }))].filter(
    (m, i, all) => all.findIndex((o) => o.run_id === m.run_id && o.shard === m.shard) === i,
  );
  const stamps = [...(previous ? [previous] : []), ...ordered].map((r) => r.manifest);
  const manifest: RunManifest = {
    id: jobId,
    created_at: stamps.map((m) => m.created_at).sort()[0]!,
    updated_at: stamps.map((m) => m.updated_at).sort().at(-1)!,
    status: stopReason ? 'stopped' : 'done',
    ...(stopReason ? { stop_reason: stopReason } : {}),
    input,
    options: first.options,
    total: (previous?.manifest.total ?? 0) + added.reduce((n, r) => n + r.manifest.total, 0),
    config_hash: first.config_hash,
    ...(first.screened ? { screened: first.screened } : {}),
    merged_from: previous ? mergedFrom.sort((a, b) => shardOrder(a.shard).localeCompare(shardOrder(b.shard))) : ordered.map((r) => ({ run_id: r.manifest.id, shard: r.manifest.input.shard ?? '' })),
  };
  return {
    manifest,
    log: samples.map((e) => JSON.stringify(e) + '\n').join(''),
    job: { run_id: jobId, from: ordered.map((r) => `${r.label ?? r.manifest.id} (${r.manifest.input.shard})`), missing_shards: missing, done, failed, total: manifest.total },
  };
}

function rank(event: SampleEvent): number {
  return event.s === 'done' ? 2 : event.s === 'failed' ? 1 : 0;
}

/** Sorts "2/4" before "10/12": by count, then index. */
function shardKey(manifest: RunManifest): string {
  return shardOrder(manifest.input.shard ?? '0/0');
}

function shardOrder(shard: string): string {
  const [index, count] = shard.split('/').map(Number);
  return `${String(count).padStart(8, '0')}/${String(index).padStart(8, '0')}`;
}
