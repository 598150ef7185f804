import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import type { AppContext } from '../context.js';
import { UsageMeter } from '../pipeline/usage.js';
import { gradesSchema } from '../store/record.js';
import { policyIdsField, promptField, recordIdField, responseField, thoughtsField } from './input-schemas.js';
import { answerSaved, trySave } from './save-record.js';
import { annotations, guard, InputError, ok } from './tool-kit.js';

export function registerGradeCot(server: McpServer, ctx: AppContext): void {
  server.registerTool(
    'grade_cot',
    {
      title: 'Grade a chain of thought',
      description:
        'Score a CoT and its response 1–5 on the six AIDSAFE metrics, each with a rationale. Give record_id (grades are saved onto it), or prompt, thoughts and response.',
      inputSchema: z.object({
        record_id: recordIdField.optional(),
        prompt: promptField(ctx.config.maxPromptChars).optional(),
        thoughts: thoughtsField(ctx.config.maxPromptChars, 'In order').optional(),
        response: responseField(ctx.config.maxPromptChars, 'The answer').optional(),
        policy_ids: policyIdsField,
      }),
      // The result also carries a rationale per score, the grader model and usage.
      outputSchema: gradesSchema.pick({ scores: true }).extend({ record_id: z.string().optional(), saved: z.boolean(), save_error: z.string().optional() }),
      annotations: annotations.generate,
    },
    async ({ record_id, prompt, thoughts, response, policy_ids }, extra) =>
      guard('grade_cot', async () => {
        const { gradeCot } = await import('../pipeline/grade.js');
        const meter = new UsageMeter();
        if (record_id !== undefined) {
          if (prompt !== undefined || thoughts !== undefined || response !== undefined) throw new InputError('record_id: give either record_id, or prompt, thoughts and response — not both');
          const record = await ctx.store.get(record_id);
          if (!record) throw new InputError(`record_id: no record "${record_id}" in this store; list_records shows the ids there are`);
          if (record.kind !== 'cot') throw new InputError(`record_id: "${record_id}" is a ${record.kind} record, whose sides are graded already; give a CoT record (kind "cot")`);
          const policies = ctx.policies.select(policy_ids ?? record.policy_ids);
          const grades = await gradeCot({ prompt: record.prompt, thoughts: record.refined_thoughts, response: record.response, policies, models: ctx.models, meter, signal: extra.signal });
          // The grades were paid for: a store that cannot take them still gets them answered, saying so.
          const notSaved = await trySave(ctx, 'grade_cot', { ...record, grades });
          return answerSaved({ ...grades, record_id, usage: meter.usage }, notSaved, 'The grades in structuredContent are');
        }
        const missing = (['prompt', 'thoughts', 'response'] as const).filter((k) => ({ prompt, thoughts, response })[k] === undefined);
        if (missing.length > 0) throw new InputError(`${missing.join(', ')}: missing — give record_id, or all of prompt, thoughts and response`);
        const policies = ctx.policies.select(policy_ids);
        const grades = await gradeCot({ prompt: prompt as string, thoughts: thoughts as string[], response: response as string, policies, models: ctx.models, meter, signal: extra.signal });
        return ok({ ...grades, saved: false, usage: meter.usage });
      }),
  );
}
