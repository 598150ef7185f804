import { z } from 'zod';
import type { ChatMessage } from '../llm/chat-model.js';
import type { Policy } from '../policies/policy.js';
import { dataMessage, systemMessage } from './shared.js';

const intentList = z.array(z.string().trim().min(1)).max(12);

export const intentsSchema = z.object({
  explicit: intentList.min(1).describe('What the request openly asks for, one short neutral sentence each.'),
  implicit: intentList.describe('Plausible underlying needs the request suggests without stating them; usually benign.'),
  possible_misuse: intentList.describe('A harmful aim, only where the wording itself gives evidence of it, with that evidence; empty otherwise.'),
});

const instructions = `You list the intents behind a request, so that the safety policies below can be applied precisely and benign needs are not refused.
- explicit: what the request literally asks for, each stated neutrally in one short sentence, including any part that could be harmful.
- implicit: the plausible underlying needs or goals behind the request that it does not state. These are usually benign: curiosity, safety, study, work, a creative project, solving a practical problem.
- possible_misuse: a harmful aim only where the wording itself gives evidence of it, such as naming a victim, asking how to avoid being caught, or asking for details that only matter for causing harm; say what that evidence is. Leave this list empty when the wording gives none: an alarming topic or word is not evidence, and most people who ask about dangerous topics mean no harm.
Describe the request; do not judge or answer it.`;

export interface IntentDecomposerInput {
  prompt: string;
  policies: readonly Policy[];
}

export const intentDecomposer = {
  role: 'intents' as const,
  schemaName: 'intents',
  schema: intentsSchema,
  build({ prompt, policies }: IntentDecomposerInput): ChatMessage[] {
    return [systemMessage(instructions, intentsSchema, policies, 'analysis'), dataMessage({ query: prompt })];
  },
};
