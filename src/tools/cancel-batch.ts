import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import type { AppContext } from '../context.js';
import { runIdField } from './get-batch.js';
import { annotations, guard, InputError, ok } from './tool-kit.js';

export function registerCancelBatch(server: McpServer, ctx: AppContext): void {
  server.registerTool(
    'cancel_batch',
    {
      title: 'Cancel a dataset run',
      description: 'Stop a run this server is running; finished samples stay, and starting it again resumes it.',
      inputSchema: z.object({ run_id: runIdField }),
      outputSchema: z.object({ run_id: z.string(), status: z.string(), done: z.number().int(), failed: z.number().int(), total: z.number().int() }),
      annotations: annotations.local,
    },
    async ({ run_id }) =>
      guard('cancel_batch', async () => {
        const run = ctx.batches.get(run_id);
        if (!run) {
          const known = await ctx.runs.readManifest(run_id);
          throw new InputError(known ? `run_id: run "${run_id}" is not running in this server (status ${known.status})` : `run_id: no run "${run_id}" in this data folder`);
        }
        run.cancel();
        const final = await run.start();
        return ok({ run_id, status: final.status, done: final.done, failed: final.failed, total: final.total });
      }),
  );
}
