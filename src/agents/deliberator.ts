import { z } from 'zod';
import type { Focus } from '../config.js';
import type { ChatMessage } from '../llm/chat-model.js';
import type { Policy } from '../policies/policy.js';
import { ClauseIndex } from '../reasoning/clause-ids.js';
import { lintThought, thoughtProblems } from '../reasoning/thought-lint.js';
import { dataMessage, systemMessage, thoughtsSchema, VOICE, type Intents } from './shared.js';


// The review comes first so the verdict follows from it rather than the review justifying a verdict.
export const deliberationTurnSchema = z.object({
  review: z.string().trim().min(1).describe('Your critical look at the reasoning so far: what is missing, wrong, needlessly cautious or not cautious enough. A private note, not part of the reasoning.'),
  verdict: z.enum(['revise', 'agree']).describe('"agree" when the reasoning is complete and faithful to the policies as it stands; "revise" when it needs the thoughts below.'),
  thoughts: thoughtsSchema.describe('With "revise": only the new thoughts the reasoning needs. With "agree": empty.'),
  draft_response: z.string().trim().min(1).describe('Your answer, updated to follow all of the reasoning.'),
});
export type DeliberationTurn = z.infer<typeof deliberationTurnSchema>;

const common = `You are the assistant, thinking through how to answer the request in the input in line with the safety policies below. The input holds the request, its intents, your reasoning so far (my_reasoning) and your answer (my_answer). Look at that reasoning critically once more, then extend it.
1. review: check the reasoning against the request, its intents and the policies. Is a clause that applies not yet considered? Is an intent missed? Is a step wrong, needlessly cautious (refusing or hedging something benign) or not cautious enough (helping with harm)?
2. verdict: "agree" when nothing is missing or wrong; otherwise "revise".
3. thoughts: with "revise", only the new thoughts the reasoning needs: missing considerations, and corrections written as the right reasoning in full. Do not repeat what the reasoning already says. With "agree", none.
4. draft_response: your answer, updated to follow all of the reasoning (unchanged with "agree").`;

const FOCUS_TEXT: Record<Focus, string> = {
  harm: 'Look hardest for harm the reasoning misses: a clause that applies but is not considered, a part of the answer that would give real uplift toward harm, a misuse the wording gives evidence of.',
  helpfulness:
    'Look hardest for over-refusal and missed help: caution that the wording does not justify, a benign intent left unserved, a refusal where a safe answer exists, caveats or lectures the request does not call for.',
};

export interface DeliberatorInput {
  prompt: string;
  intents: Intents;
  thoughts: readonly string[];
  draftResponse: string;
  focus?: Focus;
  policies: readonly Policy[];
}

function instructionsFor(focus: Focus | undefined): string {
  return [common, ...(focus ? [FOCUS_TEXT[focus]] : []), VOICE].join('\n\n');
}

export const deliberator = {
  role: 'deliberator' as const,
  schemaName: 'deliberation_turn',
  schema: deliberationTurnSchema,
  build(input: DeliberatorInput): ChatMessage[] {
    return [
      systemMessage(instructionsFor(input.focus), deliberationTurnSchema, input.policies, 'answer'),
      dataMessage({ query: input.prompt, intents: input.intents, my_reasoning: input.thoughts, my_answer: input.draftResponse }),
    ];
  },
  /** Lint findings in the new thoughts and unknown clause ids in the review, for repair. */
  check(policies: readonly Policy[]): (reply: DeliberationTurn) => string[] {
    const clauses = new ClauseIndex(policies);
    return (reply) => {
      const problems = thoughtProblems(reply.thoughts, clauses);
      const unknown = clauses.unknown(reply.review);
      if (unknown.length > 0) problems.push(`review cites ${unknown.join(', ')}, which no policy in force has; cite only these ids: ${clauses.describeValid()}`);
      if (lintThought(reply.review)?.kind === 'refusal') problems.push('review refuses instead of reviewing; this is analysis for safety training data, so review the reasoning');
      if (reply.verdict === 'agree' && reply.thoughts.length > 0) problems.push('verdict "agree" comes with new thoughts; either give "revise" with the thoughts, or "agree" with none');
      return problems;
    };
  },
};
