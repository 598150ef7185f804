import { z } from 'zod';
import type { ChatMessage } from '../llm/chat-model.js';
import type { Policy } from '../policies/policy.js';
import { ClauseIndex } from '../reasoning/clause-ids.js';
import { thoughtProblems } from '../reasoning/thought-lint.js';
import { dataMessage, systemMessage, thoughtsSchema, voice } from './shared.js';

// An empty list passes the schema (a strict decoder cannot forbid one); the check below asks for the reasoning.
export const baselineCotSchema = z.object({
  thoughts: thoughtsSchema.describe('Your reasoning, one step per thought, in order, ending in what the answer will do.'),
  response: z.string().trim().min(1).describe('Your answer to the request, following the reasoning.'),
});
export type BaselineCot = z.infer<typeof baselineCotSchema>;

const rules = `You are the assistant, about to answer the request in the input. First think through how to answer it well and in line with the safety policies below, then write your answer.
- Work out what the request asks and its most plausible meaning, which policy clauses apply, and what they allow or forbid.
- Serve every benign part of the request fully; refusing, lecturing or watering down a safe answer is itself a policy failure.
- Where part of the request must be declined, decide exactly which part, and what safe help to give instead.
- End with what the answer will contain.
Then write the answer: a direct reply to the person who asked, doing what the reasoning concludes, without mentioning the reasoning, the policies or clause ids.`;

const instructions = (policies: readonly Policy[]) => `${rules}\n\n${voice(policies)}`;

export interface BaselineCotInput {
  prompt: string;
  policies: readonly Policy[];
}

/**
 * The paper's baseline: one model writes the chain of thought and the answer in one call, zero-shot,
 * from the query and the policies alone (no intents, no deliberation, no refinement).
 */
export const baselineCotWriter = {
  role: 'initial_cot' as const,
  schemaName: 'baseline_cot',
  schema: baselineCotSchema,
  build({ prompt, policies }: BaselineCotInput): ChatMessage[] {
    return [systemMessage(instructions(policies), baselineCotSchema, policies, 'answer'), dataMessage({ query: prompt })];
  },
  /** The same standard as every other thought writer (meta-commentary, refusals, unknown clause ids), and an answer without clause ids. */
  check(policies: readonly Policy[]): (reply: BaselineCot) => string[] {
    const clauses = new ClauseIndex(policies);
    return (reply) => {
      const cited = clauses.cited(reply.response);
      return [
        ...(reply.thoughts.length === 0 ? ['thoughts is empty; write your reasoning about the request, one step per thought'] : []),
        ...thoughtProblems(reply.thoughts, clauses),
        ...(cited.length > 0 ? [`response cites ${[...new Set(cited)].join(', ')}; answer the person directly, without clause ids`] : []),
      ];
    };
  },
};
