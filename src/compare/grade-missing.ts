import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { AppContext } from '../context.js';
import { preflight } from '../llm/preflight.js';
import { BatchRun, type BatchStatus } from '../pipeline/batch.js';
import { gradingRecipe } from '../pipeline/recipes/grading.js';
import { gradingInputOf, type CotRecord } from '../store/record.js';
import { writeFileAtomic } from '../store/write-file.js';
import type { LoadedRun } from './pair-runs.js';

export interface GradingOutcome {
  run_id: string;
  grading_run_id: string;
  status: BatchStatus['status'];
  graded: number;
  failed: number;
}

/**
 * Grades a run's paired records that have no grades, or grades made on another input than the request
 * alone (with the intents an AIDSAFE sample has and a baseline sample lacks), as a run of the grading recipe over a file listing
 * them: the same engine as any run (concurrency, cache, resume, cancel), so an interrupted comparison
 * picks up where it stopped. The file lists every paired record, graded or not, so it stays the same
 * from one attempt to the next and so does the grading run's id; records graded already cost nothing.
 */
export async function gradeMissing(
  ctx: AppContext,
  run: LoadedRun,
  records: CotRecord[],
  options: { concurrency?: number; signal?: AbortSignal; onProgress?: (status: BatchStatus) => void },
): Promise<GradingOutcome | undefined> {
  if (records.every((r) => gradingInputOf(r) === 'request')) return undefined;
  await preflight(ctx, [{ role: 'grader' }], { signal: options.signal });
  const dir = join(ctx.config.dataDir, 'comparisons');
  await mkdir(dir, { recursive: true });
  const inputPath = join(dir, `grading-${run.manifest.id}.jsonl`);
  // The grading input is in every row, so a listing graded by an older version (with intents) is a new run, not a finished one.
  await writeFileAtomic(inputPath, records.map((r) => JSON.stringify({ prompt: r.prompt, record_id: r.id, grading_input: 'request' })).join('\n') + '\n');
  const policies = ctx.policies.select(run.manifest.options.policy_ids);
  const o = run.manifest.options;
  const request = {
    inputPath,
    column: 'prompt',
    concurrency: options.concurrency ?? 8,
    grade: true,
    preference: false,
    agents: o.agents,
    maxRounds: o.max_rounds,
    beliefRounds: o.belief_rounds,
    minMargin: o.min_margin,
    policyIds: o.policy_ids,
    budgets: {},
  };
  const batch = await BatchRun.prepare(ctx, request, gradingRecipe(ctx.config, ctx.store, policies, o));
  const cancel = () => batch.cancel();
  options.signal?.addEventListener('abort', cancel, { once: true });
  try {
    const final = await batch.start(options.onProgress);
    return { run_id: run.manifest.id, grading_run_id: batch.runId, status: final.status, graded: final.done, failed: final.failed };
  } finally {
    options.signal?.removeEventListener('abort', cancel);
  }
}
