import { readFile, rm, rmdir, stat } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { InputError } from '../errors.js';
import { makeDataFolder } from '../paths.js';
import { compareFiles, copyFileAtomic, entriesUnder, filesUnder, isLink, MergeConflictError, type FileAction, type PlannedFile } from './merge-files.js';
import { findNamedShardJobs, type NamedShardJob } from './merge-named-shards.js';
import { jobIdOf, mergeShardRuns, type MergedJob, type ShardRun } from './merge-runs.js';
import { RECORD_ID_PATTERN } from './record.js';
import { RUN_ID_PATTERN, RunStore, type RunManifest } from './run-store.js';
import { writeFileAtomic } from './write-file.js';

export { MergeConflictError } from './merge-files.js';

export interface MergeCounts {
  copied: number;
  /** Already in the target folder, identical (or the target's copy is further along). */
  skipped: number;
  /** In the target folder, but a shorter copy of the source's (a log or cache file that grew since). */
  updated: number;
  /** In the target folder after the merge. */
  total: number;
}

export interface MergeReport {
  into: string;
  from: string[];
  records: MergeCounts;
  /** Run folders (shard runs and any others) copied as they are. */
  runs: MergeCounts;
  /** Request cache files. */
  cache: MergeCounts;
  /** Runs made of shard runs, one per job. */
  jobs: (MergedJob & { result: 'created' | 'updated' | 'unchanged' })[];
  /**
   * Runs removed because a job's run replaced them: the run an earlier merge made under a job's
   * derived id from its first shard alone, once that shard's siblings arrive under the run id they share.
   */
  replaced_runs: string[];
  /** Symbolic links in the source folders, skipped: not followed, not copied (a run whose log is one is skipped whole). */
  links: string[];
}

type Category = 'records' | 'runs' | 'cache';

/**
 * Merges data folders (each shard's, say) into one: records, runs and request cache files are copied
 * (temp name, then rename), what is already there is skipped, and the shard runs of each job become
 * one run covering the job (shard runs that share one run id become the run of that id). Symbolic
 * links in the sources are never followed. Everything is checked before anything is written: a record
 * or log that differs between two folders, or a sample done differently in two shards, stops the merge untouched.
 */
