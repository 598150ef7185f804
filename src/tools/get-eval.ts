import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import type { AppContext } from '../context.js';
import { evalIdField, evalResultSchema, jsonSafe } from './eval-schemas.js';
import { annotations, guard, ok } from './tool-kit.js';

export function registerGetEval(server: McpServer, ctx: AppContext): void {
  server.registerTool(
    'get_eval',
    {
      title: 'Get evaluation results',
      description:
        'An evaluation’s results so far: per target and suite, rates or scores with 95% intervals, also per category and on the paper’s Table 2 scale.',
      inputSchema: z.object({ eval_id: evalIdField }),
      outputSchema: evalResultSchema,
      annotations: annotations.read,
    },
    async ({ eval_id }) =>
      guard('get_eval', async () => {
        const { loadEval } = await import('../eval/eval-result.js');
        const { result, failures } = await loadEval(ctx, eval_id);
        return ok(jsonSafe({ ...result, failed_samples: failures.length }));
      }),
  );
}
