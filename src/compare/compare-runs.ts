import { GRADE_METRICS, type GradeMetric } from '../agents/grader.js';
import type { AppContext } from '../context.js';
import { InputError } from '../errors.js';
import type { BatchStatus } from '../pipeline/batch.js';
import { gradingInputOf, recipeOf, type CotRecord, type RecipeName } from '../store/record.js';
import { bootstrapMean, BOOTSTRAP_RESAMPLES, BOOTSTRAP_SEED, mean } from '../stats/bootstrap.js';
import { gradeMissing, type GradingOutcome } from './grade-missing.js';
import { PAPER_TABLE_1, PAPER_TABLE_1_SOURCE } from './paper-table1.js';
import { loadRun, pairByPrompt, type LoadedRun } from './pair-runs.js';

/** Columns that name a sample's category in the bundled prompt sets, in order of preference. */
const CATEGORY_COLUMNS = ['category', 'type', 'SemanticCategory', 'risk_area', 'types_of_harm'];
/** Pairs listed as differing most. */
const TOP_PAIRS = 20;

export interface MetricComparison {
  metric: GradeMetric;
  mean_a: number;
  mean_b: number;
  /** Mean of the per-pair differences, A − B, with its bootstrap interval. */
  difference: number;
  ci_low: number;
  ci_high: number;
  /** Pairs where A scored higher, the same, lower. */
  wins: number;
  ties: number;
  losses: number;
  n: number;
}

export interface PairSummary {
  prompt: string;
  category: string | null;
  record_ids: [string, string];
  scores_a: Record<GradeMetric, number>;
  scores_b: Record<GradeMetric, number>;
  /** Sum over the six scores of |A − B|. */
  distance: number;
}

export interface Comparison {
  runs: { run_id: string; recipe: string; input: string; samples: number }[];
  pairs: number;
  graded_pairs: number;
  only_in_a: number;
  only_in_b: number;
  grading: GradingOutcome[];
  /** What the grader saw for both runs: the request, the reasoning and the answer, never the intents only one recipe has. */
  grading_input: 'request';
  bootstrap: { resamples: number; seed: number; confidence: number; method: string };
  metrics: MetricComparison[];
  category_column: string | null;
  categories: { category: string; pairs: number; metrics: MetricComparison[] }[];
  reference: { source: string; a_label: string; b_label: string; metrics: { metric: GradeMetric; a: number; b: number; difference: number }[] };
  top_pairs: PairSummary[];
}

function runRecipe(run: LoadedRun): RecipeName | 'mixed' {
  const names = new Set(run.records.map(recipeOf));
  return names.size === 1 ? [...names][0]! : names.size === 0 ? ((run.manifest.options.recipe as RecipeName | undefined) ?? 'aidsafe') : 'mixed';
}

function compareMetric(metric: GradeMetric, pairs: [CotRecord, CotRecord][]): MetricComparison {
  const a = pairs.map(([x]) => x.grades!.scores[metric]);
  const b = pairs.map(([, y]) => y.grades!.scores[metric]);
  const diffs = a.map((v, i) => v - b[i]!);
  const interval = bootstrapMean(diffs);
  return {
    metric,
    mean_a: mean(a),
    mean_b: mean(b),
    difference: interval.mean,
    ci_low: interval.low,
    ci_high: interval.high,
    wins: diffs.filter((d) => d > 0).length,
    ties: diffs.filter((d) => d === 0).length,
    losses: diffs.filter((d) => d < 0).length,
    n: diffs.length,
  };
}

function categoryOf(record: CotRecord, column: string | undefined): string | null {
  if (!column) return null;
  const value = record.metadata?.[column];
  return typeof value === 'string' && value !== '' ? value : null;
}

/**
 * Two runs side by side: samples paired by prompt, ungraded ones graded first (as runs of the grading
 * recipe), and for each of the six scores both means, the mean paired difference A − B with a seeded
 * bootstrap interval, and win/tie/loss counts; per category too, with the paper's Table 1 as reference.
 */
