/**
 * Percentile bootstrap intervals, seeded so a report can be recomputed to the last digit. 2,000
 * resamples put the 2.5th and 97.5th percentiles on the 50th and 1,950th of the sorted means: enough
 * for two decimals on 1–5 scores, and fast for tens of thousands of samples.
 */
export const BOOTSTRAP_RESAMPLES = 2_000;
/** The paper's arXiv number: any fixed seed would do; this one is easy to remember. */
export const BOOTSTRAP_SEED = 2505_21784;

export interface Interval {
  mean: number;
  low: number;
  high: number;
  n: number;
}

/** mulberry32: a small, fast 32-bit generator; good enough to draw resample indices. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

export function mean(values: readonly number[]): number {
  return values.length ? values.reduce((a, b) => a + b, 0) / values.length : Number.NaN;
}

/** The value below which a fraction `p` of sorted values lie, interpolating between neighbours. */
export function quantile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const at = (sorted.length - 1) * p;
  const lo = Math.floor(at);
  const hi = Math.ceil(at);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (at - lo);
}

/**
 * The mean of `values` with a percentile bootstrap interval: resample the values with replacement
 * `resamples` times, take each resample's mean, and read the interval off their percentiles. For a paired
 * comparison pass the per-pair differences, so the interval accounts for the pairing.
 */
export function bootstrapMean(values: readonly number[], options: { resamples?: number; seed?: number; confidence?: number } = {}): Interval {
  const resamples = options.resamples ?? BOOTSTRAP_RESAMPLES;
  const confidence = options.confidence ?? 0.95;
  const n = values.length;
  if (n === 0) return { mean: Number.NaN, low: Number.NaN, high: Number.NaN, n };
  const random = seededRandom(options.seed ?? BOOTSTRAP_SEED);
  const means = new Float64Array(resamples);
  for (let r = 0; r < resamples; r++) {
    let sum = 0;
    for (let i = 0; i < n; i++) sum += values[Math.floor(random() * n)]!;
    means[r] = sum / n;
  }
  const sorted = Array.from(means).sort((a, b) => a - b);
  const tail = (1 - confidence) / 2;
  return { mean: mean(values), low: quantile(sorted, tail), high: quantile(sorted, 1 - tail), n };
}
