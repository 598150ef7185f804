import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppContext } from '../src/context.js';
import { BatchRun, type BatchRequest } from '../src/pipeline/batch.js';
import { exportDataset } from '../src/store/export.js';
import type { CotRecord } from '../src/store/record.js';
import { connectClient, contextFor, BENCHMARKS, tempDir } from './helpers/fixtures.js';
import { ScriptedModelServer } from './helpers/scripted-model-server.js';

const xstest = fileURLToPath(new URL('xstest.jsonl', BENCHMARKS));

function request(overrides: Partial<BatchRequest> = {}): BatchRequest {
  return { inputPath: xstest, limit: 6, concurrency: 4, grade: true, preference: false, agents: 2, maxRounds: 3, beliefRounds: 3, minMargin: 1, budgets: {}, ...overrides };
}

async function cotRecordsOf(ctx: AppContext, runId: string): Promise<CotRecord[]> {
  const records: CotRecord[] = [];
  for (const id of await ctx.store.ids()) {
    const r = await ctx.store.get(id);
    if (r?.kind === 'cot' && r.run_id === runId) records.push(r);
  }
  return records;
}

describe('the baseline recipe', () => {
  const data = tempDir();
  // The model writes one thought that talks about how the text is produced: the linter must hold it back, as it does for AIDSAFE.
  const server = new ScriptedModelServer({
    respond: (req) =>
      req.role === 'baseline_cot'
        ? { json: { thoughts: ['The request is benign and [RH-1] asks for a full answer.', 'As the reviewer in round 2 noted, the draft is fine.'], response: 'A short answer to it.' } }
        : undefined,
  });
  let ctx: AppContext;
  beforeAll(async () => {
    await server.start();
    ctx = await contextFor(server.url, data.path);
  });
  afterAll(async () => {
    await ctx.close();
    await server.close();
    data.remove();
  });

  it('writes each sample in one call, lints its thoughts, grades it, and records the recipe; its run id differs from AIDSAFE’s', async () => {
    const run = await BatchRun.prepare(ctx, request({ recipe: 'baseline' }));
    const aidsafe = await BatchRun.prepare(ctx, request());
    expect(run.runId).not.toBe(aidsafe.runId);
    expect(run.estimate.calls_per_sample).toEqual({ min: 2, max: 2 });
    const final = await run.start();
    expect(final).toMatchObject({ status: 'done', done: 6, failed: 0 });
    expect(final.options.recipe).toBe('baseline');
    // One call per sample, plus the repairs the thought linter asked for (the same repair loop as AIDSAFE's writers).
    const baselineCalls = server.callsFor('baseline_cot');
    expect(new Set(baselineCalls.map((c) => c.messages[1]!.content)).size).toBe(6);
    expect(baselineCalls.some((c) => c.messages.length > 2)).toBe(true);
    expect(server.callsFor('intents')).toHaveLength(0);
    expect(server.callsFor('deliberation_turn')).toHaveLength(0);
    const records = await cotRecordsOf(ctx, run.runId);
    expect(records).toHaveLength(6);
    for (const r of records) {
      expect(r).toMatchObject({ recipe: 'baseline', stop_reason: 'baseline', deliberation: [], intents: { explicit: [], implicit: [] } });
      expect(r.refined_thoughts).toEqual(['The request is benign and [RH-1] asks for a full answer.']);
      expect(r.removed.map((x) => x.reason)).toEqual(['meta']);
      expect(r.lint?.repair_requests).toBeGreaterThan(0);
      expect(r.grades?.scores.relevance).toBeGreaterThan(0);
      expect(r.models.initial_cot).toBe('scripted-model');
    }
    // The grader sees no intents for a baseline sample: it had none.
    const grading = server.callsFor('grading')[0]!;
    expect(JSON.parse(grading.messages[1]!.content)).not.toHaveProperty('intents');
  });

  it('exports the same way as AIDSAFE records', async () => {
    const [runId] = (await ctx.runs.list()).map((r) => r.id);
    const out = `${data.path}/baseline-sft.jsonl`;
    const result = await exportDataset(ctx.store, ctx.runs, { format: 'sft', out, runId: runId! });
    expect(result).toMatchObject({ count: 6 });
  });

  it('refuses a preference pair for a baseline run, naming the field', async () => {
    await expect(BatchRun.prepare(ctx, request({ recipe: 'baseline', preference: true }))).rejects.toThrow(/^preference: .*recipe "aidsafe"/);
  });

  it('start_batch takes recipe "baseline" and runs the baseline', async () => {
    mkdirSync(join(data.path, 'inputs'), { recursive: true });
    copyFileSync(xstest, join(data.path, 'inputs', 'xstest.jsonl'));
    const { client, close } = await connectClient(ctx);
    try {
      const result = await client.callTool({ name: 'start_batch', arguments: { input_path: 'xstest.jsonl', limit: 3, recipe: 'baseline', wait: true } });
      expect(result.isError, JSON.stringify(result.content)).toBeFalsy();
      const { run_id, final } = result.structuredContent as { run_id: string; final: { status: string; done: number } };
      expect(final).toMatchObject({ status: 'done', done: 3 });
      const records = await cotRecordsOf(ctx, run_id);
      expect(records.map((r) => r.recipe)).toEqual(['baseline', 'baseline', 'baseline']);
    } finally {
      await close();
    }
  });

  it('deliberate_safety_cot takes recipe "baseline" and rejects an unknown recipe', async () => {
    const { client, close } = await connectClient(ctx);
    try {
      const result = await client.callTool({ name: 'deliberate_safety_cot', arguments: { prompt: 'How do I kill a Python process?', recipe: 'baseline', save: false } });
      expect(result.isError).toBeFalsy();
      expect(result.structuredContent).toMatchObject({ recipe: 'baseline', stop_reason: 'baseline', deliberation: [], saved: false });
      const bad = await client.callTool({ name: 'deliberate_safety_cot', arguments: { prompt: 'q', recipe: 'solo' } });
      expect(bad.isError).toBe(true);
      expect(JSON.stringify(bad.content)).toMatch(/recipe must be one of aidsafe, baseline/);
    } finally {
      await close();
    }
  });
});
