import { z } from 'zod';
import type { Config } from '../config.js';
import { pairCountsLine, type PairCounts } from '../store/pair-outcome.js';
import type { StoredRecord, Usage } from '../store/record.js';
import { costOf } from './batch-status.js';

/**
 * How well a model fits the recipe, from what a run's samples stored: the figures `aidsafe-mcp preview`
 * prints, `get_batch` returns as `health`, the status line shortens and the run report shows. Pure: the
 * same records and usage give the same figures wherever they are shown.
 */

/** The linter's kinds of removed thought, as the records count them. */
export const LINT_REMOVAL_KINDS = ['meta', 'refusal', 'unknown_clause'] as const;
export type LintRemovalKind = (typeof LINT_REMOVAL_KINDS)[number];

/** What one finished sample adds to the figures: stored on its "done" line, so a resume or a report replays it. */
export interface SampleHealth {
  /** Thoughts the writers returned that the linter kept, and those it removed, by kind. */
  thoughts: number;
  removed: Partial<Record<LintRemovalKind, number>>;
  /** Deliberation turns, and how the deliberation ended; absent for the baseline recipe, which has none. */
  turns?: number;
  agreed?: boolean;
  /** Wall time of the sample, its model calls and writes. */
  ms: number;
}

/** One sample's contribution, from the records it stored and how long it took. */
export function sampleHealth(records: readonly StoredRecord[], ms: number): SampleHealth {
  const health: SampleHealth = { thoughts: 0, removed: {}, ms: Math.max(0, Math.round(ms)) };
  for (const record of records) {
    if (record.kind === 'eval') continue;
    for (const kind of LINT_REMOVAL_KINDS) {
      const n = record.lint?.[kind] ?? 0;
      if (n > 0) health.removed[kind] = (health.removed[kind] ?? 0) + n;
    }
    if (record.kind === 'cot') {
      health.thoughts += record.thoughts.length;
      if (record.stop_reason !== 'baseline') {
        health.turns = record.deliberation.length;
        health.agreed = record.stop_reason === 'agreement';
      }
    } else {
      health.thoughts += record.chosen.thoughts.length + record.attempts.reduce((n, a) => n + a.thoughts.length, 0);
    }
  }
  return health;
}

/** Sums sample contributions (and pair outcomes) as samples finish or as a run's log is replayed. */
export class HealthTally {
  samples = 0;
  thoughts = 0;
  readonly removed: Record<LintRemovalKind, number> = { meta: 0, refusal: 0, unknown_clause: 0 };
  deliberated = 0;
  agreed = 0;
  turnsToAgreement = 0;
  turnsAtBudget = 0;
  ms = 0;

  add(health: SampleHealth): void {
    this.samples++;
    this.thoughts += health.thoughts;
    for (const kind of LINT_REMOVAL_KINDS) this.removed[kind] += health.removed[kind] ?? 0;
    if (health.turns !== undefined) {
      this.deliberated++;
      if (health.agreed) {
        this.agreed++;
        this.turnsToAgreement += health.turns;
      } else this.turnsAtBudget += health.turns;
    }
    this.ms += health.ms;
  }
}

/** Whether a value read back from a run's log is a sample's health. */
export function isSampleHealth(value: unknown): value is SampleHealth {
  const h = value as SampleHealth | undefined;
  return typeof h === 'object' && h !== null && typeof h.thoughts === 'number' && typeof h.ms === 'number' && typeof h.removed === 'object' && h.removed !== null;
}

// Kept plain: this schema goes into tools/list, where every keyword costs a client tokens.
const count = z.number().int();
const share = z.number();

