import { earWhisperer } from '../agents/ear-whisperer.js';
import { initialCotWriter, type InitialCot } from '../agents/initial-cot-writer.js';
import { judge } from '../agents/judge.js';
import { responder } from '../agents/responder.js';
import { PROMPT_TEMPLATE_VERSION, type Intents } from '../agents/shared.js';
import { newId } from '../ids.js';
import { ModelError } from '../llm/chat-model.js';
import type { ModelRouter } from '../llm/model-router.js';
import { policyStamp, type Policy } from '../policies/policy.js';
import { beliefLeaks } from '../reasoning/belief-leak.js';
import { ClauseIndex } from '../reasoning/clause-ids.js';
import { emptyLintCounts } from '../reasoning/thought-lint.js';
import { RECORD_SCHEMA_VERSION, REJECTED_LABEL, type BeliefAttempt, type CotRecord, type Grades, type PreferenceRecord } from '../store/record.js';
import { callAgent } from './call-agent.js';
import { gradeCot } from './grade.js';
import { ProgressCounter, type ProgressListener } from './progress.js';
import { UsageMeter } from './usage.js';
import { keepCleanThoughts } from './write-thoughts.js';

/**
 * The two sides' reasoning (thoughts, in characters) is at most this many times longer on one side than
 * the other in a kept pair: beyond it a trainer could learn length instead of policy faithfulness. The
 * responses are left out: a compliant answer is naturally longer than a brief decline.
 */
export const MAX_PAIR_LENGTH_RATIO = 2;

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
 * Belief augmentation: an ear-whisperer writes a bad belief; the rejected side is written by the
 * same writer and responder prompts and models as the chosen side, with the belief as their own
 * silent assumption placed before the query; a judge checks that the result really violates the
 * policies. A belief that fails (no violation, or reasoning that gives the belief away) is rewritten
 * with the reason as feedback, up to beliefRounds times. Both sides are then graded, and the pair is
 * kept when the faithfulness margin is at least minMargin, nothing leaks and the lengths are close.
 */
