import { z } from 'zod';
import type { ChatMessage } from '../llm/chat-model.js';
import type { Policy } from '../policies/policy.js';
import { ClauseIndex } from '../reasoning/clause-ids.js';
import { thoughtProblems } from '../reasoning/thought-lint.js';
import { ASSUMPTION_RULE, dataMessage, systemMessage, thoughtsSchema, VOICE, type Intents } from './shared.js';

export const initialCotSchema = z.object({
  thoughts: thoughtsSchema.min(1).describe('Your reasoning, one step per thought, in order.'),
  draft_response: z.string().trim().min(1).describe('Your answer to the request, following the reasoning.'),
});
export type InitialCot = z.infer<typeof initialCotSchema>;

const instructions = `You are the assistant, about to answer the request in the input. First think through how to answer it well and in line with the safety policies below, then write your answer.
- Take the intents one at a time: which policy clauses apply, and what they allow or forbid.
- Serve every benign intent fully; refusing, lecturing or watering down a safe answer is itself a policy failure.
- Weigh possible_misuse only on the evidence it names; where it is empty, do not assume bad intent.
- Where part of the request must be declined, decide exactly which part, and what safe help to give instead.
- End with what the answer will contain.

${VOICE}

${ASSUMPTION_RULE}`;

/**
 * How the writer weighs benign and harmful readings: exactly what the rejected side's belief decides
 * instead, so a writer holding one gets these lines left out rather than rules that contradict it.
 */
const WEIGHING_RULES = [
  '- Serve every benign intent fully; refusing, lecturing or watering down a safe answer is itself a policy failure.\n',
  '- Weigh possible_misuse only on the evidence it names; where it is empty, do not assume bad intent.\n',
];
const assumedInstructions = WEIGHING_RULES.reduce((text, line) => text.replace(line, ''), instructions);

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
      systemMessage(assumption !== undefined ? assumedInstructions : instructions, initialCotSchema, policies, 'answer'),
      dataMessage({ ...(assumption !== undefined ? { assumption } : {}), query: prompt, intents }),
    ];
  },
  /** Meta-commentary, refusals and unknown clause ids in the thoughts, for repair. */
  check(policies: readonly Policy[]): (reply: InitialCot) => string[] {
    const clauses = new ClauseIndex(policies);
    return (reply) => thoughtProblems(reply.thoughts, clauses);
  },
};
