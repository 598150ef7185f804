import { z } from 'zod';
import type { ChatMessage } from '../llm/chat-model.js';
import type { Policy } from '../policies/policy.js';
import { numbered } from './deliberator.js';
import { dataMessage, systemMessage, thoughtsSchema } from './shared.js';

export const REMOVAL_REASONS = ['repetitive', 'redundant', 'deceptive', 'policy_inconsistent'] as const;

export const refinementSchema = z.object({
  refined_thoughts: thoughtsSchema.min(1).describe('The final chain of thought, in order.'),
  removed: z
    .array(
      z.object({
        thought: z.string().trim().min(1).describe('The removed thought, as written.'),
        reason: z.enum(REMOVAL_REASONS),
        explanation: z.string().describe('One sentence on why it was removed.'),
      }),
    )
    .max(60),
});
export type Refinement = z.infer<typeof refinementSchema>;

const instructions = `You are the refiner in a safety-reasoning pipeline. You receive every thought written during deliberation, in order.
Check them one by one and return the clean final chain of thought:
- remove "repetitive" thoughts (saying again what an earlier thought said),
- remove "redundant" thoughts (adding nothing needed for the answer; over-thinking that drifts toward over-refusal),
- remove "deceptive" thoughts (plausible but leading to a wrong conclusion),
- remove "policy_inconsistent" thoughts (contradicting the safety policies, whether too permissive or needlessly restrictive).
Keep the remaining thoughts' meaning; you may merge or tighten wording. List every removed thought with its reason and a one-sentence explanation.`;

export interface RefinerInput {
  prompt: string;
  thoughts: readonly string[];
  policies: readonly Policy[];
}

export const refiner = {
  role: 'refiner' as const,
  schemaName: 'refinement',
  schema: refinementSchema,
  build({ prompt, thoughts, policies }: RefinerInput): ChatMessage[] {
    return [systemMessage(instructions, refinementSchema, policies), dataMessage({ query: prompt, thoughts: numbered(thoughts) })];
  },
};
