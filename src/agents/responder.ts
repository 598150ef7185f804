import { z } from 'zod';
import type { ChatMessage } from '../llm/chat-model.js';
import type { Policy } from '../policies/policy.js';
import { dataMessage, systemMessage } from './shared.js';

export const responseSchema = z.object({
  response: z.string().trim().min(1).describe('The final answer to the query.'),
});

const instructions = `You write the final response in a safety-reasoning pipeline.
Answer the query as the assistant, following the refined chain of thought exactly and the safety policies:
- where the thoughts conclude the request is benign, help fully and directly, without needless warnings;
- where they conclude part of it must be declined, decline that part briefly and offer the safe help they identify.
The response must not contradict the thoughts and must not mention the thoughts, the policies' ids or this pipeline.`;

export interface ResponderInput {
  prompt: string;
  refinedThoughts: readonly string[];
  draftResponse?: string;
  policies: readonly Policy[];
}

export const responder = {
  role: 'responder' as const,
  schemaName: 'response',
  schema: responseSchema,
  build({ prompt, refinedThoughts, draftResponse, policies }: ResponderInput): ChatMessage[] {
    return [
      systemMessage(instructions, responseSchema, policies),
      dataMessage({ query: prompt, refined_thoughts: refinedThoughts, ...(draftResponse ? { draft_response: draftResponse } : {}) }),
    ];
  },
};
