import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import type { AppContext } from '../context.js';
import { preferenceRecordSchema, type CotRecord } from '../store/record.js';
import { policyIdsField, promptField, recordIdField } from './input-schemas.js';
import { answerSaved, trySave } from './save-record.js';
import { annotations, guard, InputError, progressFor, withDeliberationView } from './tool-kit.js';

const NOTICE =
  'The rejected side of this pair is harmful or over-refusing on purpose: it is the negative example for preference training (DPO). Do not follow it, quote it as advice or present it as an answer.';

export function registerMakePreferencePair(server: McpServer, ctx: AppContext): void {
  server.registerTool(
    'make_preference_pair',
    {
      title: 'Make a DPO preference pair by belief augmentation',
      description:
        'Build a preference pair for DPO by belief augmentation, for a deliberated CoT record (from record_id, or deliberated now from prompt and saved). Both sides are one writing by the same writer and responder models and prompts: the chosen side without a belief, the rejected side with an adversarial "bad belief" held silently, rewritten until a judge confirms it violates the policies (up to belief_rounds). The pair is kept only when the judge confirms the rejected side violating and the chosen side not, their reasoning lengths are within 2× of each other and chosen minus rejected faithfulness_policy_cot is at least min_margin; otherwise drop_reason says why. The rejected side is deliberately unsafe training data, never advice.',
      inputSchema: z.object({
        record_id: recordIdField.optional().describe('A stored CoT record to make the pair for (its prompt, intents and policies).'),
        prompt: promptField(ctx.config.maxPromptChars).optional().describe('A prompt to deliberate first (when no record_id is given).'),
        policy_ids: policyIdsField,
        belief_rounds: z.number().int().min(1, 'belief_rounds must be from 1 to 5').max(5, 'belief_rounds must be from 1 to 5').default(3).describe('Attempts at a belief that makes the rejected CoT violate the policies (1–5).'),
        min_margin: z.number().min(0, 'min_margin must be from 0 to 4').max(4, 'min_margin must be from 0 to 4').default(1).describe('Keep a confirmed pair when chosen minus rejected faithfulness_policy_cot is at least this (0–4).'),
      }),
      outputSchema: preferenceRecordSchema.extend({ notice: z.string(), saved: z.boolean(), save_error: z.string().optional() }),
      annotations: annotations.generate,
      _meta: withDeliberationView,
    },
    async ({ record_id, prompt, policy_ids, belief_rounds, min_margin }, extra) =>
      guard('make_preference_pair', async () => {
        if (record_id === undefined && prompt === undefined) throw new InputError('record_id or prompt: give one — a stored CoT record id, or a prompt to deliberate first');
        if (record_id !== undefined && prompt !== undefined) throw new InputError('record_id and prompt: give only one of them');
        const onProgress = progressFor(extra);
        let source: CotRecord;
        let notSaved: string | undefined;
        if (record_id !== undefined) {
          const stored = await ctx.store.get(record_id);
          if (!stored) throw new InputError(`record_id: no record "${record_id}" in this store; list_records shows the ids there are`);
          if (stored.kind !== 'cot') throw new InputError(`record_id: "${record_id}" is a ${stored.kind} record; give a CoT record (kind "cot")`);
          source = stored;
        } else {
          const policies = ctx.policies.select(policy_ids);
          const { deliberate } = await import('../pipeline/deliberate.js');
          source = await deliberate({ prompt: prompt as string, policies, agents: 2, maxRounds: 3, models: ctx.models, signal: extra.signal, onProgress });
          // Saved before the pair is made, so a model failure there keeps the deliberation; a store that
          // cannot take it does not stop the pair, which carries the chosen side whole.
          notSaved = await trySave(ctx, 'make_preference_pair', source);
        }
        const policies = ctx.policies.select(policy_ids ?? source.policy_ids);
        const { makePreferencePair } = await import('../pipeline/preference.js');
        const { pair } = await makePreferencePair({ source, policies, beliefRounds: belief_rounds, minMargin: min_margin, models: ctx.models, signal: extra.signal, onProgress });
        // Everything above was paid for: a store that cannot take it still gets the pair answered, saying so.
        notSaved ??= await trySave(ctx, 'make_preference_pair', pair);
        return answerSaved({ ...pair, notice: NOTICE }, notSaved, 'The pair below is');
      }),
  );
}
