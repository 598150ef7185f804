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
        'Write an offline HTML report of a dataset run: outcomes, turns, removals, grades, cost, and each sample’s deliberation.',
      inputSchema: z.object({ run_id: runIdField }),
      outputSchema: z.object({ path: z.string(), samples: z.number().int() }),
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
