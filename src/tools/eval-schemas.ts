import { z } from 'zod';

export const evalIdField = z.string().max(64).regex(/^eval-[a-z0-9_-]{3,59}$/, 'eval_id must be "eval-" then 3–59 lowercase letters, digits, "-" or "_" (as returned by start_eval)');

const estimate = z.object({ mean: z.number().nullable(), low: z.number().nullable(), high: z.number().nullable(), n: z.number().int() });
const metric = estimate.extend({ metric: z.string(), better: z.enum(['lower', 'higher']), interval: z.enum(['wilson', 'bootstrap']) });

/** What get_eval returns (and start_eval with wait): the evaluation's state and numbers. */
export const evalResultSchema = z.object({
  eval_id: z.string(),
  status: z.string(),
  created_at: z.string(),
  judge_models: z.array(z.string()).describe('The judge models behind these numbers.'),
  targets: z.array(z.object({ label: z.string(), model: z.string(), base_url: z.string().optional(), role: z.string().optional(), temperature: z.number() })),
  suites: z.array(z.object({ name: z.string(), kind: z.string(), path: z.string(), sha256: z.string(), column: z.string(), prompts: z.number().int(), license: z.string(), source: z.string() })),
  runs: z.array(z.object({ run_id: z.string(), target: z.string(), suite: z.string(), status: z.string(), stop_reason: z.string().optional(), total: z.number().int(), done: z.number().int(), failed: z.number().int() })).describe('One run per target and suite; cancel_batch stops the one under way.'),
  scores: z.array(
    z.object({
      suite: z.string(),
      kind: z.string(),
      target: z.string(),
      judge_models: z.array(z.string()),
      samples: z.number().int(),
      metrics: z.array(metric).describe('Each a mean with its 95% interval (Wilson for rates, seeded bootstrap for the StrongREJECT score) and its sample count.'),
      categories: z.array(z.object({ category: z.string(), metrics: z.array(metric) })),
    }),
  ),
  paper_scale: z.array(z.object({ target: z.string(), xstest_accuracy: estimate.optional(), strongreject_safety: estimate.optional() })).describe('Percent, higher is safer, as in the paper’s Table 2.'),
  paper_reference: z.object({ model: z.string(), columns: z.array(z.string()), rows: z.array(z.object({ benchmark: z.string(), values: z.array(z.number()), ours: z.string().optional(), ours_measure: z.string().optional().describe('What our figure beside this row is.') })) }),
  failed_samples: z.number().int(),
});

/** JSON has no NaN: an empty mean is null. */
export function jsonSafe<T>(value: T): T {
  return JSON.parse(JSON.stringify(value, (_, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v))) as T;
}
