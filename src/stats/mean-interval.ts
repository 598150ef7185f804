/** A mean with its 95% interval and the number of samples it rests on. */
export interface Estimate {
  mean: number;
  low: number;
  high: number;
  n: number;
}

const Z95 = 1.959963984540054;

/**
 * A proportion with its Wilson score interval: unlike mean ± 1.96·SE it stays inside [0, 1] and
 * does not collapse to a point at 0 or n successes, which small suites hit often.
 */
export function wilson(successes: number, n: number, z = Z95): Estimate {
  if (n === 0) return { mean: Number.NaN, low: Number.NaN, high: Number.NaN, n: 0 };
  const p = successes / n;
  const z2 = z * z;
  const centre = (p + z2 / (2 * n)) / (1 + z2 / n);
  const half = (z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / (1 + z2 / n);
  return { mean: p, low: Math.max(0, centre - half), high: Math.min(1, centre + half), n };
}

/** Resamples used by bootstrap intervals: enough that the 2.5% and 97.5% quantiles move by under a few thousandths between seeds. */
export const BOOTSTRAP_RESAMPLES = 2_000;
export const BOOTSTRAP_SEED = 20_250_527;

/** A small seeded generator (mulberry32), so the same data give the same interval every time. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The mean of `values` with a percentile bootstrap 95% interval (seeded, BOOTSTRAP_RESAMPLES resamples). */
export function bootstrapMean(values: readonly number[], options: { resamples?: number; seed?: number } = {}): Estimate {
  const n = values.length;
  if (n === 0) return { mean: Number.NaN, low: Number.NaN, high: Number.NaN, n: 0 };
  const mean = values.reduce((a, b) => a + b, 0) / n;
  const resamples = options.resamples ?? BOOTSTRAP_RESAMPLES;
  const random = seededRandom(options.seed ?? BOOTSTRAP_SEED);
  const means = new Float64Array(resamples);
  for (let r = 0; r < resamples; r++) {
    let sum = 0;
    for (let i = 0; i < n; i++) sum += values[Math.floor(random() * n)] as number;
    means[r] = sum / n;
  }
  means.sort();
  return { mean, low: quantile(means, 0.025), high: quantile(means, 0.975), n };
}

/** Linear interpolation between order statistics of sorted values. */
function quantile(sorted: Float64Array, q: number): number {
  const at = q * (sorted.length - 1);
  const lo = Math.floor(at);
  const hi = Math.ceil(at);
  return (sorted[lo] as number) + ((sorted[hi] as number) - (sorted[lo] as number)) * (at - lo);
}
