import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import type { AppContext } from '../context.js';
import { cotRecordSchema } from '../store/record.js';
import { policyIdsField, promptField, recipeField } from './input-schemas.js';
import { saveAndReturn } from './save-record.js';
import { annotations, guard, progressFor, withDeliberationView } from './tool-kit.js';

export function registerDeliberateSafetyCot(server: McpServer, ctx: AppContext): void {
  server.registerTool(
    'deliberate_safety_cot',
    {
      title: 'Deliberate a safety chain of thought',
      description:
        'Reason about one prompt under the safety policies by AIDSAFE deliberation (intents, agents revising a chain of thought, refinement, a response): to see how a prompt should be handled, or to make a training sample.',
      inputSchema: z.object({
        prompt: promptField(ctx.config.maxPromptChars),
        policy_ids: policyIdsField,
        recipe: recipeField,
        agents: z.number().int().min(1, 'agents must be from 1 to 8').max(8, 'agents must be from 1 to 8').default(2),
        max_rounds: z.number().int().min(1, 'max_rounds must be from 1 to 10').max(10, 'max_rounds must be from 1 to 10').default(3).describe('Up to agents × max_rounds turns.'),
        save: z.boolean().default(true).describe('Store the record.'),
      }),
      // What a client acts on; the result is the whole record (the deliberation view draws every turn), as get_record returns it.
      outputSchema: cotRecordSchema
        .pick({ id: true, stop_reason: true, refined_thoughts: true, response: true })
        .extend({ saved: z.boolean(), save_error: z.string().optional() })
        .loose(),
      annotations: annotations.generate,
      _meta: withDeliberationView,
    },
    async ({ prompt, policy_ids, recipe, agents, max_rounds, save }, extra) =>
      guard('deliberate_safety_cot', async () => {
        const policies = ctx.policies.select(policy_ids);
        const record =
          recipe === 'baseline'
            ? await (await import('../pipeline/baseline.js')).writeBaseline({ prompt, policies, models: ctx.models, signal: extra.signal })
            : await (await import('../pipeline/deliberate.js')).deliberate({ prompt, policies, agents, maxRounds: max_rounds, models: ctx.models, signal: extra.signal, onProgress: progressFor(extra) });
        return saveAndReturn(ctx, 'deliberate_safety_cot', record, save);
      }),
  );
}