/** The figures, as get_batch returns them. Shares are 0–1; an absent figure did not apply or has no data yet. */
export const healthSchema = z
  .object({
    samples: count,
    completions: count,
    first_try_valid: share.optional(),
    repairs_per_call: z.number().optional(),
    thoughts_removed: z.object({ share: share.optional(), per_sample: z.number().optional(), by_kind: z.object({ meta: count, refusal: count, unknown_clause: count }) }),
    agreement: z.object({ share, agreed: count, budget: count, turns_to_agreement: z.number().optional() }).optional(),
    pairs: z.object({ kept: count, dropped: count, dropped_by_reason: z.record(z.string(), count), kept_share: share.optional() }).optional(),
    tokens_per_sample: z.number().optional(),
    cost_per_sample_usd: z.number().optional(),
    seconds_per_sample: z.number().optional(),
    verdict: z.string(),
  })
  .describe('How well the model fits the recipe, with a go/no-go verdict (docs/preview.md).');
export type Health = z.infer<typeof healthSchema>;

/**
 * The health of a run: its tally, its usage (across resumes), its prices, and in a run that makes
 * pairs their counts. Tokens, cost and time are per sample done (failed samples' spending included).
 */
export function healthOf(tally: HealthTally, usage: Usage, prices: Config['prices'], options: { batch?: boolean; pairs?: PairCounts } = {}): Health {
  const figures = healthFigures(tally, usage, prices, options);
  return { ...figures, verdict: healthVerdict(figures).line };
}

type Figures = Omit<Health, 'verdict'>;

function healthFigures(tally: HealthTally, usage: Usage, prices: Config['prices'], options: { batch?: boolean; pairs?: PairCounts }): Figures {
  const completions = usage.completions ?? 0;
  const removedTotal = LINT_REMOVAL_KINDS.reduce((n, k) => n + tally.removed[k], 0);
  const written = tally.thoughts + removedTotal;
  const n = tally.samples;
  const cost = costOf(usage, prices, options.batch === true);
  const pairs = options.pairs;
  const pairTotal = pairs ? pairs.kept + pairs.dropped : 0;
  return {
    samples: n,
    completions,
    ...(completions > 0 ? { first_try_valid: round((usage.first_try_valid ?? 0) / completions, 3), repairs_per_call: round(Math.max(0, usage.calls - completions) / completions, 3) } : {}),
    thoughts_removed: { ...(written > 0 ? { share: round(removedTotal / written, 3) } : {}), ...(n > 0 ? { per_sample: round(removedTotal / n, 2) } : {}), by_kind: { ...tally.removed } },
    ...(tally.deliberated > 0
      ? {
          agreement: {
            share: round(tally.agreed / tally.deliberated, 3),
            agreed: tally.agreed,
            budget: tally.deliberated - tally.agreed,
            ...(tally.agreed > 0 ? { turns_to_agreement: round(tally.turnsToAgreement / tally.agreed, 2) } : {}),
          },
        }
      : {}),
    ...(pairs ? { pairs: { ...structuredClone(pairs), ...(pairTotal > 0 ? { kept_share: round(pairs.kept / pairTotal, 3) } : {}) } } : {}),
    ...(n > 0 ? { tokens_per_sample: Math.round((usage.prompt_tokens + usage.completion_tokens) / n) } : {}),
    ...(n > 0 && cost !== undefined ? { cost_per_sample_usd: round(cost / n, 6) } : {}),
    ...(n > 0 ? { seconds_per_sample: round(tally.ms / n / 1000, 2) } : {}),
  };
}

/**
 * Where a figure stops being fit for a dataset run. `warn` marks it in the table; past `fail` the
 * verdict is no-go. Documented in docs/preview.md.
 */
export const HEALTH_THRESHOLDS = {
  first_try_valid: { warn: 0.9, fail: 0.7 },
  repairs_per_call: { warn: 0.25, fail: 0.5 },
  thoughts_removed: { warn: 0.1, fail: 0.25 },
  agreement: { warn: 0.5, fail: 0.2 },
  pairs_kept: { warn: 0.5, fail: 0.25 },
} as const;

type Figure = keyof typeof HEALTH_THRESHOLDS;

