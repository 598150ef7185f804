import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { fileURLToPath } from 'node:url';
import { parquetReadObjects } from 'hyparquet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { createContext, type AppContext } from '../src/context.js';
import { PROMPT_TEMPLATE_VERSION } from '../src/agents/shared.js';
import { normalise } from '../src/exports/normalise.js';
import { parseSplits } from '../src/exports/splits.js';
import { screenOptionsFor } from '../src/exports/screen.js';
import { parseCsv } from '../src/inputs/csv.js';
import { BatchRun } from '../src/pipeline/batch.js';
import { exportDataset, type ExportOptions } from '../src/store/export.js';
import type { CotRecord } from '../src/store/record.js';
import { connectClient, BENCHMARKS, tempDir, testConfig } from './helpers/fixtures.js';
import { ScriptedModelServer } from './helpers/scripted-model-server.js';

const strongreject = fileURLToPath(new URL('strongreject.jsonl', BENCHMARKS));

type Msg = { role: string; content: string; reasoning_content?: string; thinking?: string };

function readJsonl(path: string): Record<string, unknown>[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe('exports that trainers and the Hub take as they are', () => {
  const data = tempDir();
  const server = new ScriptedModelServer();
  let ctx: AppContext;
  let runId: string;
  const exportTo = (name: string, options: Omit<ExportOptions, 'out'>) => exportDataset(ctx.store, ctx.runs, { policies: ctx.policies, ...options, out: join(data.path, name) });

  beforeAll(async () => {
    await server.start();
    ctx = await createContext({ config: testConfig(server.url, data.path) });
    const run = await BatchRun.prepare(ctx, { inputPath: strongreject, limit: 16, concurrency: 8, grade: true, preference: true, agents: 2, maxRounds: 3, beliefRounds: 3, minMargin: 1, budgets: {} });
    expect(await run.start()).toMatchObject({ done: 16, failed: 0 });
    runId = run.runId;
    // A record saved from chat: no run, no input metadata.
    const ids = await ctx.store.ids();
    const fromRun = (await Promise.all(ids.map((id) => ctx.store.get(id)))).find((r): r is CotRecord => r?.kind === 'cot')!;
    const { run_id: _r, metadata: _m, ...chat } = fromRun;
    await ctx.store.put({ ...chat, id: 'cot_chatonly0001', prompt: 'A question asked in chat, about locks' });
  });
  afterAll(async () => {
    await server.close();
    data.remove();
  });

  it('sft defaults to TRL conversational prompt/completion, with only the refined thoughts in <think> before the answer', async () => {
    const result = await exportTo('pc/sft.jsonl', { format: 'sft' });
    expect(result.count).toBe(17);
    const rows = readJsonl(result.path);
    for (const row of rows) {
      const record = (await ctx.store.get(row.id as string)) as CotRecord;
      expect((row.completion as Msg[])[0]!.content).toBe(`<think>\n${record.refined_thoughts.join('\n')}\n</think>\n\n${record.response}`);
      expect(Object.keys(row)).toEqual(['prompt', 'completion', 'id', 'run_id', 'metadata']);
      const [answer] = row.completion as Msg[];
      expect(answer).toEqual({ role: 'assistant', content: expect.stringMatching(/^<think>\n[\s\S]+\n<\/think>\n\n\S/) });
      expect(row.prompt).toEqual([{ role: 'user', content: expect.any(String) }]);
    }
  });

  it('--sft-shape messages keeps the single messages column', async () => {
    const rows = readJsonl((await exportTo('msg/sft.jsonl', { format: 'sft', sftShape: 'messages' })).path);
    expect(Object.keys(rows[0]!)).toEqual(['messages', 'id', 'run_id', 'metadata']);
    expect((rows[0]!.messages as Msg[]).map((m) => m.role)).toEqual(['user', 'assistant']);
  });

  it('--reasoning reasoning_content and thinking put only the refined thoughts in that field and the answer alone in content', async () => {
    const records = new Map<string, CotRecord>();
    for (const id of await ctx.store.ids()) {
      const r = await ctx.store.get(id);
      if (r?.kind === 'cot') records.set(r.id, r);
    }
    for (const reasoning of ['reasoning_content', 'thinking'] as const) {
      const rows = readJsonl((await exportTo(`${reasoning}/sft.jsonl`, { format: 'sft', reasoning })).path);
      for (const row of rows) {
        const record = records.get(row.id as string)!;
        const [answer] = row.completion as Msg[];
        expect(Object.keys(answer!)).toEqual(['role', 'content', reasoning]);
        expect(answer![reasoning]).toBe(record.refined_thoughts.join('\n'));
        expect(answer!.content).toBe(record.response);
        expect(answer!.content).not.toContain('<think>');
      }
      const pairs = readJsonl((await exportTo(`${reasoning}/dpo.jsonl`, { format: 'dpo', reasoning })).path);
      for (const row of pairs) for (const side of ['chosen', 'rejected']) expect(Object.keys((row[side] as Msg[])[0]!)).toEqual(['role', 'content', reasoning]);
    }
  });

  it('stable columns: every row has the same keys, metadata is a JSON string, run_id a string (empty without a run)', async () => {
    const rows = readJsonl((await exportTo('stable/sft.jsonl', { format: 'sft' })).path);
    const chat = rows.find((r) => r.id === 'cot_chatonly0001')!;
    expect(chat).toMatchObject({ run_id: '', metadata: '{}' });
    for (const row of rows) {
      expect(typeof row.id).toBe('string');
      expect(typeof row.run_id).toBe('string');
      expect(typeof row.metadata).toBe('string');
      if (row !== chat) expect(JSON.parse(row.metadata as string)).toMatchObject({ category: expect.any(String), row_index: expect.any(Number) });
    }
    const pairs = readJsonl((await exportTo('stable/dpo.jsonl', { format: 'dpo' })).path);
    for (const row of pairs) expect(Object.keys(row)).toEqual(['prompt', 'chosen', 'rejected', 'id', 'source_record_id', 'margin', 'run_id', 'metadata']);
  });

  it('--system policies and --system FILE add a system message to sft and dpo prompts; none by default', async () => {
    const rows = readJsonl((await exportTo('sys/sft.jsonl', { format: 'sft', system: { mode: 'policies' } })).path);
    const [system, user] = rows[0]!.prompt as Msg[];
    expect(system!.role).toBe('system');
    expect(user!.role).toBe('user');
    for (const policy of ctx.policies.all()) {
      expect(system!.content).toContain(`## ${policy.title}`);
      expect(system!.content).toContain(`[${policy.clauses[0]!.id}] ${policy.clauses[0]!.text}`);
    }
    const file = { mode: 'file' as const, path: '/x/system.txt', text: 'You are careful.' };
    const pairs = readJsonl((await exportTo('sys/dpo.jsonl', { format: 'dpo', system: file })).path);
    expect((pairs[0]!.prompt as Msg[])[0]).toEqual({ role: 'system', content: 'You are careful.' });
    const messages = readJsonl((await exportTo('sys/msg.jsonl', { format: 'sft', sftShape: 'messages', system: file })).path);
    expect((messages[0]!.messages as Msg[]).map((m) => m.role)).toEqual(['system', 'user', 'assistant']);
  });

  it('splits by a hash of the normalised prompt: one file per split, the same prompt never in two, stable across exports', async () => {
    // Two more records whose prompts differ only in case and punctuation from a run record's.
    const ids = await ctx.store.ids();
    const base = (await Promise.all(ids.map((id) => ctx.store.get(id)))).find((r): r is CotRecord => r?.kind === 'cot' && r.id !== 'cot_chatonly0001')!;
    await ctx.store.put({ ...base, id: 'cot_samepromptaa1', prompt: base.prompt.toUpperCase() + '!!' });
    await ctx.store.put({ ...base, id: 'cot_samepromptaa2', prompt: `  ${base.prompt}  ` });
    const splits = parseSplits('train=0.5,validation=0.25,test=0.25');
    const first = await exportTo('split/data.jsonl', { format: 'sft', splits });
    expect(first.files.map((f) => f.path)).toEqual(['train', 'validation', 'test'].map((s) => join(data.path, 'split', `data.${s}.jsonl`)));
    expect(first.files.reduce((n, f) => n + f.count, 0)).toBe(first.count);
    const splitOfPrompt = new Map<string, string>();
    for (const file of first.files) {
      for (const row of readJsonl(file.path)) {
        const key = normalise((row.prompt as Msg[]).at(-1)!.content);
        expect(splitOfPrompt.get(key) ?? file.split).toBe(file.split);
        splitOfPrompt.set(key, file.split);
      }
    }
    expect(new Set(splitOfPrompt.values()).size).toBe(3);
    const again = await exportTo('split2/data.jsonl', { format: 'sft', splits });
    for (const [i, file] of again.files.entries()) expect(readFileSync(file.path, 'utf8')).toBe(readFileSync(first.files[i]!.path, 'utf8'));
    for (const id of ['cot_samepromptaa1', 'cot_samepromptaa2']) rmSync(join(ctx.store.dir, `${id}.json`));
  });

  it('rejects split specs that do not add up to 1 or are malformed', () => {
    expect(() => parseSplits('train=0.9,test=0.2')).toThrow(/add up to 1.1/);
    expect(() => parseSplits('train=0.9,Test=0.1')).toThrow(/"Test=0.1" is not NAME=FRACTION/);
    expect(() => parseSplits('train=1,train=0')).toThrow(/not NAME=FRACTION|named twice/);
  });

  it('aidsafe as CSV (.csv), as the public dataset is published: RFC 4180, the four columns, a parseable deliberation_log', async () => {
    const result = await exportTo('csv/aidsafe.csv', { format: 'aidsafe', runId });
    const [header, ...rows] = parseCsv(readFileSync(result.path, 'utf8'));
    expect(header).toEqual(['prompt', 'refined_thoughts', 'response', 'deliberation_log']);
    expect(rows).toHaveLength(16);
    expect(rows.some((r) => r[0]!.includes('\n') || r[0]!.includes(','))).toBe(true);
    for (const row of rows) expect(JSON.parse(row[3]!)).toMatchObject({ intents: { explicit: expect.any(Array) }, initial_thoughts: expect.any(Array), turns: expect.any(Array) });
    await expect(exportTo('csv/sft.csv', { format: 'sft' })).rejects.toThrow(/out: CSV holds the aidsafe format only/);
  });

  it('writes a dataset card: Hub YAML front matter with configs per split, provenance, grade means and, for dpo, the rejected-side warning', async () => {
    const result = await exportTo('card/dpo.jsonl', { format: 'dpo', runId, splits: parseSplits('train=0.8,test=0.2') });
    expect(result.card!).toBe(join(data.path, 'card', 'README.md'));
    const card = readFileSync(result.card!, 'utf8');
    const front = parseYaml(card.split('---\n')[1]!) as Record<string, unknown>;
    expect(front).toMatchObject({
      license: 'other',
      task_categories: ['text-generation'],
      size_categories: ['n<1K'],
      tags: expect.arrayContaining(['safety', 'dpo']),
      configs: [{ config_name: 'default', data_files: [{ split: 'train', path: 'dpo.train.jsonl' }, { split: 'test', path: 'dpo.test.jsonl' }] }],
    });
    expect(card).toContain(PROMPT_TEMPLATE_VERSION);
    expect(card).toContain(`\`${runId}\``);
    for (const policy of ctx.policies.all()) expect(card).toContain(`| \`${policy.id}\` | ${policy.version} | \`${policy.hash}\` |`);
    expect(card).toMatch(/\| faithfulness_policy_cot \| \d/);
    expect(card).toContain('REJECTED: policy-violating on purpose');
    expect(card).toMatch(/- judge: `scripted-model`/);
  });

  it('never overwrites a README.md it did not write: the card then takes the data file\'s name', async () => {
    const dir = join(data.path, 'project');
    await exportTo('project/first.jsonl', { format: 'sft' });
    writeFileSync(join(dir, 'README.md'), '# My project\n');
    const result = await exportTo('project/sft.jsonl', { format: 'sft' });
    expect(result.card!).toBe(join(dir, 'sft.README.md'));
    expect(readFileSync(join(dir, 'README.md'), 'utf8')).toBe('# My project\n');
    expect(existsSync(result.card!)).toBe(true);
  });

  it('writes Parquet when --out ends in .parquet, typed LIST<STRUCT> message columns that read back as the JSONL rows', async () => {
    for (const [format, reasoning] of [['sft', 'think'], ['sft', 'reasoning_content'], ['dpo', 'thinking'], ['aidsafe', 'think']] as const) {
      const parquet = await exportTo(`pq/${format}-${reasoning}.parquet`, { format, reasoning, runId });
      const jsonl = await exportTo(`pq/${format}-${reasoning}.jsonl`, { format, reasoning, runId });
      const buffer = readFileSync(parquet.path);
      const rows = await parquetReadObjects({ file: buffer.buffer.slice(buffer.byteOffset, buffer.byteOffset + buffer.byteLength) });
      // margin is int64, which the reader gives as a bigint.
      expect(rows.map((r) => ('margin' in r ? { ...r, margin: Number(r.margin) } : r))).toEqual(readJsonl(jsonl.path));
    }
  });

  it('dedup and decontamination on export report each dropped record and what it matched', async () => {
    const ids = await ctx.store.ids();
    const base = (await Promise.all(ids.map((id) => ctx.store.get(id)))).find((r): r is CotRecord => r?.kind === 'cot' && r.run_id === runId)!;
    await ctx.store.put({ ...base, id: 'cot_dupexactaaaa1', prompt: base.prompt.toLowerCase() + ' ' });
    await ctx.store.put({ ...base, id: 'cot_dupnearaaaaa1', prompt: `Please, ${base.prompt}` });
    const screen = await screenOptionsFor({ dedup: true, decontaminate: 'strongreject' });
    const result = await exportTo('screen/sft.jsonl', { format: 'sft', screen });
    expect(result.decontamination).toMatchObject({ sets: ['strongreject'], ngram: 8, overlap: 0.5, benchmark_prompts: 313, dropped: 18 });
    expect(result.decontamination!.rows.find((r) => r.dropped === base.id)).toMatchObject({ set: 'strongreject', match: 'exact', overlap: 1 });
    expect(result.decontamination!.rows.find((r) => r.dropped === 'cot_dupnearaaaaa1')).toMatchObject({ set: 'strongreject', match: 'ngram' });
    expect(result.count).toBe(1);
    const dedupOnly = await exportTo('screen/dedup.jsonl', { format: 'sft', screen: await screenOptionsFor({ dedup: true }) });
    expect(dedupOnly.dedup).toMatchObject({ threshold: 0.7, dropped: 2, exact: 1, near: 1 });
    expect(dedupOnly.dedup!.rows).toEqual(
      expect.arrayContaining([
        { dropped: 'cot_dupexactaaaa1', kept: base.id, match: 'exact', similarity: 1 },
        { dropped: 'cot_dupnearaaaaa1', kept: base.id, match: 'near', similarity: expect.any(Number) },
      ]),
    );
    expect(dedupOnly.skipped).toMatchObject({ duplicates: 2, contaminated: 0 });
    const card = readFileSync(dedupOnly.card!, 'utf8');
    expect(card).toMatch(/Dedup: 2 dropped \(1 exact after normalising, 1 near duplicates/);
    for (const id of ['cot_dupexactaaaa1', 'cot_dupnearaaaaa1']) rmSync(join(ctx.store.dir, `${id}.json`));
  });

  it('export_dataset (MCP) takes the same options, writes under exports/ and returns the card and the counts', async () => {
    const { client, close } = await connectClient(ctx);
    const call = async (args: Record<string, unknown>) => (await client.callTool({ name: 'export_dataset', arguments: args })) as CallToolResult;
    const result = await call({ format: 'sft', file_type: 'parquet', reasoning: 'reasoning_content', system: 'policies', split: 'train=0.75,test=0.25', dedup: true, decontaminate: 'xstest' });
    expect(result.isError, JSON.stringify(result.content)).toBeFalsy();
    const out = result.structuredContent as { path: string; card: string; files: { split: string; path: string; count: number }[]; count: number; dedup: object; decontamination: object };
    expect(out.path.startsWith(join(data.path, 'exports'))).toBe(true);
    expect(out.files.map((f) => f.split)).toEqual(['train', 'test']);
    expect(out.files.every((f) => f.path.endsWith(`.${f.split}.parquet`) && existsSync(f.path))).toBe(true);
    expect(out.card).toBe(join(dirname(out.path), 'README.md'));
    expect(out).toMatchObject({ count: 17, dedup: { dropped: 0, exact: 0, near: 0 }, decontamination: { dropped: 0, sets: ['xstest'] } });
    mkdirSync(join(data.path, 'inputs'), { recursive: true });
    const systemFile = join(data.path, 'inputs', 'system.txt');
    writeFileSync(systemFile, 'Think about the policies first.\n');
    const withFile = await call({ format: 'dpo', system: systemFile });
    expect(withFile.isError).toBeFalsy();
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ format: 'sft', file_type: 'csv' }, /file_type: csv holds the aidsafe format only/],
      [{ format: 'sft', file_type: 'xlsx' }, /file_type must be one of jsonl, parquet, csv/],
      [{ format: 'sft', reasoning: 'cot' }, /reasoning must be one of think, reasoning_content, thinking/],
      [{ format: 'sft', sft_shape: 'chat' }, /sft_shape must be one of prompt-completion, messages/],
      [{ format: 'sft', system: '/etc/passwd' }, /system: "\/etc\/passwd" is outside the allowed folders/],
      [{ format: 'sft', split: 'train=0.5' }, /split: the fractions add up to 0.5/],
      [{ format: 'sft', decontaminate: 'mmlu' }, /decontaminate: "mmlu" is neither a benchmark set/],
      [{ format: 'sft', ngram: 1 }, /ngram must be from 2 to 50/],
    ];
    for (const [args, message] of cases) {
      const bad = await call(args);
      expect(bad.isError, JSON.stringify(args)).toBe(true);
      expect((bad.content[0] as { text: string }).text).toMatch(message);
    }
    await close();
  });
});
