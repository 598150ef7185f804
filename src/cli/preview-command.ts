import { resolve } from 'node:path';
import { createContext, type AppContext } from '../context.js';
import { UsageError } from '../errors.js';
import { toRow } from '../exports/rows.js';
import { preflight, rolesOfRun } from '../llm/preflight.js';
import { BatchRun } from '../pipeline/batch.js';
import { healthTable, healthVerdict } from '../pipeline/health.js';
import { PREVIEW_SAMPLES, previewSampleFile } from '../pipeline/preview-sample.js';
import type { CotRecord } from '../store/record.js';
import { int, num, recipeArg } from './commands.js';
import { parseFlags } from './options.js';
import { COMMANDS } from './usage.js';
import { progressView } from './progress-view.js';

/** What `preview` exits with: 0 go (warnings included), 1 no-go; 2 stays with bad command-line input. */
export const PREVIEW_EXIT = { go: 0, noGo: 1 } as const;

/**
 * `aidsafe-mcp preview`: a few prompts through the chosen recipe on the configured endpoint, before a
 * long run. The run is stored like any other (its id begins with "preview-"), so it can be reported on
 * and exported, and the same command resumes it; prints the health table, a go/no-go line, and two
 * samples as an sft export writes them.
 */
export async function previewCommand(argv: string[], ctxFactory: () => Promise<AppContext> = () => createContext()): Promise<number> {
  const { values } = parseFlags('preview', COMMANDS.preview, argv);
  const limit = int('limit', values.limit, 1, 200) ?? PREVIEW_SAMPLES;
  const recipe = recipeArg(values.recipe);
  const agents = int('agents', values.agents, 1, 8) ?? 2;
  const grade = values.grade ?? false;
  const preference = values.preference ?? false;
  if (recipe === 'baseline' && preference) throw new UsageError('--preference goes with --recipe aidsafe: pairs are made from AIDSAFE samples');
  const ctx = await ctxFactory();
  try {
    const inputPath = values.input ? resolve(values.input) : await previewSampleFile(ctx.config.dataDir, limit);
    const run = await BatchRun.prepare(ctx, {
      inputPath,
      column: values.column,
      limit,
      concurrency: int('concurrency', values.concurrency, 1, 64) ?? 4,
      recipe,
      grade,
      preference,
      agents,
      maxRounds: int('max-rounds', values['max-rounds'], 1, 10) ?? 3,
      beliefRounds: int('belief-rounds', values['belief-rounds'], 1, 5) ?? 3,
      minMargin: num('min-margin', values['min-margin'], 0, 4) ?? 1,
      policyIds: values.policy,
      budgets: { maxCost: num('max-cost', values['max-cost'], 0, 1e9) },
      runId: values['run-id'],
      runIdPrefix: 'preview',
      // A preview judges the model by every sample, failed ones included: it never stops early.
      failFast: 0,
    });
    // The endpoint is checked before the run is written, so a wrong address or key costs seconds.
    await preflight(ctx, rolesOfRun({ recipe, grade, preference, agents }));
    const err = process.stderr;
    err.write(`preview ${run.runId}: ${run.estimate.samples} prompts from ${inputPath} (${run.estimate.already_done} already done)\n`);
    const stop = (signal: NodeJS.Signals) => run.interrupt(`interrupted: ${signal}`);
    process.once('SIGINT', stop);
    const final = await run.start(progressView(err));
    process.off('SIGINT', stop);
    const health = run.health();
    const verdict = healthVerdict(health);
    const samples = await renderedSamples(ctx, run.runId, 2);
    const out = process.stdout;
    if (values.json) {
      out.write(JSON.stringify({ run_id: run.runId, status: final.status, failed: final.failed, health, go: verdict.go, verdict: verdict.line, samples }) + '\n');
      return verdict.go ? PREVIEW_EXIT.go : PREVIEW_EXIT.noGo;
    }
    out.write(`Preview ${run.runId}: ${final.done} of ${final.total} samples done, ${final.failed} failed${final.status !== 'done' ? ` (${final.status}${final.stop_reason ? `: ${final.stop_reason}` : ''})` : ''}\n\n`);
    out.write(healthTable(health) + '\n\n');
    out.write(verdict.line + '\n');
    if (final.failures.length > 0) out.write(`\nfirst failure (row ${final.failures[0]!.index + 1}): ${final.failures[0]!.error}\n`);
    for (const [i, sample] of samples.entries()) out.write(`\nSample ${i + 1} of ${samples.length}, as \`export --format sft\` writes it:\n${JSON.stringify(sample, null, 2)}\n`);
    out.write(`\nThe preview is run ${run.runId}: \`aidsafe-mcp report --run-id ${run.runId} --out preview.html\` shows every deliberation.\n`);
    return verdict.go ? PREVIEW_EXIT.go : PREVIEW_EXIT.noGo;
  } finally {
    await ctx.close();
  }
}

/**
 * Up to `count` finished samples of the run as sft rows (the default shape: prompt and completion,
 * the reasoning inside <think>), one benign and one harmful when the sample file says which is which.
 */
async function renderedSamples(ctx: AppContext, runId: string, count: number): Promise<Record<string, unknown>[]> {
  const progress = await ctx.runs.progress(runId);
  const records: CotRecord[] = [];
  for (const event of [...progress.samples.values()].sort((a, b) => a.i - b.i)) {
    if (event.s !== 'done') continue;
    const record = await ctx.store.get(event.record_id);
    if (record?.kind === 'cot') records.push(record);
  }
  const kinds = [...new Set(records.map((r) => r.metadata?.kind))];
  const picked = kinds.length > 1 ? kinds.map((k) => records.find((r) => r.metadata?.kind === k)!) : records;
  return picked.slice(0, count).map((record) => toRow(record, { format: 'sft', sftShape: 'prompt-completion', reasoning: 'think' }));
}