/** What each figure is called in a table and a verdict, and what to change when it fails. */
const FIGURES: Record<Figure, { label: string; higherIsBetter: boolean; advice: string }> = {
  first_try_valid: {
    label: 'replies valid against the schema on first try',
    higherIsBetter: true,
    advice: 'use a larger model, or a server whose structured outputs (response_format json_schema) work for this model',
  },
  repairs_per_call: { label: 'repairs per reply', higherIsBetter: false, advice: 'use a larger model, or a server whose structured outputs (response_format json_schema) work for this model' },
  thoughts_removed: { label: 'thoughts removed by the linter', higherIsBetter: false, advice: 'use a larger model for the writing roles (initial_cot, deliberator)' },
  agreement: { label: 'samples whose deliberation agreed', higherIsBetter: true, advice: 'use fewer agents (--agents 1) or fewer rounds (--max-rounds), or a larger deliberator model' },
  pairs_kept: { label: 'pairs kept', higherIsBetter: true, advice: 'use a larger judge and whisperer model, or more belief rounds (--belief-rounds)' },
};

export interface HealthCheck {
  figure: Figure;
  label: string;
  value: number;
  level: 'ok' | 'warn' | 'fail';
  /** How far past its warn threshold, in spans from warn to fail: the worst figure has the largest. */
  badness: number;
  advice: string;
}

/** Each figure that has a value, held to its thresholds. */
export function healthChecks(h: Figures): HealthCheck[] {
  const values: Partial<Record<Figure, number>> = {
    first_try_valid: h.first_try_valid,
    repairs_per_call: h.repairs_per_call,
    thoughts_removed: h.thoughts_removed.share,
    agreement: h.agreement?.share,
    pairs_kept: h.pairs?.kept_share,
  };
  const checks: HealthCheck[] = [];
  for (const figure of Object.keys(HEALTH_THRESHOLDS) as Figure[]) {
    const value = values[figure];
    if (value === undefined) continue;
    const { warn, fail } = HEALTH_THRESHOLDS[figure];
    const { label, higherIsBetter, advice } = FIGURES[figure];
    const past = (limit: number) => (higherIsBetter ? value < limit : value > limit);
    const level = past(fail) ? 'fail' : past(warn) ? 'warn' : 'ok';
    // Measured in spans from warn to fail, so figures on different scales compare: 1 is at the no-go line.
    const badness = (higherIsBetter ? warn - value : value - warn) / Math.abs(warn - fail);
    checks.push({ figure, label, value, level, badness, advice: figure === 'pairs_kept' ? pairAdvice(h.pairs!) : advice });
  }
  return checks;
}

/** What to change for pairs, by the commonest drop reason. */
function pairAdvice(pairs: PairCounts): string {
  const [reason] = Object.entries(pairs.dropped_by_reason).sort((a, b) => b[1] - a[1])[0] ?? [];
  if (reason === 'rejected_not_violating' || reason === 'rejected_unusable') return 'use a larger whisperer and initial_cot model, or more belief rounds (--belief-rounds)';
  if (reason === 'chosen_violates' || reason === 'chosen_unusable') return 'use a larger model for the writing roles, or a stricter judge';
  if (reason === 'margin') return 'lower --min-margin, or use a larger grader';
  if (reason === 'length') return 'use a model that writes reasoning of steadier length';
  return FIGURES.pairs_kept.advice;
}

export interface HealthVerdict {
  go: boolean;
  worst?: HealthCheck;
  line: string;
}

/** Go or no-go, naming the worst figure and what to change. */
export function healthVerdict(h: Figures): HealthVerdict {
  const checks = healthChecks(h);
  if (h.samples === 0) return { go: false, line: 'no-go: no sample finished, so there is nothing to judge the model by (see the failures above)' };
  const worst = [...checks].sort((a, b) => b.badness - a.badness)[0];
  const failed = checks.some((c) => c.level === 'fail');
  if (!worst || worst.level === 'ok') return { go: true, ...(worst ? { worst } : {}), line: 'go: every figure is within its threshold' };
  const figure = `${worst.label} ${formatFigure(worst)} (${thresholdText(worst.figure, failed ? 'fail' : 'warn')})`;
  return failed
    ? { go: false, worst, line: `no-go: ${figure}: ${worst.advice}` }
    : { go: true, worst, line: `go, with a warning: ${figure}: ${worst.advice}` };
}

