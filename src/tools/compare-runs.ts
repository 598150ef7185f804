import { join } from 'node:path';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import { GRADE_METRICS } from '../agents/grader.js';
import type { AppContext } from '../context.js';
import { writeFileAtomic } from '../store/write-file.js';
import { runIdField } from './get-batch.js';
import { annotations, guard, ok } from './tool-kit.js';

const metricSchema = z.object({
  metric: z.enum(GRADE_METRICS),
  mean_a: z.number(),
  mean_b: z.number(),
  difference: z.number().describe('A − B.'),
  ci_low: z.number(),
  ci_high: z.number(),
});

export function registerCompareRuns(server: McpServer, ctx: AppContext): void {
  server.registerTool(
    'compare_runs',
    {
      title: 'Compare two runs',
      description: 'Compare two runs of one prompt file (e.g. aidsafe and baseline), grading ungraded samples first: per metric both means and the paired difference with a 95% bootstrap interval.',
      inputSchema: z.object({
        run_ids: z.tuple([runIdField, runIdField], { error: 'run_ids must hold exactly two run ids' }).describe('A then B.'),
        report: z.boolean().default(true),
      }),
      // The headline numbers; the result also carries wins and losses, categories, the paper's reference, grading runs and the pairs that differ most.
      outputSchema: z.object({
        pairs: z.number().int(),
        graded_pairs: z.number().int(),
        grading_input: z.literal('request').describe('Never intents.'),
        metrics: z.array(metricSchema),
        report: z.string().optional(),
      }),
      annotations: annotations.generate,
    },
    async ({ run_ids, report }, extra) =>
      guard('compare_runs', async () => {
        const { compareRuns } = await import('../compare/compare-runs.js');
        const comparison = await compareRuns(ctx, run_ids, { signal: extra.signal });
        if (!report) return ok(comparison);
        const stamp = new Date().toISOString().replace(/[:.]/g, '-');
        const path = join(ctx.config.dataDir, 'exports', `compare-${run_ids[0]}-${run_ids[1]}-${stamp}.html`);
        const { buildCompareReport } = await import('../report/compare-report.js');
        await writeFileAtomic(path, await buildCompareReport(ctx, comparison));
        return ok({ ...comparison, report: path });
      }),
  );
}
