import { join } from 'node:path';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import type { AppContext } from '../context.js';
import { EXPORT_FORMATS, exportDataset } from '../store/export.js';
import { runIdField } from './get-batch.js';
import { annotations, guard, InputError, ok } from './tool-kit.js';

export function registerExportDataset(server: McpServer, ctx: AppContext): void {
  server.registerTool(
    'export_dataset',
    {
      title: 'Export a dataset',
      description:
        'Write stored records as a JSONL file that TRL and the Hugging Face datasets library load as they are: "sft" (conversational messages with the CoT in <think> tags), "dpo" (prompt/chosen/rejected, kept preference pairs only) or "aidsafe" (the public AIDSAFE dataset columns). The file goes under the data folder’s exports/.',
      inputSchema: z.object({
        format: z.enum(EXPORT_FORMATS, { error: `format must be one of ${EXPORT_FORMATS.join(', ')}` }).describe('sft, dpo or aidsafe.'),
        run_id: runIdField.optional().describe('Only this run’s records (default: every record).'),
        min_score: z.number().min(1, 'min_score must be from 1 to 5').max(5, 'min_score must be from 1 to 5').optional().describe('Only records whose six grades are all at least this (1–5); ungraded records are left out.'),
      }),
      outputSchema: z.object({ path: z.string(), count: z.number().int(), skipped: z.object({ below_min_score: z.number().int(), not_kept: z.number().int() }) }),
      annotations: annotations.local,
    },
    async ({ format, run_id, min_score }) =>
      guard('export_dataset', async () => {
        if (run_id && !(await ctx.runs.readManifest(run_id))) throw new InputError(`run_id: no run "${run_id}" in this data folder`);
        const stamp = new Date().toISOString().replace(/[:.]/g, '-');
        const out = join(ctx.config.dataDir, 'exports', `${format}-${run_id ?? 'all'}-${stamp}.jsonl`);
        return ok(await exportDataset(ctx.store, ctx.runs, { format, runId: run_id, minScore: min_score, out }));
      }),
  );
}