export async function mergeDataFolders(sources: string[], target: string): Promise<MergeReport> {
  const into = resolve(target);
  const from = await checkSources(sources, into);
  const plan = new Map<string, PlannedFile & { category: Category; unit: string }>();
  const units = { records: new Map<string, FileAction>(), runs: new Map<string, FileAction>(), cache: new Map<string, FileAction>() };

  const consider = async (category: Category, unit: string, source: string, rel: string, sameContent?: (a: Buffer, b: Buffer) => boolean) => {
    const to = join(into, rel);
    const held = plan.get(rel)?.from ?? ((await exists(to)) ? to : undefined);
    let action: FileAction = 'copy';
    if (held) {
      const comparison = await compareFiles(source, held, sameContent);
      if (comparison === 'different') throw new MergeConflictError(`${rel} differs between ${source} and ${held}; merge stopped, nothing was written`);
      action = comparison === 'source-longer' ? 'update' : 'skip';
      if (action === 'update' && plan.get(rel)?.action === 'copy') action = 'copy';
    }
    if (action !== 'skip') plan.set(rel, { from: source, to, action, category, unit });
    const before = units[category].get(unit);
    units[category].set(unit, before === 'copy' || action === 'copy' ? 'copy' : before === 'update' || action === 'update' ? 'update' : 'skip');
  };

  // A run's log only grows; its manifest changes with it, so the log decides which copy is kept.
  const considerRun = async (id: string, dir: string, manifest: RunManifest) => {
    const logRel = join('runs', id, 'samples.jsonl');
    const log = join(dir, logRel);
    if (await exists(log)) await consider('runs', id, log, logRel);
    const manifestRel = join('runs', id, 'run.json');
    const held = plan.get(manifestRel)?.from ?? join(into, manifestRel);
    const logPlanned = plan.get(logRel)?.from === log;
    const heldManifest = (await exists(held)) ? await readJson<RunManifest>(held) : undefined;
    const newer = !heldManifest || (JSON.stringify(heldManifest) !== JSON.stringify(manifest) && (logPlanned || manifest.updated_at > heldManifest.updated_at));
    if (newer) plan.set(manifestRel, { from: join(dir, manifestRel), to: join(into, manifestRel), action: heldManifest ? 'update' : 'copy', category: 'runs', unit: id });
    if (!units.runs.has(id)) units.runs.set(id, newer ? (heldManifest ? 'update' : 'copy') : 'skip');
    else if (newer && units.runs.get(id) === 'skip') units.runs.set(id, 'update');
  };

  // Shard runs that share the run id the user gave: merged into that id below, not copied.
  const named = await findNamedShardJobs(from, into, runIds);
  const namedIds = new Set(named.map((n) => n.id));
  const links: string[] = [];
  const listed = async (folder: string) => {
    const entries = await entriesUnder(folder);
    links.push(...entries.links);
    return entries.files;
  };
  for (const dir of from) {
    for (const name of await listed(join(dir, 'records'))) {
      const id = recordIdOf(name);
      if (id) await consider('records', id, join(dir, 'records', name), join('records', name), sameJson);
    }
    for (const id of runIdsIn(await listed(join(dir, 'runs')))) {
      if (await isLink(join(dir, 'runs', id, 'samples.jsonl'))) continue; // listed among the links
      if (namedIds.has(id)) continue;
      const manifest = await new RunStore(dir).readManifest(id);
      if (!manifest || manifest.merged_from) continue; // a merged run is rebuilt from its shards in the target
      await considerRun(id, dir, manifest);
    }
    for (const name of await listed(join(dir, 'cache'))) {
      // Only the segments: their sidecar indexes are stamped with each folder's file times, and rebuilt on open.
      if (name.endsWith('.jsonl')) await consider('cache', name, join(dir, 'cache', name), join('cache', name));
    }
  }

  const jobs = [...(await planJobs(into, plan, namedIds)), ...(await planNamedJobs(into, named))];
  for (const { manifest, result } of jobs) if (namedIds.has(manifest.id)) units.runs.set(manifest.id, result === 'created' ? 'copy' : result === 'updated' ? 'update' : 'skip');
  await makeDataFolder(into, '--into', { writable: true });
  for (const file of plan.values()) await copyFileAtomic(file.from, file.to);
  const runs = new RunStore(into);
  for (const { manifest, log, result } of jobs) {
    if (result === 'unchanged') continue;
    await runs.writeManifest(manifest);
    await writeFileAtomic(join(runs.dir, manifest.id, 'samples.jsonl'), log);
  }
  const replaced = named.flatMap((n) => (n.replaces ? [n.replaces] : []));
  for (const id of replaced) {
    // Checked to hold only these two files, both as merge wrote them.
    await rm(join(runs.dir, id, 'run.json'));
    await rm(join(runs.dir, id, 'samples.jsonl'));
    await rmdir(join(runs.dir, id));
  }

  const count = (category: Category, total: number): MergeCounts => {
    const actions = [...units[category].values()];
    return { copied: actions.filter((a) => a === 'copy').length, skipped: actions.filter((a) => a === 'skip').length, updated: actions.filter((a) => a === 'update').length, total };
  };
  return {
    into,
    from,
    records: count('records', (await filesUnder(join(into, 'records'))).filter((n) => recordIdOf(n) !== undefined).length),
    runs: count('runs', (await runIds(into)).length),
    cache: count('cache', (await filesUnder(join(into, 'cache'))).filter((n) => n.endsWith('.jsonl')).length),
    jobs: jobs.map(({ job, result }) => ({ ...job, result })),
    replaced_runs: replaced,
    links,
  };
}

type PlannedJob = { manifest: RunManifest; log: string; job: MergedJob; result: 'created' | 'updated' | 'unchanged' };

