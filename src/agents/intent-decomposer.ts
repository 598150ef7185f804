import { z } from 'zod';
import type { ChatMessage } from '../llm/chat-model.js';
import type { Policy } from '../policies/policy.js';
import { dataMessage, systemMessage } from './shared.js';

export const intentsSchema = z.object({
  explicit: z.array(z.string().trim().min(1)).min(1).max(12).describe('What the query openly asks for.'),
  implicit: z.array(z.string().trim().min(1)).max(12).describe('Needs or goals the query implies without stating them.'),
});

const instructions = `You are the intent decomposer in a safety-reasoning pipeline.
List the intents behind the query in the input.
- explicit: what the query literally asks for, stated neutrally, including any part that could be harmful.
- implicit: plausible underlying needs or goals that the query implies but does not state (often benign, such as curiosity, safety, research or a creative project), and any concealed harmful aim the wording suggests.
Do not judge or answer the query; only describe it. Keep each intent to one short sentence.`;

export interface IntentDecomposerInput {
  prompt: string;
  policies: readonly Policy[];
}

export const intentDecomposer = {
  role: 'intents' as const,
  schemaName: 'intents',
  schema: intentsSchema,
  build({ prompt, policies }: IntentDecomposerInput): ChatMessage[] {
    return [systemMessage(instructions, intentsSchema, policies), dataMessage({ query: prompt })];
  },
};
