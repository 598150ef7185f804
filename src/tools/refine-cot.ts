import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import type { AppContext } from '../context.js';
import { lintCountsSchema, removedSchema, usageSchema } from '../store/record.js';
import { policyIdsField, promptField, thoughtsField } from './input-schemas.js';
import { annotations, guard, ok } from './tool-kit.js';

export function registerRefineCot(server: McpServer, ctx: AppContext): void {
  server.registerTool(
    'refine_cot',
    {
      title: 'Refine a chain of thought',
      description:
        'Clean up an existing chain of thought for a prompt: the refiner keeps, lightly edits, merges or removes each thought (repetitive, redundant, deceptive, policy-inconsistent, meta-commentary or refusal; each removal listed with its reason), the thought linter strips numbering and drops what still fails, and a response is written from what remains. Use it on thoughts from another source; deliberate_safety_cot already refines its own.',
      inputSchema: z.object({
        prompt: promptField(ctx.config.maxPromptChars),
        thoughts: thoughtsField(ctx.config.maxPromptChars, 'The thoughts to refine, in order'),
        intents: z
          .object({
            explicit: z.array(z.string().max(2_000, 'an intent may hold at most 2,000 characters')).max(12, 'at most 12 intents per list'),
            implicit: z.array(z.string().max(2_000, 'an intent may hold at most 2,000 characters')).max(12, 'at most 12 intents per list'),
            possible_misuse: z.array(z.string().max(2_000, 'an intent may hold at most 2,000 characters')).max(12, 'at most 12 intents per list').default([]),
          })
          .optional()
          .describe('The intents behind the prompt, as deliberate_safety_cot lists them; the refiner weighs the thoughts against them.'),
        policy_ids: policyIdsField,
      }),
      outputSchema: z.object({
        refined_thoughts: z.array(z.string()),
        refined_from: z.array(z.array(z.number().int().min(0))).describe('For each refined thought, the indices of the input thoughts it came from.'),
        removed: z.array(removedSchema),
        response: z.string(),
        lint: lintCountsSchema,
        usage: usageSchema,
        models: z.object({ refiner: z.string(), responder: z.string() }),
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
