import { join } from 'node:path';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import type { AppContext } from '../context.js';
import { writeFileAtomic } from '../store/write-file.js';
import { runIdField } from './get-batch.js';
import { annotations, guard, ok } from './tool-kit.js';

export function registerExportReport(server: McpServer, ctx: AppContext): void {
  server.registerTool(
    'export_report',
    {
      title: 'Export a run report',
      description:
        'Write one self-contained HTML report on a dataset run under the data folder’s exports/: done and failed samples, why deliberation stopped, turns per sample, the refiner’s removals by reason, each grade’s distribution, samples by category, tokens and cost, as charts, and a filterable list of samples that opens each deliberation. It needs no network to open.',
      inputSchema: z.object({ run_id: runIdField }),
      outputSchema: z.object({ path: z.string(), samples: z.number().int(), embedded: z.number().int().describe('Samples whose details the file carries (at most 2,000).') }),
      annotations: annotations.local,
    },
    async ({ run_id }) =>
      guard('export_report', async () => {
        const { buildRunReport } = await import('../report/run-report.js');
        const report = await buildRunReport(ctx, run_id);
        const stamp = new Date().toISOString().replace(/[:.]/g, '-');
        const path = join(ctx.config.dataDir, 'exports', `report-${run_id}-${stamp}.html`);
        await writeFileAtomic(path, report.html);
        return ok({ path, samples: report.samples, embedded: report.embedded });
      }),
  );
}
