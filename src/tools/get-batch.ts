import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import type { AppContext } from '../context.js';
import { healthOf } from '../pipeline/health.js';
import { RUN_STATUSES } from '../store/run-store.js';
import { isPairOutcome, PairTally, type PairCounts } from '../store/pair-outcome.js';
import type { SampleEvent } from '../store/run-store.js';
import { annotations, guard, InputError, ok } from './tool-kit.js';

export const runIdField = z.string().max(64).regex(/^[a-z0-9][a-z0-9_-]{2,63}$/, 'run_id must be 3–64 lowercase letters, digits, "-" or "_" (as returned by start_batch)');

/** What a client follows a run by; the result also carries token usage, rate, the first failures, batch details and every health figure (pipeline/health.ts). */
const statusSchema = z.object({
  run_id: z.string(),
  status: z.enum(RUN_STATUSES),
  stop_reason: z.string().optional(),
  total: z.number().int(),
  done: z.number().int(),
  failed: z.number().int(),
  pending: z.number().int(),
  cost_usd: z.number().optional(),
  eta_s: z.number().optional(),
  pairs: z.object({ kept: z.number().int(), dropped: z.number().int() }).optional(),
  health: z.object({ verdict: z.string() }).optional().describe('Model fit so far, with a go/no-go verdict.'),
});

export function registerGetBatch(server: McpServer, ctx: AppContext): void {
  server.registerTool(
    'get_batch',
    {
      title: 'Get a dataset run’s status',
      description: 'A dataset run’s progress: samples done, failed and pending, tokens, cost, ETA, first failures.',
      inputSchema: z.object({ run_id: runIdField }),
      outputSchema: statusSchema,
      annotations: annotations.read,
    },
    async ({ run_id }) =>
      guard('get_batch', async () => {
        const live = ctx.batches.get(run_id);
        if (live) {
          const { input: _input, options: _options, ...status } = live.snapshot();
          return ok(status);
        }
        const manifest = await ctx.runs.readManifest(run_id);
        if (!manifest) throw new InputError(`run_id: no run "${run_id}" in this data folder`);
        const progress = await ctx.runs.progress(run_id);
        const interrupted = manifest.status === 'running' && !(await ctx.runs.lockHolder(run_id));
        const { costOf } = await import('../pipeline/batch.js');
        const cost = costOf(progress.usage, ctx.config.prices, manifest.batch_mode !== undefined);
        const pairs = manifest.options.preference ? pairsOf(progress.samples.values()) : undefined;
        return ok({
          run_id,
          status: interrupted ? 'interrupted' : manifest.status,
          ...(manifest.stop_reason ? { stop_reason: manifest.stop_reason } : {}),
          ...(manifest.error ? { error: manifest.error } : {}),
          total: manifest.total,
          done: progress.done,
          failed: progress.failed,
          pending: manifest.total - progress.done,
          usage: progress.usage,
          ...(cost !== undefined ? { cost_usd: cost } : {}),
          created_at: manifest.created_at,
          failures: [...progress.samples.values()].filter((e) => e.s === 'failed').slice(0, 20).map((e) => ({ index: e.i, error: e.error ?? '' })),
          ...(pairs ? { pairs } : {}),
          health: healthOf(progress.health, progress.usage, ctx.config.prices, { batch: manifest.batch_mode !== undefined, ...(pairs ? { pairs } : {}) }),
        });
      }),
  );
}

/** Pairs kept and dropped by reason, from the last line of each sample in a run's log. */
function pairsOf(events: Iterable<SampleEvent>): PairCounts {
  const tally = new PairTally();
  for (const e of events) if (e.s === 'done' && isPairOutcome(e.pair)) tally.add(e.pair);
  return tally.summary();
}
