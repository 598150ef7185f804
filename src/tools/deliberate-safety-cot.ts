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
      title: 'Deliberate a policy-embedded chain of thought',
      description:
        'Run the AIDSAFE multi-agent deliberation on one prompt: decompose its intents, write an initial chain of thought against the safety policies, let agents take turns revising it until one agrees or the turn budget is spent, refine it, and write the final response. With recipe "baseline", one model writes the chain of thought and response zero-shot instead (the paper’s comparison; no intents, turns or refinement). Returns the full record (every turn kept) and saves it unless save is false; if the store cannot be written (a full disk), the record is still returned, with saved false and save_error saying why. Use it to see how a prompt should be reasoned about under the policies, or to create one training sample.',
      inputSchema: z.object({
        prompt: promptField(ctx.config.maxPromptChars),
        policy_ids: policyIdsField,
        recipe: recipeField,
        agents: z.number().int().min(1, 'agents must be from 1 to 8').max(8, 'agents must be from 1 to 8').default(2).describe('Deliberation agents taking turns (1–8).'),
        max_rounds: z.number().int().min(1, 'max_rounds must be from 1 to 10').max(10, 'max_rounds must be from 1 to 10').default(3).describe('Rounds of turns; the budget is agents × max_rounds turns (1–10).'),
        save: z.boolean().default(true).describe('Save the record in the local store (default true).'),
      }),
      outputSchema: cotRecordSchema.extend({ saved: z.boolean(), save_error: z.string().optional() }),
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
