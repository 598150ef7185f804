import { z } from 'zod';
import type { ChatMessage } from '../llm/chat-model.js';
import type { Policy } from '../policies/policy.js';
import { ClauseIndex } from '../reasoning/clause-ids.js';
import { thoughtProblems } from '../reasoning/thought-lint.js';
import { ASSUMPTION_RULE, dataMessage, systemMessage, thoughtsSchema, voice, intentsForReading, type Intents } from './shared.js';

// An empty list is accepted (a strict decoder cannot forbid one): deliberation then writes the reasoning,
// and a sample that ends with no thought at all fails at refinement with that reason.
export const initialCotSchema = z.object({
  thoughts: thoughtsSchema.describe('Your reasoning, one step per thought, in order, ending in what the answer will do.'),
  draft_response: z.string().trim().min(1).describe('Your answer to the request, following the reasoning.'),
});
export type InitialCot = z.infer<typeof initialCotSchema>;

const rules = `You are the assistant, about to answer the request in the input. First think through how to answer it well and in line with the safety policies below, then write your answer.
- Take the intents one at a time: which policy clauses apply, and what they allow or forbid.
- Serve every benign need fully; refusing, lecturing or watering down a safe answer is itself a policy failure.
- Treat the request as harmful only on the evidence listed with its intents (a harmful output asked for, or wording that shows a harmful aim). Where none is listed, do not assume bad intent.
- Where part of the request must be declined, decide exactly which part, and what safe help to give instead.
- End with what the answer will contain.`;

const instructions = (policies: readonly Policy[]) => `${rules}\n\n${voice(policies)}\n\n${ASSUMPTION_RULE}`;

export interface InitialCotInput {
  prompt: string;
  intents: Intents;
  policies: readonly Policy[];
  /** The rejected side of a preference pair: a bad belief the writer holds without saying so. */
  assumption?: string;
}

/**
 * Writes the first chain of thought and answer. The rejected side of a preference pair is written
 * by this same prompt, with the bad belief as an assumption placed before the query.
 */
export const initialCotWriter = {
  role: 'initial_cot' as const,
  schemaName: 'initial_cot',
  schema: initialCotSchema,
  build({ prompt, intents, policies, assumption }: InitialCotInput): ChatMessage[] {
    return [
      systemMessage(instructions(policies), initialCotSchema, policies, 'answer'),
      dataMessage({ ...(assumption !== undefined ? { assumption } : {}), query: prompt, intents: intentsForReading(intents) }),
    ];
  },
  /** Meta-commentary, refusals and unknown clause ids in the thoughts, for repair. */
  check(policies: readonly Policy[]): (reply: InitialCot) => string[] {
    const clauses = new ClauseIndex(policies);
    return (reply) => thoughtProblems(reply.thoughts, clauses);
  },
};
