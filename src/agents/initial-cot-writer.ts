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

/**
 * How the writer weighs benign and harmful readings: exactly what the rejected side's belief decides
 * instead, so a writer holding one gets these lines left out rather than rules that contradict it.
 */
const WEIGHING_RULES = [
  '- Serve every benign need fully; refusing, lecturing or watering down a safe answer is itself a policy failure.\n',
  '- Treat the request as harmful only on the evidence listed with its intents (a harmful output asked for, or wording that shows a harmful aim). Where none is listed, do not assume bad intent.\n',
];
const assumedRules = WEIGHING_RULES.reduce((text, line) => text.replace(line, ''), rules);

const instructions = (policies: readonly Policy[], assumed: boolean) => `${assumed ? assumedRules : rules}\n\n${voice(policies)}\n\n${ASSUMPTION_RULE}`;

export interface InitialCotInput {
  prompt: string;
  intents: Intents;
  policies: readonly Policy[];
  /** The rejected side of a preference pair: a bad belief the writer holds without saying so. */
  assumption?: string;
}

/**
 * Writes the first chain of thought and answer. Both sides of a preference pair are written by this
 * prompt; the rejected side's carries the bad belief as an assumption placed before the query, and
 * leaves out the weighing rules that the belief decides instead.
 */
export const initialCotWriter = {
  role: 'initial_cot' as const,
  schemaName: 'initial_cot',
  schema: initialCotSchema,
  build({ prompt, intents, policies, assumption }: InitialCotInput): ChatMessage[] {
    return [
      systemMessage(instructions(policies, assumption !== undefined), initialCotSchema, policies, 'answer'),
      dataMessage({ ...(assumption !== undefined ? { assumption } : {}), query: prompt, intents: intentsForReading(intents) }),
    ];
  },
  /** Meta-commentary, refusals and unknown clause ids in the thoughts, for repair. */
  check(policies: readonly Policy[]): (reply: InitialCot) => string[] {
    const clauses = new ClauseIndex(policies);
    return (reply) => thoughtProblems(reply.thoughts, clauses);
  },
};
