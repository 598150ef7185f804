import { z } from 'zod';
import type { ChatMessage } from '../llm/chat-model.js';
import type { Policy } from '../policies/policy.js';
import { dataMessage, systemMessage, thoughtsSchema, type Intents } from './shared.js';

export const initialCotSchema = z.object({
  thoughts: thoughtsSchema.min(1).describe('Reasoning steps, in order.'),
  draft_response: z.string().trim().min(1).describe('A first answer to the query that follows the thoughts.'),
});

const instructions = `You write the initial chain of thought in a safety-reasoning pipeline.
Given the query and its intents, reason step by step about how to answer it in line with the safety policies:
- Decide, intent by intent, which policy clauses apply and what they allow or forbid, citing clause ids.
- Serve the benign intents fully; the respect and helpfulness policy forbids needless refusals and lectures.
- Where an intent is harmful, decide what to decline and what safe help to offer instead.
Each thought is one self-contained step. Then write a draft response that follows the thoughts.`;

export interface InitialCotInput {
  prompt: string;
  intents: Intents;
  policies: readonly Policy[];
}

export const initialCotWriter = {
  role: 'initial_cot' as const,
  schemaName: 'initial_cot',
  schema: initialCotSchema,
  build({ prompt, intents, policies }: InitialCotInput): ChatMessage[] {
    return [systemMessage(instructions, initialCotSchema, policies), dataMessage({ query: prompt, intents })];
  },
};
