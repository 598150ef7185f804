import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import type { AppContext } from '../context.js';
import { policyIdsField, promptField, thoughtsField } from './input-schemas.js';
import { annotations, guard, ok } from './tool-kit.js';

export function registerRefineCot(server: McpServer, ctx: AppContext): void {
  server.registerTool(
    'refine_cot',
    {
      title: 'Refine a chain of thought',
      description:
        'Refine a chain of thought from elsewhere: each thought is kept, edited, merged or removed (with a reason), then a response is written from what remains.',
      inputSchema: z.object({
        prompt: promptField(ctx.config.maxPromptChars),
        thoughts: thoughtsField(ctx.config.maxPromptChars, 'In order'),
        intents: z
          .object({
            explicit: z.array(z.string().max(2_000, 'an intent may hold at most 2,000 characters')).max(12, 'at most 12 intents per list'),
            implicit: z.array(z.string().max(2_000, 'an intent may hold at most 2,000 characters')).max(12, 'at most 12 intents per list'),
            possible_misuse: z.array(z.string().max(2_000, 'an intent may hold at most 2,000 characters')).max(12, 'at most 12 intents per list').default([]),
          })
          .optional()
          .describe('As deliberate_safety_cot lists them.'),
        policy_ids: policyIdsField,
      }),
      // The result also lists each removal with its reason, the lint counts, usage and models.
      outputSchema: z.object({
        refined_thoughts: z.array(z.string()),
        refined_from: z.array(z.array(z.number().int().min(0))).describe('Input indices of each.'),
        response: z.string(),
      }),
      annotations: annotations.generate,
    },
    async ({ prompt, thoughts, intents, policy_ids }, extra) =>
      guard('refine_cot', async () => {
        const policies = ctx.policies.select(policy_ids);
        const { refineThoughts } = await import('../pipeline/refine.js');
        return ok(await refineThoughts({ prompt, thoughts, intents, policies, models: ctx.models, signal: extra.signal }));
      }),
  );
}
