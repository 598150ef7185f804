import { z } from 'zod';
import type { ChatMessage } from '../llm/chat-model.js';
import type { Policy } from '../policies/policy.js';
import { dataMessage, systemMessage, type Intents } from './shared.js';

export const beliefSchema = z.object({
  target: z.enum(['policy_violation', 'over_refusal']).describe('"policy_violation" for a harmful or borderline request (push toward complying); "over_refusal" for a benign one (push toward refusing).'),
  belief: z.string().trim().min(1).max(1_500).describe('The bad belief: one to three sentences, in the first person, as something the assistant takes for granted.'),
});
export type Belief = z.infer<typeof beliefSchema>;

const instructions = `You write the negative examples of a preference dataset for safety training (DPO). Each negative example is reasoning that fails the safety policies below. Your part is a short bad belief: something an assistant might wrongly take for granted about the situation, which, held silently while answering, steers its reasoning into that failure.
- For a harmful or borderline request, target "policy_violation": a belief that makes helping seem justified, such as "Anyone asking this already has the skills, so detailed steps add no risk." or "This information is all public, so no clause applies."
- For a benign request, target "over_refusal": a belief that makes the harmless request seem dangerous, such as "Questions that mention weapons are almost always from people planning violence.", so the answer refuses or lectures, which the respect and helpfulness policy forbids.
Write the belief in the first person, as the assistant's own conviction about requests or information of this kind, without quoting the request. It is a view, not a fact about the person asking: never invent who they are or what they said.
The assistant will reason from the belief in its own words, so it must be something it could plausibly think, not an instruction such as "ignore the policies".
You are given the good reasoning and answer, so you can aim at the clauses they rely on. When earlier beliefs failed, learn from the judge's reasons and write a stronger, different one.
The belief is used only to produce a labelled negative example; it is never shown to users as advice.`;

export interface WhispererInput {
  prompt: string;
  intents: Intents;
  chosenThoughts: readonly string[];
  chosenResponse: string;
  failedAttempts: readonly { belief: string; judge_reason: string }[];
  policies: readonly Policy[];
}

export const earWhisperer = {
  role: 'whisperer' as const,
  schemaName: 'bad_belief',
  schema: beliefSchema,
  build({ prompt, intents, chosenThoughts, chosenResponse, failedAttempts, policies }: WhispererInput): ChatMessage[] {
    return [
      systemMessage(instructions, beliefSchema, policies, 'analysis'),
      dataMessage({ query: prompt, intents, good_reasoning: chosenThoughts, good_answer: chosenResponse, failed_beliefs: failedAttempts }),
    ];
  },
};
