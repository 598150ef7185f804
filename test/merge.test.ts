import { createHash } from 'node:crypto';
import { cpSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BENCHMARKS, tempDir } from './helpers/fixtures.js';
import { runCli } from './helpers/cli.js';
import { ScriptedModelServer } from './helpers/scripted-model-server.js';

const xstest = fileURLToPath(new URL('xstest.jsonl', BENCHMARKS));
const job = ['run', '--input', xstest, '--limit', '16', '--concurrency', '4'];

/** A record as content: what the models wrote and which row it came from, not ids, times, durations or run ids. */
function content(dataDir: string): Record<string, unknown>[] {
  const dir = join(dataDir, 'records');
  return readdirSync(dir)
    .filter((n) => n.endsWith('.json'))
    .map((n) => JSON.parse(readFileSync(join(dir, n), 'utf8'), (key, value: unknown) => (key === 'duration_ms' ? undefined : value)) as Record<string, unknown>)
    .map(({ id: _id, created_at: _c, run_id: _r, timings: _t, ...rest }) => rest)
    .sort((a, b) => Number((a.metadata as { row_index: number }).row_index) - Number((b.metadata as { row_index: number }).row_index));
}

/** Every file under a folder with a hash of its bytes, to tell whether anything changed. */
function tree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) out[join(entry.parentPath, entry.name).slice(dir.length)] = createHash('sha256').update(readFileSync(join(entry.parentPath, entry.name))).digest('hex');
  }
  return out;
}

