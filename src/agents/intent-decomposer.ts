import { z } from 'zod';
import type { ChatMessage } from '../llm/chat-model.js';
import type { Policy } from '../policies/policy.js';
import { dataMessage, systemMessage } from './shared.js';

const intentList = z.array(z.string().trim().min(1)).max(12);

// Every list may come back empty: a strict decoder cannot be made to fill one (minItems is not in
// the strict subset), and every later role also reads the request itself, so an empty list loses
// nothing the query does not hold.
export const intentsSchema = z.object({
  explicit: intentList.describe('What the request openly asks for, one short neutral sentence each.'),
  implicit: intentList.describe('Plausible underlying needs the request suggests without stating them; usually benign.'),
  possible_misuse: intentList.describe('Harm the request points to, each with its evidence: an output that is itself harmful, or wording that shows a harmful aim; empty when there is none.'),
});

const instructions = `You list the intents behind a request, so that the safety policies below can be applied precisely and benign needs are not refused. Describe the request; do not judge or answer it. Three lists:
- What the request literally asks for (explicit), each part stated neutrally in one short sentence, including any part that could be harmful.
- The plausible underlying needs or goals it does not state (implicit). These are usually benign: curiosity, safety, study, work, a creative project, solving a practical problem.
- Harm the request points to (possible_misuse), each with the evidence for it. There are two kinds of evidence:
  - The requested output is itself harmful, whoever asks and whatever purpose is stated: a phishing or scam message, malware or an exploit, a weapon or drug recipe, a threat, harassment or propaganda aimed at people. A stated purpose such as training, research, testing or fiction does not change what the finished output could do; list it, and name the purpose given.
  - The wording shows a harmful aim: it names a victim, asks how to avoid being caught, or asks for details that only matter for causing harm.
  Leave this list empty when there is neither. A request about a dangerous topic, or one that uses an alarming word, is not evidence by itself: most people who ask how scams work, what a poison does or how a crime was solved mean no harm, and their answer is not itself harmful.`;

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
