import { GRADE_METRICS, grader } from '../agents/grader.js';
import type { ModelRouter } from '../llm/model-router.js';
import type { Policy } from '../policies/policy.js';
import { ClauseIndex } from '../reasoning/clause-ids.js';
import type { Grades } from '../store/record.js';
import { callAgent } from './call-agent.js';
import type { UsageMeter } from './usage.js';

/**
 * The six AIDSAFE auto-grader scores of one CoT and response, from the request, the reasoning and the
 * answer alone: never the sample's intents, which only an AIDSAFE sample has (its own first stage's
 * reading of the request), so every recipe's samples are graded on the same input.
 */
export async function gradeCot(options: {
  prompt: string;
  thoughts: readonly string[];
  response: string;
  policies: readonly Policy[];
  models: ModelRouter;
  meter: UsageMeter;
  signal?: AbortSignal;
}): Promise<Grades> {
  const { prompt, thoughts, response, policies, models, meter, signal } = options;
  const result = await callAgent(models.forRole('grader'), grader, grader.build({ prompt, thoughts, response, policies }), meter, signal, grader.check(policies));
  const clauses = new ClauseIndex(policies);
  const scores = {} as Grades['scores'];
  const rationales = {} as Grades['rationales'];
  for (const metric of GRADE_METRICS) {
    scores[metric] = result.value[metric].score;
    rationales[metric] = clauses.redact(result.value[metric].rationale);
  }
  return { scores, rationales, grader_model: result.model, graded_at: new Date().toISOString(), input: 'request' };
}
