import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './helpers/cli.js';
import { BENCHMARKS, tempDir } from './helpers/fixtures.js';
import { ScriptedModelServer } from './helpers/scripted-model-server.js';

const xstest = fileURLToPath(new URL('xstest.jsonl', BENCHMARKS));
const job = ['run', '--input', xstest, '--limit', '12', '--concurrency', '4'];
const json = (stdout: string) => JSON.parse(stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
const slurm = (task: number, count = 2) => ({ SLURM_ARRAY_TASK_ID: String(task), SLURM_ARRAY_TASK_MIN: '0', SLURM_ARRAY_TASK_COUNT: String(count) });

describe('shards of a job run with --shard auto --run-id myjob, merged', () => {
  const server = new ScriptedModelServer();
  const root = tempDir();
  const dir = (name: string) => join(root.path, name);
  const base = () => ({ OPENAI_BASE_URL: server.url, AIDSAFE_MODEL: 'scripted-model' });
  beforeAll(async () => {
    await server.start();
  });
  afterAll(async () => {
    await server.close();
    root.remove();
  });

  it('runs each task of a Slurm array under the one run id it was given', async () => {
    const done: number[] = [];
    for (const task of [0, 1]) {
      const result = await runCli([...job, '--shard', 'auto', '--run-id', 'myjob'], { ...base(), AIDSAFE_DATA_DIR: dir(`shard-${task}`), ...slurm(task) });
      expect(result.code, result.stderr).toBe(0);
      expect(json(result.stdout).run_id).toBe('myjob');
      done.push(Number(json(result.stdout).done));
    }
    expect(done[0]! + done[1]!).toBe(12);
  });

  it('merges them into run myjob, whose export covers every row', async () => {
    const result = await runCli(['merge', '--from', dir('shard-0'), dir('shard-1'), '--into', dir('merged')], {});
    expect(result.code, result.stderr).toBe(0);
    const report = json(result.stdout) as { records: { total: number }; runs: { total: number }; jobs: { run_id: string; done: number; total: number; missing_shards: string[]; result: string; from: string[] }[] };
    expect(report.records.total).toBe(12);
    expect(report.runs.total).toBe(1);
    expect(report.jobs).toEqual([
      expect.objectContaining({ run_id: 'myjob', done: 12, failed: 0, total: 12, missing_shards: [], result: 'created', from: [`myjob in ${dir('shard-0')} (1/2)`, `myjob in ${dir('shard-1')} (2/2)`] }),
    ]);
    const manifest = JSON.parse(readFileSync(join(dir('merged'), 'runs', 'myjob', 'run.json'), 'utf8')) as { status: string; input: { shard?: string }; merged_from: unknown };
    expect(manifest).toMatchObject({ status: 'done', merged_from: [{ run_id: 'myjob', shard: '1/2' }, { run_id: 'myjob', shard: '2/2' }] });
    expect(manifest.input.shard).toBeUndefined();

    const env = { ...base(), AIDSAFE_DATA_DIR: dir('merged') };
    const out = join(root.path, 'myjob.jsonl');
    const exported = await runCli(['export', '--format', 'sft', '--run-id', 'myjob', '--out', out], env);
    expect(exported.code, exported.stderr).toBe(0);
    // `metadata` is exported as a JSON string, holding the input row's index.
    const rows = readFileSync(out, 'utf8').trim().split('\n').map((line) => JSON.parse((JSON.parse(line) as { metadata: string }).metadata) as { row_index: number });
    expect(rows.map((r) => r.row_index).sort((a, b) => a - b)).toEqual(Array.from({ length: 12 }, (_, i) => i));

    // The same merge again changes nothing; the whole job run unsharded under its id has nothing left to do.
    const again = await runCli(['merge', '--from', dir('shard-0'), dir('shard-1'), '--into', dir('merged')], {});
    expect(again.code, again.stderr).toBe(0);
    expect((json(again.stdout) as { jobs: { result: string }[] }).jobs).toEqual([expect.objectContaining({ result: 'unchanged' })]);
    const resumed = await runCli([...job, '--run-id', 'myjob'], env);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(json(resumed.stdout)).toMatchObject({ run_id: 'myjob', done: 12, total: 12 });
  });

  it('merges a shard that arrives later: alone, it is copied as it is; with its sibling, the two become run myjob', async () => {
    const first = await runCli(['merge', '--from', dir('shard-0'), '--into', dir('late')], {});
    expect(first.code, first.stderr).toBe(0);
    const alone = JSON.parse(readFileSync(join(dir('late'), 'runs', 'myjob', 'run.json'), 'utf8')) as { input: { shard?: string } };
    expect(alone.input.shard).toBe('1/2');
    const late = await runCli(['merge', '--from', dir('shard-1'), '--into', dir('late')], {});
    expect(late.code, late.stderr).toBe(0);
    expect((json(late.stdout) as { jobs: unknown[] }).jobs).toEqual([expect.objectContaining({ run_id: 'myjob', done: 12, total: 12, missing_shards: [], result: 'updated' })]);
    expect(JSON.parse(readFileSync(join(dir('late'), 'runs', 'myjob', 'run.json'), 'utf8'))).toMatchObject({ status: 'done', merged_from: [{ run_id: 'myjob', shard: '1/2' }, { run_id: 'myjob', shard: '2/2' }] });
    // The run the first merge made under the job's derived id, from shard 1 alone, is replaced by myjob: no half job stays listed.
    expect(readdirSync(join(dir('late'), 'runs'))).toEqual(['myjob']);
    expect(json(late.stdout)).toMatchObject({ runs: { total: 1 }, replaced_runs: [expect.stringMatching(/^run-/)] });
    // A third merge of both changes nothing.
    const again = await runCli(['merge', '--from', dir('shard-0'), dir('shard-1'), '--into', dir('late')], {});
    expect((json(again.stdout) as { jobs: { run_id: string; result: string }[] }).jobs.find((j) => j.run_id === 'myjob')).toMatchObject({ result: 'unchanged' });
  });

  it('keeps the derived-id run of a lone shard when it was resumed by hand since the merge', async () => {
    const first = await runCli(['merge', '--from', dir('shard-0'), '--into', dir('resumed')], {});
    expect(first.code, first.stderr).toBe(0);
    const derived = (json(first.stdout) as { jobs: { run_id: string }[] }).jobs[0]!.run_id;
    expect(derived).toMatch(/^run-/);
    // The whole job run under that id finishes the rows shard 1 did not have: samples the merge did not make.
    const env = { ...base(), AIDSAFE_DATA_DIR: dir('resumed') };
    const resumed = await runCli(job, env);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(json(resumed.stdout)).toMatchObject({ run_id: derived, done: 12 });
    const log = readFileSync(join(dir('resumed'), 'runs', derived, 'samples.jsonl'), 'utf8');
    const late = await runCli(['merge', '--from', dir('shard-1'), '--into', dir('resumed')], {});
    expect(late.code, late.stderr).toBe(0);
    expect(json(late.stdout)).toMatchObject({ replaced_runs: [] });
    expect(readdirSync(join(dir('resumed'), 'runs')).sort()).toEqual([derived, 'myjob'].sort());
    expect(readFileSync(join(dir('resumed'), 'runs', derived, 'samples.jsonl'), 'utf8')).toBe(log);
  });

  it('refuses shards of that id made from other rows or split another way, naming the run id and both folders', async () => {
    const other = await runCli(['run', '--input', xstest, '--limit', '10', '--concurrency', '4', '--shard', 'auto', '--run-id', 'myjob'], { ...base(), AIDSAFE_DATA_DIR: dir('other-limit'), ...slurm(1) });
    expect(other.code, other.stderr).toBe(0);
    const refused = await runCli(['merge', '--from', dir('shard-0'), dir('other-limit'), '--into', dir('refused')], {});
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain(`run myjob: the shard runs in ${dir('shard-0')} and ${dir('other-limit')} were made from other input, options or models`);

    const thirds = await runCli([...job, '--shard', 'auto', '--run-id', 'myjob'], { ...base(), AIDSAFE_DATA_DIR: dir('third'), ...slurm(0, 3) });
    expect(thirds.code, thirds.stderr).toBe(0);
    const overlap = await runCli(['merge', '--from', dir('shard-1'), dir('third'), '--into', dir('refused')], {});
    expect(overlap.code).not.toBe(0);
    expect(overlap.stderr).toMatch(/run myjob: shard \d\/\d in .* and shard \d\/\d in .* split the rows differently, so their rows overlap/);
    expect(overlap.stderr).toContain(dir('shard-1'));
    expect(overlap.stderr).toContain(dir('third'));

    // The same shard run twice (new records for the same rows) overlaps too.
    const twice = await runCli([...job, '--shard', 'auto', '--run-id', 'myjob'], { ...base(), AIDSAFE_DATA_DIR: dir('shard-0-again'), ...slurm(0) });
    expect(twice.code, twice.stderr).toBe(0);
    const duplicate = await runCli(['merge', '--from', dir('shard-0'), dir('shard-1'), dir('shard-0-again'), '--into', dir('refused')], {});
    expect(duplicate.code).not.toBe(0);
    expect(duplicate.stderr).toContain(`run myjob: shard 1/2 is in ${dir('shard-0')} and ${dir('shard-0-again')} with different samples`);
  });
});