/** The merged run of every job that has shard runs in the target once the planned files are in. */
async function planJobs(into: string, plan: Map<string, PlannedFile>, namedIds: Set<string>): Promise<PlannedJob[]> {
  // Where each run's files will come from: the source planned to replace them, else the target.
  const homeOf = new Map<string, string>();
  for (const id of await runIds(into)) if (!namedIds.has(id)) homeOf.set(id, into);
  for (const file of plan.values()) {
    const parts = file.to.slice(into.length + 1).split(/[\\/]/);
    if (parts[0] === 'runs' && parts.length === 3) homeOf.set(parts[1]!, resolve(file.from, '..', '..', '..'));
  }
  const shardRuns = new Map<string, ShardRun[]>();
  const merged = new Map<string, RunManifest>();
  const plain = new Set<string>();
  for (const [id, home] of homeOf) {
    const store = new RunStore(home);
    const manifest = await store.readManifest(id);
    if (!manifest) continue;
    if (manifest.merged_from) merged.set(id, manifest);
    else if (manifest.input.shard === undefined) plain.add(id);
    else {
      const jobId = jobIdOf(manifest);
      shardRuns.set(jobId, [...(shardRuns.get(jobId) ?? []), { manifest, progress: await store.progress(id) }]);
    }
  }
  const store = new RunStore(into);
  const jobs = [];
  for (const [jobId, runs] of [...shardRuns].sort(([a], [b]) => a.localeCompare(b))) {
    if (plain.has(jobId)) throw new MergeConflictError(`run ${jobId} (the whole job of shard runs ${runs.map((r) => r.manifest.id).join(', ')}) already exists in ${into} and was not made by merge; merge into another folder`);
    const { manifest, log, job } = mergeShardRuns(jobId, runs);
    let result: 'created' | 'updated' | 'unchanged' = 'created';
    if (merged.has(jobId)) {
      const text = await readFile(join(store.dir, jobId, 'samples.jsonl'), 'utf8').catch(() => '');
      // A merged run resumed since (a plain `run` of the same job) has a manifest of its own and this log as its beginning.
      const sameShards = JSON.stringify(merged.get(jobId)?.merged_from) === JSON.stringify(manifest.merged_from);
      result = sameShards && text.startsWith(log) ? 'unchanged' : 'updated';
    }
    jobs.push({ manifest, log, job, result });
  }
  return jobs;
}

/** The run of each job whose shard runs share its id, from the shards' own folders and what the target held. */
async function planNamedJobs(into: string, named: NamedShardJob[]): Promise<PlannedJob[]> {
  const jobs: PlannedJob[] = [];
  for (const { id, shards, previous, inTarget } of named) {
    const { manifest, log, job } = mergeShardRuns(id, shards, previous);
    let result: PlannedJob['result'] = inTarget ? 'updated' : 'created';
    if (previous) {
      const text = await readFile(join(into, 'runs', id, 'samples.jsonl'), 'utf8').catch(() => '');
      if (text === log && JSON.stringify(previous.manifest.merged_from) === JSON.stringify(manifest.merged_from)) result = 'unchanged';
    }
    jobs.push({ manifest, log, job, result });
  }
  return jobs;
}

async function checkSources(sources: string[], into: string): Promise<string[]> {
  if (sources.length === 0) throw new InputError('from: give at least one data folder to merge');
  const from = [...new Set(sources.map((s) => resolve(s)))];
  for (const dir of from) {
    if (dir === into) throw new InputError(`from: ${dir} is the folder merged into; give it only as --into`);
    const info = await stat(dir).catch(() => undefined);
    if (!info?.isDirectory()) throw new InputError(`from: ${dir} is not a folder`);
    const parts = await Promise.all(['records', 'runs', 'cache'].map((name) => exists(join(dir, name))));
    if (!parts.includes(true)) throw new InputError(`from: ${dir} is not a data folder (no records/, runs/ or cache/)`);
  }
  return from;
}

/** The record a file under records/ holds, by its name; other files there (an index, temp files) are not records. */
function recordIdOf(name: string): string | undefined {
  const file = basename(name);
  const id = file.endsWith('.json') ? file.slice(0, -5) : '';
  return RECORD_ID_PATTERN.test(id) ? id : undefined;
}

async function runIds(dataDir: string): Promise<string[]> {
  return runIdsIn(await filesUnder(join(dataDir, 'runs')));
}

/** The runs among the files under a runs/ folder: those with a run.json of their own. */
function runIdsIn(files: string[]): string[] {
  const names = new Set(files.filter((n) => basename(n) === 'run.json' && n.split(/[\\/]/).length === 2).map((n) => n.split(/[\\/]/)[0]!));
  return [...names].filter((id) => RUN_ID_PATTERN.test(id)).sort();
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

async function readJson<T>(path: string): Promise<T | undefined> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

/** Two copies of a record are the same when they hold the same JSON, however it was laid out. */
function sameJson(a: Buffer, b: Buffer): boolean {
  try {
    return JSON.stringify(JSON.parse(a.toString('utf8'))) === JSON.stringify(JSON.parse(b.toString('utf8')));
  } catch {
    return false;
  }
}