export async function compareRuns(
  ctx: AppContext,
  runIds: readonly [string, string],
  options: { concurrency?: number; signal?: AbortSignal; onGrading?: (runId: string, status: BatchStatus) => void } = {},
): Promise<Comparison> {
  if (runIds[0] === runIds[1]) throw new InputError(`run_ids: both are "${runIds[0]}"; give two different runs`);
  let [a, b] = [await loadRun(ctx, runIds[0]), await loadRun(ctx, runIds[1])];
  let { pairs } = pairByPrompt(a, b);
  const grading: GradingOutcome[] = [];
  for (const [run, side] of [[a, 0], [b, 1]] as const) {
    const outcome = await gradeMissing(
      ctx,
      run,
      pairs.map((p) => p[side]),
      { ...options, onProgress: options.onGrading ? (s) => options.onGrading?.(run.manifest.id, s) : undefined },
    );
    if (outcome) grading.push(outcome);
    if (options.signal?.aborted) throw new InputError('the comparison was cancelled while grading; run it again to resume');
  }
  if (grading.length > 0) [a, b] = [await loadRun(ctx, runIds[0]), await loadRun(ctx, runIds[1])];
  const paired = pairByPrompt(a, b);
  pairs = paired.pairs;
  // Only grades made on the same input on both sides are compared: the request, the reasoning and the answer.
  const graded = pairs.filter(([x, y]) => gradingInputOf(x) === 'request' && gradingInputOf(y) === 'request');
  if (graded.length === 0) throw new InputError(`run_ids: none of the ${pairs.length} paired samples could be graded on both sides; see the grading runs ${grading.map((g) => g.grading_run_id).join(', ')}`);

  const column = CATEGORY_COLUMNS.find((c) => graded.some(([x]) => categoryOf(x, c) !== null));
  const groups = new Map<string, [CotRecord, CotRecord][]>();
  for (const pair of graded) {
    const key = categoryOf(pair[0], column) ?? categoryOf(pair[1], column) ?? '(none)';
    groups.set(key, [...(groups.get(key) ?? []), pair]);
  }
  const recipes = [runRecipe(a), runRecipe(b)];
  // The reference row follows the runs' recipes: the AIDSAFE side gets the paper's AIDSAFE column.
  const aIsBaseline = recipes[0] === 'baseline' && recipes[1] !== 'baseline';
  const top = graded
    .map(([x, y]): PairSummary => ({
      prompt: x.prompt,
      category: categoryOf(x, column),
      record_ids: [x.id, y.id],
      scores_a: x.grades!.scores,
      scores_b: y.grades!.scores,
      distance: GRADE_METRICS.reduce((n, m) => n + Math.abs(x.grades!.scores[m] - y.grades!.scores[m]), 0),
    }))
    .filter((p) => p.distance > 0)
    .sort((p, q) => q.distance - p.distance)
    .slice(0, TOP_PAIRS);

  return {
    runs: [a, b].map((run, i) => ({ run_id: run.manifest.id, recipe: recipes[i]!, input: run.manifest.input.path, samples: run.records.length })),
    pairs: pairs.length,
    graded_pairs: graded.length,
    only_in_a: paired.onlyA,
    only_in_b: paired.onlyB,
    grading,
    grading_input: 'request',
    bootstrap: { resamples: BOOTSTRAP_RESAMPLES, seed: BOOTSTRAP_SEED, confidence: 0.95, method: 'percentile bootstrap of the mean per-pair difference' },
    metrics: GRADE_METRICS.map((m) => compareMetric(m, graded)),
    category_column: column ?? null,
    categories: column
      ? [...groups.entries()].sort((p, q) => q[1].length - p[1].length).map(([category, group]) => ({ category, pairs: group.length, metrics: GRADE_METRICS.map((m) => compareMetric(m, group)) }))
      : [],
    reference: {
      source: PAPER_TABLE_1_SOURCE,
      a_label: aIsBaseline ? 'zero-shot' : 'AIDSAFE',
      b_label: aIsBaseline ? 'AIDSAFE' : 'zero-shot',
      metrics: GRADE_METRICS.map((metric) => {
        const row = PAPER_TABLE_1[metric];
        const [ra, rb] = aIsBaseline ? [row.baseline, row.aidsafe] : [row.aidsafe, row.baseline];
        return { metric, a: ra, b: rb, difference: Math.round((ra - rb) * 100) / 100 };
      }),
    },
    top_pairs: top,
  };
}
