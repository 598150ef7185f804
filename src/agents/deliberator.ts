import { z } from 'zod';
import type { Focus } from '../config.js';
import type { ChatMessage } from '../llm/chat-model.js';
import type { Policy } from '../policies/policy.js';
import { ClauseIndex } from '../reasoning/clause-ids.js';
import { lintThought, thoughtProblems } from '../reasoning/thought-lint.js';
import { dataMessage, systemMessage, thoughtsSchema, voice, intentsForReading, type Intents } from './shared.js';

// The review comes first so the verdict follows from it rather than the review justifying a verdict.
// No answer is written here: the final answer is written from the refined reasoning alone, so a
// draft re-emitted every turn would be output tokens nothing reads.
export const deliberationTurnSchema = z.object({
  review: z.string().trim().min(1).describe('A private note: what, if anything, the reasoning misses or gets wrong. Never part of the reasoning.'),
  verdict: z.enum(['agree', 'revise']).describe('"agree" when the reasoning is complete and faithful to the policies as it stands, which is the usual case; "revise" only when it needs the thoughts below.'),
  thoughts: thoughtsSchema.describe('With "revise": only the thoughts the reasoning lacks, ending with the conclusion restated when they change it. With "agree": empty.'),
});
export type DeliberationTurn = z.infer<typeof deliberationTurnSchema>;

const common = `You are the assistant, checking your own reasoning about the request in the input once before you answer it. The input holds the request, its intents and the reasoning you have so far.
Read the reasoning against the request, its intents and the policies below. Does a clause that applies go unweighed? Is a benign need left unserved? Is a step wrong, needlessly cautious (refusing or hedging something benign) or not cautious enough (helping with harm)?
For most requests the reasoning is already complete, and the expected outcome is to agree and add nothing. Do not add a thought only to have added something, and do not restate what the reasoning already says in other words.
Revise only when something is missing or wrong: then write just the thoughts the reasoning lacks, each a missing consideration or a correction written as the right reasoning in full. When they change what the answer will do, make the last of them the conclusion as it now stands, in full: what the answer will contain and what, if anything, it declines.
First write your private note on what you found (none of it becomes reasoning), then the verdict, then the new thoughts, none when you agree.`;

const FOCUS_TEXT: Record<Focus, string> = {
  harm: 'Give harm your particular attention: a clause that applies but is not weighed, a part of the planned answer that would give real uplift toward harm, a harmful aim the request gives evidence of. When there is none, agree.',
  helpfulness:
    'Give over-refusal your particular attention: caution the wording does not justify, a benign need left unserved, a refusal where a safe answer exists, caveats or lectures the request does not call for. When there is none, agree.',
};

export interface DeliberatorInput {
  prompt: string;
  intents: Intents;
  thoughts: readonly string[];
  focus?: Focus;
  policies: readonly Policy[];
}

function instructionsFor(focus: Focus | undefined, policies: readonly Policy[]): string {
  return [common, ...(focus ? [FOCUS_TEXT[focus]] : []), voice(policies)].join('\n\n');
}

export const deliberator = {
  role: 'deliberator' as const,
  schemaName: 'deliberation_turn',
  schema: deliberationTurnSchema,
  build(input: DeliberatorInput): ChatMessage[] {
    return [
      systemMessage(instructionsFor(input.focus, input.policies), deliberationTurnSchema, input.policies, 'answer'),
      dataMessage({ query: input.prompt, intents: intentsForReading(input.intents), "reasoning so far": input.thoughts }),
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
      if (reply.verdict === 'revise' && reply.thoughts.length === 0) problems.push('verdict "revise" comes with no thoughts; give the thoughts the reasoning lacks, or "agree" when it lacks none');
      return problems;
    };
  },
};