const json = (stdout: string) => JSON.parse(stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;

describe('two shards from a Slurm array, merged, against one unsharded run', () => {
  const server = new ScriptedModelServer();
  const root = tempDir();
  const dirs = { shard0: join(root.path, 'shard-0'), shard1: join(root.path, 'shard-1'), whole: join(root.path, 'whole'), merged: join(root.path, 'merged') };
  const base = () => ({ OPENAI_BASE_URL: server.url, AIDSAFE_MODEL: 'scripted-model' });
  let wholeRunId = '';
  beforeAll(async () => {
    await server.start();
  });
  afterAll(async () => {
    await server.close();
    root.remove();
  });

  it('runs each shard with --shard auto from SLURM_ARRAY_TASK_ID 0 and 1, and the whole job unsharded', async () => {
    const totals: number[] = [];
    for (const task of [0, 1]) {
      const result = await runCli([...job, '--shard', 'auto'], { ...base(), AIDSAFE_DATA_DIR: task === 0 ? dirs.shard0 : dirs.shard1, SLURM_ARRAY_TASK_ID: String(task), SLURM_ARRAY_TASK_MIN: '0', SLURM_ARRAY_TASK_COUNT: '2' });
      expect(result.code, result.stderr).toBe(0);
      totals.push(Number(json(result.stdout).done));
    }
    expect(totals[0]! + totals[1]!).toBe(16);
    expect(totals.every((n) => n > 0)).toBe(true);
    const whole = await runCli(job, { ...base(), AIDSAFE_DATA_DIR: dirs.whole });
    expect(whole.code, whole.stderr).toBe(0);
    wholeRunId = String(json(whole.stdout).run_id);
  });

  it('merges the shards into one run with the same records as the unsharded run, under its id', async () => {
    const result = await runCli(['merge', '--from', dirs.shard0, dirs.shard1, '--into', dirs.merged], {});
    expect(result.code, result.stderr).toBe(0);
    const report = json(result.stdout) as { records: { copied: number; total: number }; runs: { copied: number; total: number }; cache: { copied: number }; jobs: { run_id: string; done: number; total: number; missing_shards: string[]; result: string }[] };
    expect(report.records).toMatchObject({ copied: 16, skipped: 0, total: 16 });
    expect(report.runs).toMatchObject({ copied: 2, skipped: 0, total: 3 });
    expect(report.cache.copied).toBeGreaterThan(0);
    expect(report.jobs).toEqual([expect.objectContaining({ run_id: wholeRunId, done: 16, failed: 0, total: 16, missing_shards: [], result: 'created' })]);
    expect(result.stderr).toContain(`records: 16 copied, 0 already present; 16 records in ${dirs.merged}`);
    expect(result.stderr).toMatch(new RegExp(`run ${wholeRunId} \\(created\\): 16 done, 0 failed of 16, from run-\\w+ \\(1/2\\), run-\\w+ \\(2/2\\)`));
    expect(content(dirs.merged)).toEqual(content(dirs.whole));

    // One export and one report cover the whole job; the same command run on the merged folder has nothing left to do.
    const env = { ...base(), AIDSAFE_DATA_DIR: dirs.merged };
    const exported = await runCli(['export', '--format', 'aidsafe', '--run-id', wholeRunId, '--out', join(root.path, 'job.jsonl')], env);
    expect(exported.code, exported.stderr).toBe(0);
    expect(readFileSync(join(root.path, 'job.jsonl'), 'utf8').trim().split('\n')).toHaveLength(16);
    const report2 = await runCli(['report', '--run-id', wholeRunId, '--out', join(root.path, 'job.html')], env);
    expect(json(report2.stdout)).toMatchObject({ samples: 16 });
    const requests = server.requests.length;
    const again = await runCli(job, env);
    expect(again.stderr).toContain(`run ${wholeRunId}: 16 samples (16 already done, 0 to run)`);
    expect(server.requests.length).toBe(requests);
  });

  it('adds nothing when merging twice', async () => {
    const before = tree(dirs.merged);
    const result = await runCli(['merge', '--from', dirs.shard0, '--from', dirs.shard1, '--into', dirs.merged], {});
    expect(result.code, result.stderr).toBe(0);
    const report = json(result.stdout) as { records: unknown; runs: unknown; cache: { copied: number; updated: number }; jobs: { result: string }[] };
    expect(report.records).toMatchObject({ copied: 0, skipped: 16, updated: 0, total: 16 });
    expect(report.runs).toMatchObject({ copied: 0, skipped: 2, updated: 0, total: 3 });
    expect(report.cache).toMatchObject({ copied: 0, updated: 0 });
    expect(report.jobs.map((j) => j.result)).toEqual(['unchanged']);
    expect(tree(dirs.merged)).toEqual(before);
  });

  it('merges one shard at a time, saying which are missing until all are in', async () => {
    const into = join(root.path, 'one-by-one');
    const first = json((await runCli(['merge', '--from', dirs.shard1, '--into', into], {})).stdout) as { jobs: { missing_shards: string[]; result: string }[] };
    expect(first.jobs).toEqual([expect.objectContaining({ missing_shards: ['1/2'], result: 'created' })]);
    const manifest = JSON.parse(readFileSync(join(into, 'runs', wholeRunId, 'run.json'), 'utf8')) as { status: string; stop_reason: string };
    expect(manifest).toMatchObject({ status: 'stopped', stop_reason: 'merged 1 of 2 shards; missing 1/2' });
    const second = json((await runCli(['merge', '--from', dirs.shard0, '--into', into], {})).stdout) as { jobs: { missing_shards: string[]; result: string; done: number }[] };
    expect(second.jobs).toEqual([expect.objectContaining({ missing_shards: [], result: 'updated', done: 16 })]);
    const log = (dir: string) => readFileSync(join(dir, 'runs', wholeRunId, 'samples.jsonl'), 'utf8');
    expect(log(into)).toBe(log(dirs.merged));
    const whole = JSON.parse(readFileSync(join(into, 'runs', wholeRunId, 'run.json'), 'utf8')) as { status: string; total: number; merged_from: { shard: string }[] };
    expect(whole).toMatchObject({ status: 'done', total: 16 });
    expect(whole.merged_from.map((m) => m.shard)).toEqual(['1/2', '2/2']);
  });

  it('finishes a partly merged job when the job is run again unsharded in the merged folder', async () => {
    const into = join(root.path, 'partly');
    expect((await runCli(['merge', '--from', dirs.shard1, '--into', into], {})).code).toBe(0);
    const resumed = await runCli(job, { ...base(), AIDSAFE_DATA_DIR: into });
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(json(resumed.stdout)).toMatchObject({ run_id: wholeRunId, status: 'done', total: 16, done: 16, failed: 0 });
    expect(JSON.parse(readFileSync(join(into, 'runs', wholeRunId, 'run.json'), 'utf8'))).toMatchObject({ status: 'done', total: 16 });
  });

  it('refuses a merge where two folders disagree, and writes nothing', async () => {
    // The same record id with other content.
    const changed = join(root.path, 'changed');
    cpSync(dirs.shard0, changed, { recursive: true });
    const name = readdirSync(join(changed, 'records')).find((n) => n.endsWith('.json'))!;
    const record = JSON.parse(readFileSync(join(changed, 'records', name), 'utf8')) as { response: string };
    writeFileSync(join(changed, 'records', name), JSON.stringify({ ...record, response: 'something else' }));
    const before = tree(dirs.merged);
    const result = await runCli(['merge', '--from', changed, '--into', dirs.merged], {});
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`records/${name} differs between ${join(changed, 'records', name)} and ${join(dirs.merged, 'records', name)}; merge stopped, nothing was written`);
    expect(tree(dirs.merged)).toEqual(before);

    // One sample done in two shard runs with different records.
    const twice = join(root.path, 'twice');
    cpSync(dirs.shard0, twice, { recursive: true });
    const [shardRun] = readdirSync(join(twice, 'runs'));
    const copyId = 'copied-shard';
    renameSync(join(twice, 'runs', shardRun!), join(twice, 'runs', copyId));
    const manifestPath = join(twice, 'runs', copyId, 'run.json');
    writeFileSync(manifestPath, JSON.stringify({ ...JSON.parse(readFileSync(manifestPath, 'utf8')), id: copyId }));
    const logPath = join(twice, 'runs', copyId, 'samples.jsonl');
    const lines = readFileSync(logPath, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { i: number; record_id: string });
    const done = lines.at(-1)!;
    writeFileSync(logPath, [...lines, { ...done, record_id: 'cot_0000000000other' }].map((l) => JSON.stringify(l)).join('\n') + '\n');
    const conflict = await runCli(['merge', '--from', twice, '--into', dirs.merged], {});
    expect(conflict.code).toBe(1);
    expect(conflict.stderr).toMatch(new RegExp(`run ${wholeRunId}: sample ${done.i} is done in two shard runs with different records: .*; merge only one of them`));
    expect(tree(dirs.merged)).toEqual(before);
  });

  it('says what is wrong with the arguments', async () => {
    expect((await runCli(['merge', '--into', dirs.merged], {})).stderr).toMatch(/--from DIR… is required/);
    expect((await runCli(['merge', '--from', dirs.shard0], {})).stderr).toMatch(/--into DIR is required/);
    const missing = await runCli(['merge', '--from', join(root.path, 'nope'), '--into', dirs.merged], {});
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/from: .*nope is not a folder/);
    expect((await runCli(['merge', '--from', dirs.merged, '--into', dirs.merged], {})).stderr).toMatch(/is the folder merged into/);
  });
});
