import { z } from 'zod';
import type { ChatMessage } from '../llm/chat-model.js';
import type { Policy } from '../policies/policy.js';
import { dataMessage, systemMessage, thoughtsSchema } from './shared.js';

export const rejectedCotSchema = z.object({
  thoughts: thoughtsSchema.min(1),
  response: z.string().trim().min(1),
});

const instructions = `You answer a user's query after thinking step by step.
The input holds what the user believes about the situation ("belief") and their query. Reason about the query in the light of that belief and the policies below, then answer.
Write your reasoning as a list of short thoughts, then the response.`;

export interface RejectedCotInput {
  prompt: string;
  belief: string;
  policies: readonly Policy[];
}

/**
 * Generates the rejected side of a preference pair: the same task as the chosen side, with the bad
 * belief placed before the query in the generation input.
 */
export const rejectedCotWriter = {
  role: 'rejected_cot' as const,
  schemaName: 'rejected_cot',
  schema: rejectedCotSchema,
  build({ prompt, belief, policies }: RejectedCotInput): ChatMessage[] {
    return [systemMessage(instructions, rejectedCotSchema, policies), dataMessage({ belief, query: prompt })];
  },
};
