import { join } from 'node:path';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import { GRADE_METRICS } from '../agents/grader.js';
import type { AppContext } from '../context.js';
import { BOOTSTRAP_RESAMPLES, BOOTSTRAP_SEED } from '../stats/bootstrap.js';
import { writeFileAtomic } from '../store/write-file.js';
import { runIdField } from './get-batch.js';
import { annotations, guard, ok } from './tool-kit.js';

const metricSchema = z.object({
  metric: z.enum(GRADE_METRICS),
  mean_a: z.number(),
  mean_b: z.number(),
  difference: z.number().describe('Mean per-pair difference A − B.'),
  ci_low: z.number(),
  ci_high: z.number(),
  wins: z.number().int().describe('Pairs where A scored higher.'),
  ties: z.number().int(),
  losses: z.number().int().describe('Pairs where B scored higher.'),
  n: z.number().int(),
});
const scoresSchema = z.record(z.string(), z.number());

/** 10000 as "10,000" without toLocaleString, whose first call loads ICU's locale data (tens of ms at start). */
function thousands(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+$)/g, ',');
}

export function registerCompareRuns(server: McpServer, ctx: AppContext): void {
  server.registerTool(
    'compare_runs',
    {
      title: 'Compare two runs',
      description: `Put two dataset runs side by side (for example an AIDSAFE run and a baseline run of the same prompt file): samples are paired by prompt, ungraded samples are graded first (as a resumable, cached run; this calls the grader model), then for each of the six grader scores it gives both means, the mean paired difference A − B with a 95% percentile-bootstrap interval (${thousands(BOOTSTRAP_RESAMPLES)} resamples, seed ${BOOTSTRAP_SEED}) and win/tie/loss counts, the same per category when the input has a category column, the paper's Table 1 as a reference, and the pairs that differ most. Writes an HTML report under the data folder's exports/ unless report is false.`,
      inputSchema: z.object({
        run_ids: z.tuple([runIdField, runIdField], { error: 'run_ids must hold exactly two run ids' }).describe('The two runs, A then B (see `aidsafe-mcp runs` or get_batch).'),
        report: z.boolean().default(true).describe('Write the HTML report (default true).'),
      }),
      outputSchema: z.object({
        runs: z.array(z.object({ run_id: z.string(), recipe: z.string(), input: z.string(), samples: z.number().int() })),
        pairs: z.number().int().describe('Prompts both runs have a finished sample for.'),
        graded_pairs: z.number().int(),
        only_in_a: z.number().int(),
        only_in_b: z.number().int(),
        grading: z.array(z.object({ run_id: z.string(), grading_run_id: z.string(), status: z.string(), graded: z.number().int(), failed: z.number().int() })),
        grading_input: z.literal('request').describe('What the grader saw on both sides besides the reasoning and answer: the request alone, never intents. Grades made with intents are made again first.'),
        bootstrap: z.object({ resamples: z.number().int(), seed: z.number().int(), confidence: z.number(), method: z.string() }),
        metrics: z.array(metricSchema),
        category_column: z.string().nullable(),
        categories: z.array(z.object({ category: z.string(), pairs: z.number().int(), metrics: z.array(metricSchema) })),
        reference: z.object({ source: z.string(), a_label: z.string(), b_label: z.string(), metrics: z.array(z.object({ metric: z.string(), a: z.number(), b: z.number(), difference: z.number() })) }),
        top_pairs: z.array(z.object({ prompt: z.string(), category: z.string().nullable(), record_ids: z.tuple([z.string(), z.string()]), scores_a: scoresSchema, scores_b: scoresSchema, distance: z.number() })),
        report: z.string().optional().describe('Path of the HTML report.'),
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
