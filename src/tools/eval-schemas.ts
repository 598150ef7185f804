import { z } from 'zod';

export const evalIdField = z.string().max(64).regex(/^eval-[a-z0-9_-]{3,59}$/, 'eval_id must be "eval-" then 3–59 lowercase letters, digits, "-" or "_" (as returned by start_eval)');

const metric = z.object({ metric: z.string(), mean: z.number().nullable(), low: z.number().nullable(), high: z.number().nullable(), n: z.number().int() });

/**
 * What get_eval returns (and start_eval with wait): the headline numbers a client reads. The result
 * also carries the runs, judge models, targets, suites with their hashes and licences, scores per category
 * and our numbers on the paper's Table 2 scale beside its rows.
 */
export const evalResultSchema = z.object({
  eval_id: z.string(),
  status: z.string(),
  scores: z.array(z.object({ suite: z.string(), target: z.string(), samples: z.number().int(), metrics: z.array(metric).describe('95% intervals.') })),
  failed_samples: z.number().int(),
});

/** JSON has no NaN: an empty mean is null. */
export function jsonSafe<T>(value: T): T {
  return JSON.parse(JSON.stringify(value, (_, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v))) as T;
}
