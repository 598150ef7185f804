import { z } from 'zod';
import type { ChatMessage } from '../llm/chat-model.js';
import type { Policy } from '../policies/policy.js';
import { dataMessage, systemMessage, thoughtsSchema, type Intents } from './shared.js';

export const deliberationTurnSchema = z.object({
  verdict: z.enum(['revise', 'agree']).describe('"agree" when the thoughts are complete and policy-faithful as they stand; "revise" when you add or correct thoughts.'),
  thoughts: thoughtsSchema.describe('New or corrected thoughts this turn adds; empty when agreeing.'),
  draft_response: z.string().trim().min(1).describe('The draft response, updated to follow the thoughts.'),
});
export type DeliberationTurn = z.infer<typeof deliberationTurnSchema>;

const instructions = `You are one of several deliberation agents in a safety-reasoning pipeline. Agents take turns reviewing a chain of thought.
Review the current thoughts and draft response against the query, its intents and the safety policies:
- Is every relevant policy clause considered, with its id? Is any intent missed?
- Is any thought wrong, over-cautious (refusing something benign), under-cautious (helping with harm) or unsupported?
If something is missing or wrong, answer with verdict "revise", give the new or corrected thoughts (a correction names the thought number it corrects), and update the draft response.
If the thoughts are already complete and faithful to the policies, answer with verdict "agree", no new thoughts, and the draft response unchanged.
Do not repeat thoughts that are already there.`;

export interface DeliberatorInput {
  prompt: string;
  intents: Intents;
  thoughts: readonly string[];
  draftResponse: string;
  round: number;
  agent: number;
  agents: number;
  policies: readonly Policy[];
}

export const deliberator = {
  role: 'deliberator' as const,
  schemaName: 'deliberation_turn',
  schema: deliberationTurnSchema,
  build(input: DeliberatorInput): ChatMessage[] {
    return [
      systemMessage(instructions, deliberationTurnSchema, input.policies),
      dataMessage({
        turn: { round: input.round, agent: input.agent, of_agents: input.agents },
        query: input.prompt,
        intents: input.intents,
        thoughts: numbered(input.thoughts),
        draft_response: input.draftResponse,
      }),
    ];
  },
};

export function numbered(thoughts: readonly string[]): string[] {
  return thoughts.map((t, i) => `${i + 1}. ${t}`);
}
