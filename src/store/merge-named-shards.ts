import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { compareFiles, isLink, MergeConflictError } from './merge-files.js';
import { jobIdOf, mergeShardRuns, type ShardRun } from './merge-runs.js';
import { RunStore, type RunManifest } from './run-store.js';

/**
 * The shard runs of one job that all carry the run id the user gave (`run --shard auto --run-id myjob`
 * on every task of an array): they cannot be kept side by side under one id, so merge makes that id
 * the job's run, from each shard's folder, and keeps no shard run of its own.
 */
export interface NamedShardJob {
  id: string;
  /** One run per shard, each labelled with its folder. */
  shards: ShardRun[];
  /** The run merged into the target before, whose shards and samples are kept. */
  previous?: ShardRun;
  /** Whether the target already holds a run of this id (merged before, or one of the shards). */
  inTarget: boolean;
  /**
   * The run an earlier merge made under the job's derived id from the shard the target held alone
   * (it could not yet tell this id was shared): this run takes its place, so it is removed. Set only
   * when that run is still exactly what merge wrote, so nothing resumed or added by hand is lost.
   */
  replaces?: string;
}

interface Found {
  dir: string;
  manifest: RunManifest;
}

/**
 * Finds the run ids that hold shard runs of more than one shard across the folders (the sources and
 * the target), or under which the target holds such a job from an earlier merge, when a source brings
 * a shard run of that id. Throws, naming the run id and both
 * folders, when they are not one job's disjoint shards: another input, options, models or shard
 * count, a run of that id that is no shard run, or one shard done differently in two folders.
 */
export async function findNamedShardJobs(sources: string[], into: string, runIdsOf: (dir: string) => Promise<string[]>): Promise<NamedShardJob[]> {
  const shardRuns = new Map<string, Found[]>();
  const others = new Map<string, Found[]>();
  const mergedInTarget = new Map<string, RunManifest>();
  for (const dir of [...sources, into]) {
    const store = new RunStore(dir);
    for (const id of await runIdsOf(dir)) {
      if (dir !== into && (await isLink(join(dir, 'runs', id, 'samples.jsonl')))) continue;
      const manifest = await store.readManifest(id);
      if (!manifest) continue;
      const found = { dir, manifest };
      if (manifest.merged_from) {
        // A job merged under the shards' own id: every shard it came from carries that id.
        if (dir === into && manifest.merged_from.every((m) => m.run_id === id)) mergedInTarget.set(id, manifest);
        else others.set(id, [...(others.get(id) ?? []), found]);
      } else if (manifest.input.shard !== undefined) shardRuns.set(id, [...(shardRuns.get(id) ?? []), found]);
      else others.set(id, [...(others.get(id) ?? []), found]);
    }
  }
  const jobs: NamedShardJob[] = [];
  for (const [id, found] of [...shardRuns].sort(([a], [b]) => a.localeCompare(b))) {
    const previous = mergedInTarget.get(id);
    const shards = new Set(found.map((f) => f.manifest.input.shard));
    if (!found.some((f) => f.dir !== into)) continue; // nothing of it comes in: the target's runs stay as they are
    // One shard under an id (each shard given its own id, or the first shard of a named job to arrive) is
    // copied as it is, and its job merged under the job's derived id, as for shards with derived ids.
    if (shards.size < 2 && !previous) continue;
    const other = others.get(id)?.[0];
    if (other) throw new MergeConflictError(`run ${id}: ${other.dir} holds a run of that id that is not one of its shard runs (in ${found[0]!.dir}); merge stopped, nothing was written`);
    const first = found[0]!;
    const job = jobIdOf(first.manifest);
    const count = first.manifest.input.shard!.split('/')[1];
    for (const f of found.slice(1)) {
      const sameJob = jobIdOf(f.manifest) === job && f.manifest.input.shard_by === first.manifest.input.shard_by;
      if (!sameJob) throw new MergeConflictError(`run ${id}: the shard runs in ${first.dir} and ${f.dir} were made from other input, options or models; merge stopped, nothing was written (give each job its own --run-id)`);
      if (f.manifest.input.shard!.split('/')[1] !== count) {
        throw new MergeConflictError(`run ${id}: shard ${first.manifest.input.shard} in ${first.dir} and shard ${f.manifest.input.shard} in ${f.dir} split the rows differently, so their rows overlap; merge stopped, nothing was written`);
      }
    }
    if (previous && jobIdOf(previous) !== job) throw new MergeConflictError(`run ${id}: the run merged in ${into} and the shard runs in ${first.dir} were made from other input, options or models; merge stopped, nothing was written`);
    const replaces = previous ? undefined : await mergedFromLoneShard(into, id, job, found.filter((f) => f.dir === into));
    jobs.push({
      id,
      shards: await oneRunPerShard(id, found),
      ...(previous ? { previous: { manifest: previous, progress: await new RunStore(into).progress(id), label: `${id} in ${into}` } } : {}),
      inTarget: previous !== undefined || found.some((f) => f.dir === into),
      ...(replaces ? { replaces } : {}),
    });
  }
  return jobs;
}

/**
 * The job's derived id when the target holds a run there that merge made from the target's own shard
 * run of `id` and nothing else, unchanged since: the same manifest and log merge would write now, and
 * no other file in its folder. A run resumed since, or changed in any way, is not this.
 */
async function mergedFromLoneShard(into: string, id: string, job: string, inTarget: Found[]): Promise<string | undefined> {
  if (job === id || inTarget.length === 0) return undefined;
  const store = new RunStore(into);
  const held = await store.readManifest(job).catch(() => undefined);
  if (!held?.merged_from?.every((m) => m.run_id === id)) return undefined;
  const names = await readdir(join(into, 'runs', job)).catch(() => []);
  if (names.sort().join(',') !== 'run.json,samples.jsonl') return undefined;
  const shards = await Promise.all(inTarget.map(async (f) => ({ manifest: f.manifest, progress: await store.progress(id) })));
  const rebuilt = mergeShardRuns(job, shards);
  const log = await readFile(join(into, 'runs', job, 'samples.jsonl'), 'utf8').catch(() => undefined);
  return log === rebuilt.log && JSON.stringify(held) === JSON.stringify(rebuilt.manifest) ? job : undefined;
}

/** The same shard found in several folders is one run: the copy further along, when one log begins the other. */
async function oneRunPerShard(id: string, found: Found[]): Promise<ShardRun[]> {
  const byShard = new Map<string, Found>();
  for (const f of found) {
    const shard = f.manifest.input.shard!;
    const held = byShard.get(shard);
    if (!held) {
      byShard.set(shard, f);
      continue;
    }
    const log = (dir: string) => join(dir, 'runs', id, 'samples.jsonl');
    const [has, hasHeld] = await Promise.all([exists(log(f.dir)), exists(log(held.dir))]);
    // A shard that has not logged a sample yet is the beginning of any copy of itself.
    const comparison = has && hasHeld ? await compareFiles(log(f.dir), log(held.dir)) : has ? 'source-longer' : 'same';
    if (comparison === 'different') throw new MergeConflictError(`run ${id}: shard ${shard} is in ${held.dir} and ${f.dir} with different samples; merge only one of them`);
    if (comparison === 'source-longer') byShard.set(shard, f);
  }
  return Promise.all([...byShard.values()].map(async (f) => ({ manifest: f.manifest, progress: await new RunStore(f.dir).progress(id), label: `${id} in ${f.dir}` })));
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}
