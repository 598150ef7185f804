import { earWhisperer } from '../agents/ear-whisperer.js';
import { judge } from '../agents/judge.js';
import { rejectedCotWriter } from '../agents/rejected-cot-writer.js';
import { PROMPT_TEMPLATE_VERSION } from '../agents/shared.js';
import { newId } from '../ids.js';
import type { ModelRouter } from '../llm/model-router.js';
import { policyStamp, type Policy } from '../policies/policy.js';
import { RECORD_SCHEMA_VERSION, REJECTED_LABEL, type BeliefAttempt, type CotRecord, type Grades, type PreferenceRecord } from '../store/record.js';
import { callAgent } from './call-agent.js';
import { gradeCot } from './grade.js';
import { ProgressCounter, type ProgressListener } from './progress.js';
import { UsageMeter } from './usage.js';

export interface PreferenceOptions {
  /** The chosen side: a CoT record's refined thoughts and response. */
  source: CotRecord;
  policies: Policy[];
  beliefRounds: number;
  minMargin: number;
  models: ModelRouter;
  signal?: AbortSignal;
  onProgress?: ProgressListener;
  id?: string;
  meter?: UsageMeter;
}

export interface PreferenceResult {
  pair: PreferenceRecord;
  /** Grades made for the chosen side when the source had none; the caller saves them onto the source. */
  chosenGrades: Grades;
}

/**
 * Belief augmentation: an ear-whisperer writes a bad belief, the rejected CoT is generated with it
 * placed before the query, and a judge checks that the result really violates the policies; a failed
 * belief is rewritten with the judge's reason as feedback, up to beliefRounds times. Both sides are
 * then graded, and the pair is kept when the faithfulness margin is at least minMargin.
 */
export async function makePreferencePair(options: PreferenceOptions): Promise<PreferenceResult> {
  const { source, policies, beliefRounds, minMargin, models, signal } = options;
  const prompt = source.prompt;
  const meter = options.meter ?? new UsageMeter();
  const progress = new ProgressCounter(beliefRounds * 3 + 2, options.onProgress);

  const attempts: BeliefAttempt[] = [];
  for (let round = 1; round <= beliefRounds; round++) {
    const failedAttempts = attempts.map(({ belief, judge_reason }) => ({ belief, judge_reason }));
    const whisper = await callAgent(
      models.forRole('whisperer'),
      earWhisperer,
      earWhisperer.build({ prompt, chosenThoughts: source.refined_thoughts, chosenResponse: source.response, failedAttempts, policies }),
      meter,
      signal,
    );
    await progress.tick(`belief ${round}: written (${whisper.value.target})`);
    const rejected = await callAgent(models.forRole('rejected_cot'), rejectedCotWriter, rejectedCotWriter.build({ prompt, belief: whisper.value.belief, policies }), meter, signal);
    await progress.tick(`belief ${round}: rejected CoT generated`);
    const verdict = await callAgent(
      models.forRole('judge'),
      judge,
      judge.build({ prompt, thoughts: rejected.value.thoughts, response: rejected.value.response, policies }),
      meter,
      signal,
    );
    attempts.push({
      belief: whisper.value.belief,
      target: whisper.value.target,
      violated: verdict.value.violated,
      violated_clauses: verdict.value.violated_clauses,
      judge_reason: verdict.value.reason,
      thoughts: rejected.value.thoughts,
      response: rejected.value.response,
    });
    await progress.tick(`belief ${round}: ${verdict.value.violated ? 'violation confirmed' : 'no violation'}`);
    if (verdict.value.violated) break;
  }
  const last = attempts[attempts.length - 1] as BeliefAttempt;

  const chosenGrades =
    source.grades ?? (await gradeCot({ prompt, thoughts: source.refined_thoughts, response: source.response, policies, models, meter, signal }));
  await progress.tick('chosen side graded');
  const rejectedGrades = await gradeCot({ prompt, thoughts: last.thoughts, response: last.response, policies, models, meter, signal });
  await progress.tick('rejected side graded');

  const margin = chosenGrades.scores.faithfulness_policy_cot - rejectedGrades.scores.faithfulness_policy_cot;
  const kept = margin >= minMargin;
  const keptReason = kept
    ? `margin ${margin} ≥ min_margin ${minMargin}`
    : `margin ${margin} < min_margin ${minMargin}: the rejected CoT is not clearly less faithful to the policies than the chosen one`;

  const pair: PreferenceRecord = {
    schema_version: RECORD_SCHEMA_VERSION,
    kind: 'preference',
    id: options.id ?? newId('pref'),
    prompt,
    ...policyStamp(policies),
    chosen: { thoughts: source.refined_thoughts, response: source.response, grades: chosenGrades },
    rejected: { label: REJECTED_LABEL, thoughts: last.thoughts, response: last.response, belief: last.belief, violated: last.violated, grades: rejectedGrades },
    attempts,
    margin,
    min_margin: minMargin,
    kept,
    kept_reason: keptReason,
    belief_rounds: beliefRounds,
    source_record_id: source.id,
    usage: structuredClone(meter.usage),
    models: {
      whisperer: models.forRole('whisperer').model,
      rejected_cot: models.forRole('rejected_cot').model,
      judge: models.forRole('judge').model,
      grader: models.forRole('grader').model,
    },
    prompt_template_version: PROMPT_TEMPLATE_VERSION,
    created_at: new Date().toISOString(),
    ...(source.run_id ? { run_id: source.run_id } : {}),
    ...(source.metadata ? { metadata: source.metadata } : {}),
  };
  return { pair, chosenGrades };
}