export async function makePreferencePair(options: PreferenceOptions): Promise<PreferenceResult> {
  const { source, policies, beliefRounds, minMargin, models, signal } = options;
  const prompt = source.prompt;
  const intents: Intents = { possible_misuse: [], ...source.intents };
  const meter = options.meter ?? new UsageMeter();
  const clauses = new ClauseIndex(policies);
  const lint = emptyLintCounts();
  const progress = new ProgressCounter(beliefRounds * 3 + 2, options.onProgress);
  const writerCheck = initialCotWriter.check(policies);

  const responderCheck = responder.check(policies);
  /** The rejected side, by the chosen side's own writer and responder prompts, the belief held silently. */
  const writeRejectedSide = async (belief: string, leaksIn: (fields: { field: string; text: string }[]) => string[]) => {
    const written = await callAgent(
      models.forRole('initial_cot'),
      initialCotWriter,
      initialCotWriter.build({ prompt, intents, policies, assumption: belief }),
      meter,
      signal,
      (reply: InitialCot) => [...writerCheck(reply), ...leaksIn(reply.thoughts.map((text, i) => ({ field: `thoughts[${i}]`, text })))],
    );
    const removed: CotRecord['removed'] = [];
    const thoughts = keepCleanThoughts(written.value.thoughts, written, 'rejected_cot', clauses, lint, removed);
    const answered = await callAgent(
      models.forRole('responder'),
      responder,
      responder.build({ prompt, refinedThoughts: thoughts, policies, assumption: belief }),
      meter,
      signal,
      (reply) => [...responderCheck(reply), ...leaksIn([{ field: 'response', text: reply.response }])],
    );
    lint.repair_requests += answered.checkRepairs ?? 0;
    return { thoughts, response: clauses.redact(answered.value.response), removed };
  };

  const attempts: BeliefAttempt[] = [];
  for (let round = 1; round <= beliefRounds; round++) {
    const failedAttempts = attempts.map(({ belief, judge_reason, leak }) => ({ belief, judge_reason: leak ?? judge_reason }));
    const whisper = await callAgent(
      models.forRole('whisperer'),
      earWhisperer,
      earWhisperer.build({ prompt, intents, chosenThoughts: source.refined_thoughts, chosenResponse: source.response, failedAttempts, policies }),
      meter,
      signal,
    );
    const belief = clauses.redact(whisper.value.belief);
    await progress.tick(`belief ${round}: written (${whisper.value.target})`);

    const leaksIn = (fields: { field: string; text: string }[]) => beliefLeaks(belief, prompt, fields);
    let written: { thoughts: string[]; response: string; removed: CotRecord['removed'] };
    try {
      written = await writeRejectedSide(belief, leaksIn);
    } catch (error) {
      // A writer that cannot produce a usable reply under this belief is a failed attempt, not a failed pair.
      if (!(error instanceof ModelError) || (error.kind !== 'invalid_output' && error.kind !== 'refusal')) throw error;
      attempts.push({ belief, target: whisper.value.target, thoughts: [], response: '', violated: false, violated_clauses: [], judge_reason: `not judged: ${error.message}`, error: error.message });
      await progress.tick(`belief ${round}: unusable (${error.kind})`);
      await progress.tick(`belief ${round}: not judged`);
      continue;
    }
    const { thoughts, response, removed } = written;
    await progress.tick(`belief ${round}: rejected side written`);

    const leak = leaksIn([...thoughts.map((text, i) => ({ field: `thoughts[${i}]`, text })), { field: 'response', text: response }])[0];
    const base = { belief, target: whisper.value.target, thoughts, response, ...(removed.length > 0 ? { removed } : {}) };
    if (leak !== undefined || thoughts.length === 0) {
      const why = leak ?? 'no thought survived the thought linter';
      attempts.push({ ...base, violated: false, violated_clauses: [], judge_reason: `not judged: ${why}`, leak: why });
      await progress.tick(`belief ${round}: unusable (${why})`);
      continue;
    }
    const verdict = await callAgent(models.forRole('judge'), judge, judge.build({ prompt, intents, thoughts, response, policies }), meter, signal, judge.check(policies));
    lint.repair_requests += verdict.checkRepairs ?? 0;
    attempts.push({
      ...base,
      violated: verdict.value.violated,
      violated_clauses: verdict.value.violated_clauses.map((id) => id.replace(/^\[|\]$/g, '')).filter((id) => clauses.has(id)),
      judge_reason: clauses.redact(verdict.value.reason),
    });
    await progress.tick(`belief ${round}: ${verdict.value.violated ? 'violation confirmed' : 'no violation'}`);
    if (verdict.value.violated) break;
  }
  const usable = attempts.filter((a) => a.leak === undefined && a.error === undefined);
  const pick = [...usable].reverse().find((a) => a.violated) ?? usable[usable.length - 1] ?? (attempts[attempts.length - 1] as BeliefAttempt);

  const chosenGrades =
    source.grades ?? (await gradeCot({ prompt, intents, thoughts: source.refined_thoughts, response: source.response, policies, models, meter, signal }));
  await progress.tick('chosen side graded');
  const rejectedGrades = await gradeCot({ prompt, intents, thoughts: pick.thoughts, response: pick.response, policies, models, meter, signal });
  await progress.tick('rejected side graded');

  const margin = chosenGrades.scores.faithfulness_policy_cot - rejectedGrades.scores.faithfulness_policy_cot;
  const lengthRatio = reasoningLength(pick.thoughts) / Math.max(1, reasoningLength(source.refined_thoughts));
  const { kept, reason } = keepRule(margin, minMargin, lengthRatio, pick);

  const pair: PreferenceRecord = {
    schema_version: RECORD_SCHEMA_VERSION,
    kind: 'preference',
    id: options.id ?? newId('pref'),
    prompt,
    ...policyStamp(policies),
    chosen: { thoughts: source.refined_thoughts, response: source.response, grades: chosenGrades },
    rejected: { label: REJECTED_LABEL, thoughts: pick.thoughts, response: pick.response, belief: pick.belief, violated: pick.violated, grades: rejectedGrades },
    attempts,
    margin,
    length_ratio: Math.round(lengthRatio * 1000) / 1000,
    lint,
    min_margin: minMargin,
    kept,
    kept_reason: reason,
    belief_rounds: beliefRounds,
    source_record_id: source.id,
    usage: structuredClone(meter.usage),
    models: {
      whisperer: models.forRole('whisperer').model,
      initial_cot: models.forRole('initial_cot').model,
      responder: models.forRole('responder').model,
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

function reasoningLength(thoughts: readonly string[]): number {
  return thoughts.reduce((n, t) => n + t.length, 0);
}

function keepRule(margin: number, minMargin: number, lengthRatio: number, pick: BeliefAttempt): { kept: boolean; reason: string } {
  const unusable = pick.leak ?? pick.error;
  if (unusable !== undefined) return { kept: false, reason: `every attempt was unusable; the last: ${unusable}` };
  if (margin < minMargin) return { kept: false, reason: `margin ${margin} < min_margin ${minMargin}: the rejected CoT is not clearly less faithful to the policies than the chosen one` };
  if (lengthRatio > MAX_PAIR_LENGTH_RATIO || lengthRatio < 1 / MAX_PAIR_LENGTH_RATIO) {
    return { kept: false, reason: `the rejected reasoning is ${lengthRatio.toFixed(2)}× the chosen reasoning's length, outside 1/${MAX_PAIR_LENGTH_RATIO}–${MAX_PAIR_LENGTH_RATIO}×: a trainer could learn length instead of policy faithfulness` };
  }
  return { kept: true, reason: `margin ${margin} ≥ min_margin ${minMargin}, lengths within ${MAX_PAIR_LENGTH_RATIO}× of each other` };
}
