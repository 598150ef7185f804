import { describe, expect, it } from 'vitest';
import { bootstrapMean, quantile, seededRandom } from '../src/stats/bootstrap.js';

describe('seeded bootstrap intervals', () => {
  it('gives a point interval for constant values and nothing for no values', () => {
    expect(bootstrapMean([2, 2, 2, 2])).toEqual({ mean: 2, low: 2, high: 2, n: 4 });
    const empty = bootstrapMean([]);
    expect(empty.n).toBe(0);
    expect(empty.mean).toBeNaN();
  });

  it('is the same for the same seed, and differs with another', () => {
    const values = Array.from({ length: 40 }, (_, i) => (i * 7) % 5);
    expect(bootstrapMean(values)).toEqual(bootstrapMean(values));
    expect(bootstrapMean(values, { seed: 1 })).not.toEqual(bootstrapMean(values, { seed: 2 }));
  });

  it('matches the normal approximation for a proportion of one half over 100 values', () => {
    // Standard error sqrt(0.25 / 100) = 0.05, so the 95% interval is about 0.5 ± 0.098.
    const values = Array.from({ length: 100 }, (_, i) => i % 2);
    const { mean, low, high } = bootstrapMean(values);
    expect(mean).toBe(0.5);
    expect(low).toBeGreaterThan(0.38);
    expect(low).toBeLessThan(0.42);
    expect(high).toBeGreaterThan(0.58);
    expect(high).toBeLessThan(0.62);
  });

  it('draws uniform numbers in [0, 1) and interpolates quantiles', () => {
    const random = seededRandom(7);
    const draws = Array.from({ length: 10_000 }, random);
    expect(Math.min(...draws)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...draws)).toBeLessThan(1);
    expect(draws.reduce((a, b) => a + b, 0) / draws.length).toBeCloseTo(0.5, 1);
    expect(quantile([1, 2, 3, 4], 0.5)).toBe(2.5);
    expect(quantile([1, 2, 3, 4], 0)).toBe(1);
    expect(quantile([1, 2, 3, 4], 1)).toBe(4);
  });
});
