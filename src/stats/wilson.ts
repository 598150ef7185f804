import type { Interval } from './bootstrap.js';

/** A mean with its 95% interval and the number of samples it rests on. */
export type Estimate = Interval;

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
