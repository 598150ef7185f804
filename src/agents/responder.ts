import { z } from 'zod';
import type { ChatMessage } from '../llm/chat-model.js';
import type { Policy } from '../policies/policy.js';
import { ClauseIndex } from '../reasoning/clause-ids.js';
import { ASSUMPTION_RULE, dataMessage, systemMessage } from './shared.js';

export const responseSchema = z.object({
  response: z.string().trim().min(1).describe('Your answer to the request.'),
});

const instructions = `You are the assistant. Answer the request in the input. The input also holds your own reasoning about it ("reasoning"), already worked out against the safety policies below: your answer does what that reasoning concludes.
- Where the reasoning concludes the request is benign, help fully and directly, without needless warnings.
- Where it concludes part of the request must be declined, decline that part briefly and plainly, and give the safe help it identifies.
Write a direct reply to the person who asked. Do not mention the reasoning, the policies or clause ids.

${ASSUMPTION_RULE}`;

export interface ResponderInput {
  prompt: string;
  refinedThoughts: readonly string[];
  policies: readonly Policy[];
  /** The rejected side of a preference pair: the same bad belief its thoughts were written under. */
  assumption?: string;
}

/** The final answer, from the refined reasoning and the policies only: no earlier answer is shown. */
export const responder = {
  role: 'responder' as const,
  schemaName: 'response',
  schema: responseSchema,
  build({ prompt, refinedThoughts, policies, assumption }: ResponderInput): ChatMessage[] {
    return [
      systemMessage(instructions, responseSchema, policies, 'answer'),
      dataMessage({ ...(assumption !== undefined ? { assumption } : {}), query: prompt, reasoning: refinedThoughts }),
    ];
  },
  /** The answer is the SFT target: it speaks to the person who asked, without clause ids. */
  check(policies: readonly Policy[]): (reply: z.infer<typeof responseSchema>) => string[] {
    const clauses = new ClauseIndex(policies);
    return (reply) => {
      const cited = clauses.cited(reply.response);
      return cited.length > 0 ? [`response cites ${[...new Set(cited)].join(', ')}; answer the person directly, without clause ids`] : [];
    };
  },
};
