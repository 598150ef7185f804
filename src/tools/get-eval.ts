import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import type { AppContext } from '../context.js';
import { evalIdField, evalResultSchema, jsonSafe } from './eval-schemas.js';
import { annotations, guard, ok } from './tool-kit.js';

export function registerGetEval(server: McpServer, ctx: AppContext): void {
  server.registerTool(
    'get_eval',
    {
      title: 'Get a safety evaluation’s results',
      description:
        'The state and numbers of an evaluation started by start_eval (or the CLI): per target and suite, the XSTest over-refusal and unsafe-compliance rates, the StrongREJECT mean score, or the safe-response rate, each with its 95% interval, sample count and judge model; the same per category; our numbers on the paper’s Table 2 scale beside its Qwen2.5-7B rows. Numbers cover the samples judged so far.',
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
