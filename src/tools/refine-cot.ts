import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import type { AppContext } from '../context.js';
import { refineThoughts } from '../pipeline/refine.js';
import { removedSchema, usageSchema } from '../store/record.js';
import { policyIdsField, promptField, thoughtsField } from './input-schemas.js';
import { annotations, guard, ok } from './tool-kit.js';

export function registerRefineCot(server: McpServer, ctx: AppContext): void {
  server.registerTool(
    'refine_cot',
    {
      title: 'Refine a chain of thought',
      description:
        'Clean up an existing chain of thought for a prompt: remove repetitive, redundant, deceptive and policy-inconsistent thoughts (each removal listed with its reason), then write a response faithful to what remains. Use it on thoughts from another source; deliberate_safety_cot already refines its own.',
      inputSchema: z.object({
        prompt: promptField(ctx.config.maxPromptChars),
        thoughts: thoughtsField(ctx.config.maxPromptChars, 'The thoughts to refine, in order'),
        policy_ids: policyIdsField,
      }),
      outputSchema: z.object({
        refined_thoughts: z.array(z.string()),
        removed: z.array(removedSchema),
        response: z.string(),
        usage: usageSchema,
        models: z.object({ refiner: z.string(), responder: z.string() }),
      }),
      annotations: annotations.generate,
    },
    async ({ prompt, thoughts, policy_ids }, extra) =>
      guard('refine_cot', async () => {
        const policies = ctx.policies.select(policy_ids);
        return ok(await refineThoughts({ prompt, thoughts, policies, models: ctx.models, signal: extra.signal }));
      }),
  );
}
