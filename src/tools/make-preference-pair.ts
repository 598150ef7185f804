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
      title: 'Make a DPO preference pair',
      description:
        'Make a DPO pair for a CoT record (or a prompt deliberated now): written without and with an adversarial belief until a judge finds the rejected side violates the policies. The rejected side is unsafe training data, never advice.',
      inputSchema: z.object({
        record_id: recordIdField.optional().describe('The CoT record to pair.'),
        prompt: promptField(ctx.config.maxPromptChars).optional().describe('Or a prompt to deliberate first.'),
        policy_ids: policyIdsField,
        belief_rounds: z.number().int().min(1, 'belief_rounds must be from 1 to 5').max(5, 'belief_rounds must be from 1 to 5').default(3).describe('Belief attempts.'),
        min_margin: z.number().min(0, 'min_margin must be from 0 to 4').max(4, 'min_margin must be from 0 to 4').default(1).describe('Kept when chosen − rejected faithfulness_policy_cot reaches it.'),
      }),
      // What a client acts on; the result is the whole pair record (both sides, every attempt), as get_record returns it.
      outputSchema: preferenceRecordSchema.pick({ id: true, kept: true, drop_reason: true }).extend({ notice: z.string(), saved: z.boolean(), save_error: z.string().optional() }).loose(),
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
        return answerSaved({ ...pair, notice: NOTICE }, notSaved, 'The pair in structuredContent is');
      }),
  );
}
