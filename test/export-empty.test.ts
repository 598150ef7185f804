import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parquetMetadata, parquetReadObjects } from 'hyparquet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { createContext, type AppContext } from '../src/context.js';
import { screenOptionsFor } from '../src/exports/screen.js';
import { parseSplits, splitOf } from '../src/exports/splits.js';
import { exportDataset, type ExportOptions } from '../src/store/export.js';
import { runCli } from './helpers/cli.js';
import { BENCHMARKS, tempDir, testConfig } from './helpers/fixtures.js';
import { ScriptedModelServer } from './helpers/scripted-model-server.js';

const strongreject = fileURLToPath(new URL('strongreject.jsonl', BENCHMARKS));

/** Exports a loader always takes: no empty split file, no empty export that looks like a success. */
describe('exports with nothing to put in a split, or nothing at all', () => {
  const data = tempDir();
  const server = new ScriptedModelServer();
  let ctx: AppContext;
  let runId = '';
  let prompts: string[] = [];
  const exportTo = (name: string, options: Omit<ExportOptions, 'out'>) => exportDataset(ctx.store, ctx.runs, { policies: ctx.policies, ...options, out: join(data.path, name) });
  const env = () => ({ OPENAI_BASE_URL: server.url, AIDSAFE_MODEL: 'scripted-model', AIDSAFE_DATA_DIR: data.path });

  beforeAll(async () => {
    await server.start();
    const result = await runCli(['run', '--input', strongreject, '--limit', '6', '--preference', '--run-id', 'pairs'], env());
    expect(result.code, result.stderr).toBe(0);
    const summary = JSON.parse(result.stdout) as { run_id: string; pairs: { kept: number; dropped: number } };
    runId = summary.run_id;
    ctx = await createContext({ config: testConfig(server.url, data.path) });
    const pairs = await Promise.all((await ctx.store.ids()).map((id) => ctx.store.get(id)));
    prompts = pairs.filter((r) => r?.kind === 'preference' && r.kept).map((r) => r!.prompt);
  });
  afterAll(async () => {
    await ctx.close();
    await server.close();
    data.remove();
  });

  it('run says how many pairs were kept and dropped', async () => {
    const again = await runCli(['run', '--input', strongreject, '--limit', '6', '--preference', '--run-id', 'pairs'], env());
    const summary = JSON.parse(again.stdout) as { pairs: { kept: number; dropped: number } };
    expect(summary.pairs.kept + summary.pairs.dropped).toBe(6);
    expect(summary.pairs.kept).toBe(prompts.length);
    expect(again.stderr).toMatch(new RegExp(`preference pairs: ${summary.pairs.kept} kept, ${summary.pairs.dropped} dropped.*; a dpo export takes the kept ones`));
  });

  it('a split that gets no row is not written and not in the card, and the output says so', async () => {
    expect(prompts.length).toBeGreaterThan(0);
    // A test share so small that none of these prompts lands in it.
    const splits = parseSplits('train=0.999,test=0.001');
    expect(prompts.every((p) => splitOf(p, splits) === 'train')).toBe(true);
    const result = await exportTo('one-split/dpo.jsonl', { format: 'dpo', runId, splits });
    expect(result.files.map((f) => f.split)).toEqual(['train']);
    expect(result.empty_splits).toEqual(['test']);
    expect(readdirSync(join(data.path, 'one-split')).sort()).toEqual(['README.md', 'dpo.train.jsonl']);
    const card = readFileSync(result.card!, 'utf8');
    const front = parseYaml(card.split('---\n')[1]!) as { configs: { data_files: { split: string; path: string }[] }[] };
    expect(front.configs[0]!.data_files).toEqual([{ split: 'train', path: 'dpo.train.jsonl' }]);
    expect(card).not.toContain('dpo.test.jsonl');

    const cli = await runCli(['export', '--format', 'dpo', '--run-id', runId, '--split', 'train=0.999,test=0.001', '--out', join(data.path, 'cli-split', 'dpo.jsonl')], env());
    expect(cli.code).toBe(0);
    expect(cli.stderr).toContain('split test: no rows, so no file and no entry in the card');
    expect(existsSync(join(data.path, 'cli-split', 'dpo.test.jsonl'))).toBe(false);
  });

  it('an export with no row fails with the reason and writes nothing: how many pairs there are and why none was kept', async () => {
    const screen = await screenOptionsFor({ decontaminate: 'strongreject' });
    await expect(exportTo('none/dpo.jsonl', { format: 'dpo', runId, screen })).rejects.toThrow(
      new RegExp(`^export: no rows to write: run ${runId} has 6 preference pairs and none was kept: (\\d+ dropped by the pair rule .*, )?${prompts.length} matched a benchmark \\(--decontaminate\\); no file was written$`),
    );
    expect(existsSync(join(data.path, 'none', 'dpo.jsonl')) || existsSync(join(data.path, 'none', 'README.md'))).toBe(false);
    const cli = await runCli(['export', '--format', 'dpo', '--run-id', runId, '--min-score', '5', '--decontaminate', 'strongreject', '--out', join(data.path, 'cli-none', 'dpo.jsonl')], env());
    expect(cli.code).not.toBe(0);
    expect(cli.stdout).toBe('');
    expect(cli.stderr).toMatch(/export: no rows to write: run pairs has 6 preference pairs and none was kept/);
    expect(existsSync(join(data.path, 'cli-none', 'dpo.jsonl'))).toBe(false);
  });

  it('a store without pairs says where pairs come from', async () => {
    const empty = tempDir();
    const bare = await createContext({ config: testConfig(server.url, empty.path) });
    try {
      await expect(exportDataset(bare.store, bare.runs, { format: 'dpo', out: join(empty.path, 'dpo.jsonl') })).rejects.toThrow('export: no rows to write: the store has no preference pairs (pairs are made by a run with --preference / preference: true); no file was written');
      await expect(exportDataset(bare.store, bare.runs, { format: 'sft', out: join(empty.path, 'sft.parquet') })).rejects.toThrow('the store has no CoT records');
      expect(existsSync(join(empty.path, 'dpo.jsonl')) || existsSync(join(empty.path, 'sft.parquet'))).toBe(false);
    } finally {
      await bare.close();
      empty.remove();
    }
  });

  it('margin has one type in JSONL and Parquet: a whole number, int64', async () => {
    const jsonl = await exportTo('types/dpo.jsonl', { format: 'dpo', runId });
    const parquet = await exportTo('types/dpo.parquet', { format: 'dpo', runId });
    const fromJson = readFileSync(jsonl.path, 'utf8').split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { margin: number }).margin);
    expect(fromJson.every((m) => Number.isInteger(m))).toBe(true);
    const buffer = readFileSync(parquet.path);
    const file = buffer.buffer.slice(buffer.byteOffset, buffer.byteOffset + buffer.byteLength);
    expect(parquetMetadata(file).schema.find((e) => e.name === 'margin')).toMatchObject({ type: 'INT64' });
    const rows = (await parquetReadObjects({ file })) as { margin: bigint }[];
    expect(rows.map((r) => Number(r.margin))).toEqual(fromJson);
  });
});
