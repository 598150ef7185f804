import { DEFAULT_BATCH_FACTOR, endpointFor, type Config } from '../config.js';
import type { WaveProgress } from '../llm/batch/wave-collector.js';
import { pairCountsLine, type PairCounts } from '../store/pair-outcome.js';
import type { Usage } from '../store/record.js';
import { healthLine, type Health } from './health.js';
import type { RunManifest, RunOptions, RunStatus } from '../store/run-store.js';

export interface BatchEstimate {
  samples: number;
  already_done: number;
  to_run: number;
  calls_per_sample: { min: number; max: number };
  calls: { min: number; max: number };
  tokens: { min: number; max: number };
  cost_usd?: { min: number; max: number };
}

export interface BatchStatus {
  run_id: string;
  status: RunStatus;
  stop_reason?: string;
  error?: string;
  total: number;
  done: number;
  failed: number;
  pending: number;
  usage: Usage;
  cost_usd?: number;
  concurrency: number;
  rate_per_s: number;
  eta_s?: number;
  input: RunManifest['input'];
  options: RunOptions;
  created_at: string;
  failures: { index: number; error: string }[];
  /** In a run that makes preference pairs: pairs kept, and dropped by reason. */
  pairs?: PairCounts;
  /** In batch mode: waves sent, requests waiting, and the batches with their provider status. */
  batch_api?: WaveProgress;
  /** How well the model fits the recipe so far (pipeline/health.ts). */
  health?: Health;
}

/** Cost in USD of a usage total, when every model in it has a price; at the batch price (`batch_factor`, default 0.5) for a run in batch mode. */
export function costOf(usage: Usage, prices: Config['prices'], batch = false): number | undefined {
  if (Object.keys(prices).length === 0) return undefined;
  let cost = 0;
  for (const [model, counts] of Object.entries(usage.by_model)) {
    const price = prices[model];
    if (!price) return undefined;
    const factor = batch ? (price.batch_factor ?? DEFAULT_BATCH_FACTOR) : 1;
    cost += (factor * (counts.prompt_tokens * price.input + counts.completion_tokens * price.output)) / 1_000_000;
  }
  return cost;
}

/** An estimate at the batch price of the model that estimates are priced by, for a run in batch mode. */
export function atBatchPrice(estimate: BatchEstimate, config: Config, batch: boolean): BatchEstimate {
  if (!batch || !estimate.cost_usd) return estimate;
  const factor = config.prices[endpointFor(config, 'intents').model]?.batch_factor ?? DEFAULT_BATCH_FACTOR;
  return { ...estimate, cost_usd: { min: round(estimate.cost_usd.min * factor, 4), max: round(estimate.cost_usd.max * factor, 4) } };
}

/** Why no further sample may start, if a budget says so. Budgets count the whole run, across resumes. */
export function budgetReached(
  budgets: { maxSamples?: number; maxTokens?: number; maxCost?: number },
  run: { done: number; inFlight: number; usage: Usage },
  prices: Config['prices'],
  batch = false,
): string | undefined {
  const { maxSamples, maxTokens, maxCost } = budgets;
  const usage = run.usage;
  if (maxSamples !== undefined && run.done + run.inFlight >= maxSamples) return `max_samples (${maxSamples}) reached`;
  if (maxTokens !== undefined && usage.prompt_tokens + usage.completion_tokens >= maxTokens) return `max_tokens (${maxTokens}) reached`;
  if (maxCost !== undefined) {
    const cost = costOf(usage, prices, batch);
    if (cost !== undefined && cost >= maxCost) return `max_cost ($${maxCost}) reached`;
  }
  return undefined;
}

/** What a run's state looks like to its caller: counts, usage, cost, rate and ETA, the first failures. */
export function statusOf(run: {
  manifest: RunManifest;
  status: RunStatus;
  stopReason?: string;
  error?: string;
  done: number;
  failed: number;
  finishedThisSession: number;
  startedAt: number;
  usage: Usage;
  prices: Config['prices'];
  concurrency: number;
  /** Kept as failures happen, so a snapshot costs the same at the millionth sample as at the first. */
  failures: readonly { index: number; error: string }[];
  pairs?: PairCounts;
  health?: Health;
  batch?: WaveProgress;
}): BatchStatus {
  const elapsed = (Date.now() - run.startedAt) / 1000;
  const rate = elapsed > 0 ? run.finishedThisSession / elapsed : 0;
  const pending = run.manifest.total - run.done;
  const cost = costOf(run.usage, run.prices, run.batch !== undefined);
  return {
    run_id: run.manifest.id,
    status: run.status,
    ...(run.stopReason ? { stop_reason: run.stopReason } : {}),
    ...(run.error ? { error: run.error } : {}),
    total: run.manifest.total,
    done: run.done,
    failed: run.failed,
    pending,
    usage: structuredClone(run.usage),
    ...(cost !== undefined ? { cost_usd: round(cost, 6) } : {}),
    concurrency: run.concurrency,
    rate_per_s: round(rate, 3),
    ...(rate > 0 && run.status === 'running' ? { eta_s: Math.round((pending - run.failed) / rate) } : {}),
    input: run.manifest.input,
    options: run.manifest.options,
    created_at: run.manifest.created_at,
    failures: run.failures.map((f) => ({ ...f })),
    ...(run.pairs ? { pairs: structuredClone(run.pairs) } : {}),
    ...(run.health ? { health: run.health } : {}),
    ...(run.batch ? { batch_api: run.batch } : {}),
  };
}

export function round(value: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/** One line on a run: done/failed, rate, ETA, tokens, cost, concurrency, and how it ended. */
export function statusLine(s: BatchStatus): string {
  const tokens = s.usage.prompt_tokens + s.usage.completion_tokens;
  const parts = [
    `${s.done}/${s.total} done`,
    `${s.failed} failed`,
    `${s.rate_per_s.toFixed(2)}/s`,
    s.eta_s !== undefined ? `ETA ${duration(s.eta_s)}` : undefined,
    `${compact(tokens)} tokens`,
    s.cost_usd !== undefined ? `$${s.cost_usd.toFixed(4)}` : undefined,
    s.pairs ? `pairs ${pairCountsLine(s.pairs)}` : undefined,
    s.health ? healthLine(s.health) : undefined,
    `concurrency ${s.concurrency}`,
    s.batch_api ? waveLine(s.batch_api) : undefined,
    s.status !== 'running' ? `${s.status}${s.stop_reason && s.stop_reason !== s.status ? ` (${s.stop_reason})` : ''}` : undefined,
  ];
  return parts.filter(Boolean).join(' · ');
}

/** Waves sent, and the batches out by provider status: "wave 3 · batches 2 in_progress, 1 validating". */
function waveLine(w: WaveProgress): string {
  const out: Record<string, number> = {};
  for (const b of w.open) out[b.status] = (out[b.status] ?? 0) + 1;
  const open = Object.entries(out).map(([status, n]) => `${n} ${status}`);
  return `wave ${w.waves} · batches ${open.length ? open.join(', ') : 'none out'}${w.requests_waiting ? ` · ${w.requests_waiting} requests waiting` : ''}`;
}

function duration(seconds: number): string {
  if (seconds < 60) return `${seconds}s`;
  const m = Math.floor(seconds / 60);
  return m < 60 ? `${m}m${String(seconds % 60).padStart(2, '0')}s` : `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

function compact(n: number): string {
  return n >= 1e6 ? `${(n / 1e6).toFixed(1)}M` : n >= 1e3 ? `${(n / 1e3).toFixed(1)}k` : String(n);
}