function thresholdText(figure: Figure, level: 'warn' | 'fail'): string {
  const limit = HEALTH_THRESHOLDS[figure][level];
  const shown = figure === 'repairs_per_call' ? limit.toFixed(2) : pct(limit);
  return `${level === 'fail' ? 'no-go' : 'warning'} ${FIGURES[figure].higherIsBetter ? 'below' : 'above'} ${shown}`;
}

function formatFigure(check: HealthCheck): string {
  return check.figure === 'repairs_per_call' ? check.value.toFixed(2) : pct(check.value);
}

/** The table a preview prints: one figure a line, with its threshold mark. */
export function healthTable(h: Health): string {
  const checks = new Map(healthChecks(h).map((c) => [c.figure, c]));
  const mark = (figure: Figure) => {
    const level = checks.get(figure)?.level;
    return level === 'fail' ? '  ✗' : level === 'warn' ? '  !' : level === 'ok' ? '  ✓' : '';
  };
  const removed = h.thoughts_removed;
  const kinds = LINT_REMOVAL_KINDS.filter((k) => removed.by_kind[k] > 0).map((k) => `${removed.by_kind[k]} ${k}`);
  const rows: [string, string][] = [
    ['samples', String(h.samples)],
    ['replies valid on first try', h.first_try_valid !== undefined ? `${pct(h.first_try_valid)} of ${h.completions}${mark('first_try_valid')}` : '–'],
    ['repairs per reply', h.repairs_per_call !== undefined ? `${h.repairs_per_call.toFixed(2)}${mark('repairs_per_call')}` : '–'],
    ['thoughts removed by linter', removed.share !== undefined ? `${pct(removed.share)} (${kinds.length ? kinds.join(', ') : 'none'})${mark('thoughts_removed')}` : '–'],
  ];
  if (h.agreement) {
    const a = h.agreement;
    rows.push(['deliberation agreed', `${pct(a.share)} (${a.agreed} agreed, ${a.budget} spent the budget)${mark('agreement')}`]);
    rows.push(['turns to agreement', a.turns_to_agreement !== undefined ? String(a.turns_to_agreement) : '–']);
  }
  if (h.pairs) rows.push(['pairs', `${pairCountsLine(h.pairs)}${mark('pairs_kept')}`]);
  rows.push(['tokens per sample', h.tokens_per_sample !== undefined ? String(h.tokens_per_sample) : '–']);
  rows.push(['cost per sample', h.cost_per_sample_usd !== undefined ? `$${h.cost_per_sample_usd.toFixed(4)}` : '– (no prices in the config)']);
  rows.push(['time per sample', h.seconds_per_sample !== undefined ? `${h.seconds_per_sample.toFixed(1)} s` : '–']);
  const width = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join('\n');
}

/** The status line's short form: "first try 92% · 0.1 repairs · 3% linted · agreed 80%". */
export function healthLine(h: Health): string | undefined {
  if (h.samples === 0 && h.completions === 0) return undefined;
  const parts = [
    h.first_try_valid !== undefined ? `first try ${pct(h.first_try_valid)}` : undefined,
    h.repairs_per_call !== undefined ? `${h.repairs_per_call.toFixed(2)} repairs/reply` : undefined,
    h.thoughts_removed.share !== undefined ? `${pct(h.thoughts_removed.share)} linted` : undefined,
    h.agreement ? `agreed ${pct(h.agreement.share)}` : undefined,
  ];
  const line = parts.filter(Boolean).join(' · ');
  return line || undefined;
}

function pct(share: number): string {
  return `${Math.round(share * 1000) / 10}%`;
}

function round(value: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}
