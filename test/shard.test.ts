import { mkdirSync, writeFileSync } from 'node:fs';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createContext } from '../src/context.js';
import { BatchRun, type BatchRequest } from '../src/pipeline/batch.js';
import { inShard, parseShard } from '../src/pipeline/shard.js';
import { connectClient, tempDir, testConfig } from './helpers/fixtures.js';
import { ScriptedModelServer } from './helpers/scripted-model-server.js';

const prompts = Array.from({ length: 200 }, (_, i) => `How do I look after plant number ${i}?`);
const rows = (list: string[]) => list.map((prompt, index) => ({ index, prompt, metadata: {} }));

describe('which rows a shard takes', () => {
  it('splits rows into disjoint shards that cover them, and adding rows moves none between shards', () => {
    const shardOf = (list: string[]) => rows(list).map((row) => [1, 2, 3, 4].find((index) => inShard(row, { index, count: 4 })));
    const before = shardOf(prompts);
    expect(before.every((s) => s !== undefined)).toBe(true);
    for (const index of [1, 2, 3, 4]) expect(before.filter((s) => s === index).length).toBeGreaterThan(30);
    // New rows at the front shift every index; each old prompt keeps its shard.
    const grown = shardOf([...Array.from({ length: 37 }, (_, i) => `A new question ${i}`), ...prompts]);
    expect(grown.slice(37)).toEqual(before);
  });

  it('puts prompts that differ only in case, spacing or punctuation into the same shard', () => {
    const shardOf = (prompt: string) => [1, 2, 3, 4, 5, 6, 7].find((index) => inShard({ index: 0, prompt, metadata: {} }, { index, count: 7 }));
    for (const prompt of prompts.slice(0, 20)) expect(shardOf(`  ${prompt.toUpperCase().replace(/\?$/, ' !')}`)).toBe(shardOf(prompt));
  });
});

describe('--shard auto', () => {
  it('reads a Kubernetes Indexed Job (0-based index) and a Slurm array', () => {
    expect(parseShard('auto', '--shard', { JOB_COMPLETION_INDEX: '0', AIDSAFE_SHARD_COUNT: '3' })).toEqual({ index: 1, count: 3 });
    expect(parseShard('auto', '--shard', { JOB_COMPLETION_INDEX: '2', AIDSAFE_SHARD_COUNT: '3' })).toEqual({ index: 3, count: 3 });
    expect(parseShard('auto', '--shard', { SLURM_ARRAY_TASK_ID: '7', SLURM_ARRAY_TASK_MIN: '5', SLURM_ARRAY_TASK_COUNT: '4' })).toEqual({ index: 3, count: 4 });
    expect(parseShard('2/5', '--shard', {})).toEqual({ index: 2, count: 5 });
  });

  it('says what to set when no scheduler is found, or its variables do not fit', () => {
    expect(() => parseShard('auto', '--shard', {})).toThrow(/--shard auto: no scheduler found; set JOB_COMPLETION_INDEX and AIDSAFE_SHARD_COUNT .*SLURM_ARRAY_TASK_ID/);
    expect(() => parseShard('auto', '--shard', { JOB_COMPLETION_INDEX: '1' })).toThrow(/AIDSAFE_SHARD_COUNT is not/);
    expect(() => parseShard('auto', '--shard', { JOB_COMPLETION_INDEX: '3', AIDSAFE_SHARD_COUNT: '3' })).toThrow(/does not name one of 3 shards/);
    expect(() => parseShard('auto', 'shard', { SLURM_ARRAY_TASK_ID: '8', SLURM_ARRAY_TASK_MIN: '0', SLURM_ARRAY_TASK_COUNT: '5' })).toThrow(/^shard auto: .*contiguous array/);
    expect(() => parseShard('auto', '--shard', { SLURM_ARRAY_TASK_ID: '1', SLURM_ARRAY_TASK_COUNT: '2' })).toThrow(/SLURM_ARRAY_TASK_MIN must be a whole number/);
    expect(() => parseShard('0/2', '--shard', {})).toThrow(/--shard must be I\/N with 1 ≤ I ≤ N/);
  });
});

describe('a shard run made when shards took rows by index', () => {
  const data = tempDir();
  afterAll(() => data.remove());

  it('records how rows were assigned, and does not resume an older index-assigned shard under its id', async () => {
    const server = await new ScriptedModelServer().start();
    const input = join(data.path, 'prompts.csv');
    writeFileSync(input, 'prompt\n' + prompts.slice(0, 6).map((p) => `"${p}"`).join('\n') + '\n');
    const ctx = await createContext({ config: testConfig(server.url, data.path) });
    const request: BatchRequest = { inputPath: input, shard: { index: 1, count: 2 }, concurrency: 4, recipe: 'baseline', grade: false, preference: false, agents: 2, maxRounds: 3, beliefRounds: 3, minMargin: 1, budgets: {} };
    const run = await BatchRun.prepare(ctx, request);
    const status = await run.start();
    expect(status.status).toBe('done');
    const manifest = await ctx.runs.readManifest(run.runId);
    expect(manifest?.input).toMatchObject({ shard: '1/2', shard_by: 'prompt-hash' });
    // The same run as a build that assigned by index wrote it: no shard_by.
    const { shard_by: _, ...legacyInput } = manifest!.input;
    await ctx.runs.writeManifest({ ...manifest!, id: 'old-shard', input: legacyInput });
    await expect(BatchRun.prepare(ctx, { ...request, runId: 'old-shard' })).rejects.toThrow(/run "old-shard" took its shard's rows by row index, and shards now take rows by prompt-hash/);
    // The whole job has an id of its own, apart from its shards.
    const unsharded = await BatchRun.prepare(ctx, { ...request, shard: undefined });
    expect(unsharded.runId).not.toBe(run.runId);
    await ctx.close();
    await server.close();
  });
});

describe('start_batch with a shard', () => {
  const data = tempDir();
  afterAll(() => data.remove());

  it('takes "I/N" and "auto", and names the field when neither fits', async () => {
    const server = await new ScriptedModelServer().start();
    mkdirSync(join(data.path, 'inputs'));
    writeFileSync(join(data.path, 'inputs', 'prompts.csv'), 'prompt\n' + prompts.slice(0, 8).map((p) => `"${p}"`).join('\n') + '\n');
    const ctx = await createContext({ config: testConfig(server.url, data.path) });
    const { client, close } = await connectClient(ctx);
    const call = async (args: Record<string, unknown>) => (await client.callTool({ name: 'start_batch', arguments: { input_path: 'prompts.csv', recipe: 'baseline', wait: true, ...args } })) as CallToolResult;
    const first = await call({ shard: '1/2' });
    const second = await call({ shard: '2/2' });
    const totals = [first, second].map((r) => (r.structuredContent as { final: { done: number } }).final.done);
    expect(totals[0]! + totals[1]!).toBe(8);
    expect((await ctx.runs.readManifest((first.structuredContent as { run_id: string }).run_id))?.input.shard).toBe('1/2');
    const bad = await call({ shard: '1-2' });
    expect(bad.isError).toBe(true);
    expect(JSON.stringify(bad.content)).toMatch(/shard must be I\/N \(e\.g\. 1\/4\) or \\"auto\\"/);
    const unset = await call({ shard: 'auto' });
    expect(unset.isError).toBe(true);
    expect(JSON.stringify(unset.content)).toMatch(/shard auto: no scheduler found/);
    await close();
    await ctx.close();
    await server.close();
  });
});
