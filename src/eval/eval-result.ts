import type { AppContext } from '../context.js';
import { InputError } from '../errors.js';
import { EvalStore, type EvalManifest } from '../store/eval-store.js';
import type { EvalRecord } from '../store/record.js';
import type { RunStatus } from '../store/run-store.js';
import type { Estimate } from '../stats/wilson.js';
import { PAPER_TABLE_2, paperScale, scoreSamples, type SuiteScore } from './scoring.js';

export interface EvalRunState {
  run_id: string;
  target: string;
  suite: string;
  status: RunStatus;
  stop_reason?: string;
  total: number;
  done: number;
  failed: number;
}

export interface EvalResult {
  eval_id: string;
  status: RunStatus;
  created_at: string;
  judge_models: string[];
  targets: EvalManifest['targets'];
  suites: EvalManifest['suites'];
  runs: EvalRunState[];
  scores: SuiteScore[];
  /** Our numbers on the paper's Table 2 scale (percent, higher is safer), per target. */
  paper_scale: { target: string; xstest_accuracy?: Estimate; strongreject_safety?: Estimate }[];
  paper_reference: typeof PAPER_TABLE_2;
}

/** An evaluation's state and numbers, read from its runs' logs and records, and every sample judged so far. */
export async function loadEval(ctx: AppContext, evalId: string): Promise<{ result: EvalResult; samples: EvalRecord[]; failures: { run_id: string; index: number; prompt: string; error: string }[] }> {
  const manifest = await new EvalStore(ctx.config.dataDir).read(evalId);
  if (!manifest) throw new InputError(`eval_id: no evaluation "${evalId}" in this data folder`);
  const samples: EvalRecord[] = [];
  const failures: { run_id: string; index: number; prompt: string; error: string }[] = [];
  const runs: EvalRunState[] = [];
  for (const ref of manifest.runs) {
    const run = await ctx.runs.readManifest(ref.run_id);
    const progress = await ctx.runs.progress(ref.run_id);
    const live = ctx.batches.get(ref.run_id);
    let status: RunStatus = live ? live.snapshot().status : (run?.status ?? 'interrupted');
    if (status === 'running' && !live && !(await ctx.runs.lockHolder(ref.run_id))) status = 'interrupted';
    runs.push({ ...ref, status, ...(run?.stop_reason ? { stop_reason: run.stop_reason } : {}), total: run?.total ?? 0, done: progress.done, failed: progress.failed });
    const events = [...progress.samples.values()].sort((a, b) => a.i - b.i);
    for (let start = 0; start < events.length; start += 32) {
      const loaded = await Promise.all(events.slice(start, start + 32).map(async (e) => ({ e, record: e.s === 'done' ? await ctx.store.get(e.record_id) : undefined })));
      for (const { e, record } of loaded) {
        if (record?.kind === 'eval') samples.push(record);
        else if (e.s === 'failed') failures.push({ run_id: ref.run_id, index: e.i, prompt: e.prompt ?? '', error: e.error ?? '' });
      }
    }
  }
  const kinds = Object.fromEntries(manifest.suites.map((s) => [s.name, s.kind]));
  const scores = scoreSamples(samples, kinds, manifest.targets.map((t) => t.label));
  const paper = manifest.targets.map((t) => {
    const entry: EvalResult['paper_scale'][number] = { target: t.label };
    for (const score of scores.filter((s) => s.target === t.label)) {
      const scaled = paperScale(score);
      if (scaled) entry[scaled.key] = scaled.value;
    }
    return entry;
  });
  const order: RunStatus[] = ['failed', 'running', 'interrupted', 'cancelled', 'stopped'];
  const status = order.find((s) => runs.some((r) => r.status === s)) ?? 'done';
  return {
    result: {
      eval_id: manifest.id,
      status,
      created_at: manifest.created_at,
      judge_models: [...new Set(samples.map((s) => s.judge_model))],
      targets: manifest.targets,
      suites: manifest.suites,
      runs,
      scores,
      paper_scale: paper,
      paper_reference: PAPER_TABLE_2,
    },
    samples,
    failures,
  };
}
