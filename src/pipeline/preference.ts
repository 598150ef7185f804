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
import { emptyLintCounts, type LintCounts } from '../reasoning/thought-lint.js';
import { MAX_PAIR_LENGTH_RATIO } from '../store/pair-outcome.js';
import { RECORD_SCHEMA_VERSION, REJECTED_LABEL, type BeliefAttempt, type CotRecord, type PairDropReason, type PreferenceRecord } from '../store/record.js';
import { callAgent } from './call-agent.js';
import { gradeCot } from './grade.js';
import { ProgressCounter, type ProgressListener } from './progress.js';
import { UsageMeter } from './usage.js';
import { keepCleanThoughts } from './write-thoughts.js';

export interface PreferenceOptions {
  /** The CoT record the pair is made for: its prompt, intents and policies. */
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
}

interface WrittenSide {
  thoughts: string[];
  response: string;
  removed: CotRecord['removed'];
}

type Leaks = (fields: { field: string; text: string }[]) => string[];

/**
 * Belief augmentation, both sides by one path. The chosen side is one writing by the initial-CoT writer
 * and the responder, without a belief; the rejected side is one writing by the same prompts and models
 * with a bad belief (from the ear-whisperer) held as the writer's own silent view. So the sides differ in
 * the belief only, not in how many stages polished them. The judge checks the chosen side first (a
 * violating chosen side ends the pair at once), then each rejected attempt; a belief that fails (no
 * violation, or reasoning that gives the belief away) is rewritten with the reason as feedback, up to
 * beliefRounds times. A pair is kept only when the judge confirmed both sides, the reasoning lengths are
 * within MAX_PAIR_LENGTH_RATIO of each other and the graded margin is at least minMargin; otherwise it
 * is stored with its `drop_reason`.
 */
export async function makePreferencePair(options: PreferenceOptions): Promise<PreferenceResult> {
  const { source, policies, beliefRounds, minMargin, models, signal } = options;
  const prompt = source.prompt;
  // In the order the record's own writer saw them, so the chosen writing is that very request (a cache hit).
  const intents: Intents = { explicit: source.intents.explicit, implicit: source.intents.implicit, possible_misuse: source.intents.possible_misuse ?? [] };
  const meter = options.meter ?? new UsageMeter();
  const clauses = new ClauseIndex(policies);
  const lint = emptyLintCounts();
  const progress = new ProgressCounter(2 + beliefRounds * 3 + 2, options.onProgress);
  const noLeaks: Leaks = () => [];

  const record = (fields: Partial<PreferenceRecord> & Pick<PreferenceRecord, 'chosen' | 'attempts' | 'kept' | 'kept_reason'>): PreferenceRecord => ({
    schema_version: RECORD_SCHEMA_VERSION,
    kind: 'preference',
    id: options.id ?? newId('pref'),
    prompt,
    ...policyStamp(policies),
    ...fields,
    lint,
    min_margin: minMargin,
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
  });
  const dropped = (reason: PairDropReason, why: string, fields: Pick<PreferenceRecord, 'chosen' | 'attempts'> & Partial<PreferenceRecord>): PreferenceResult => ({
    pair: record({ ...fields, kept: false, kept_reason: why, drop_reason: reason }),
  });
  const judged = async (side: { thoughts: string[]; response: string }) => {
    const verdict = await callAgent(models.forRole('judge'), judge, judge.build({ prompt, intents, thoughts: side.thoughts, response: side.response, policies }), meter, signal, judge.check(policies));
    lint.repair_requests += verdict.checkRepairs ?? 0;
    return {
      violated: verdict.value.violated,
      violated_clauses: verdict.value.violated_clauses.map((id) => id.replace(/^\[|\]$/g, '')).filter((id) => clauses.has(id)),
      reason: clauses.redact(verdict.value.reason),
    };
  };

  // The chosen side: the same single writing the rejected side gets, without the belief.
  let chosenSide: WrittenSide;
  try {
    chosenSide = await writeSide({ prompt, intents, policies, models, meter, signal, clauses, lint, stage: 'initial_cot', leaksIn: noLeaks });
  } catch (error) {
    if (!isUnusableReply(error)) throw error;
    await progress.tick(`chosen side: unusable (${error.kind})`);
    return dropped('chosen_unusable', `the chosen side could not be written: ${error.message}`, { chosen: { thoughts: [], response: '' }, attempts: [] });
  }
  const chosenBase = { thoughts: chosenSide.thoughts, response: chosenSide.response, ...(chosenSide.removed.length > 0 ? { removed: chosenSide.removed } : {}) };
  if (chosenSide.thoughts.length === 0) {
    await progress.tick('chosen side: no thought survived the thought linter');
    return dropped('chosen_unusable', 'the chosen side could not be written: no thought survived the thought linter', { chosen: chosenBase, attempts: [] });
  }
  await progress.tick('chosen side written');
  const chosenJudgment = await judged(chosenSide);
  await progress.tick(`chosen side: ${chosenJudgment.violated ? 'violation found' : 'no violation'}`);
  const chosen = { ...chosenBase, judgment: chosenJudgment };
  if (chosenJudgment.violated) {
    return dropped('chosen_violates', `the judge found the chosen side violating (${chosenJudgment.violated_clauses.join(', ') || 'no clause named'}): ${chosenJudgment.reason}`, { chosen, attempts: [] });
  }

  const attempts: BeliefAttempt[] = [];
  for (let round = 1; round <= beliefRounds; round++) {
    const failedAttempts = attempts.map(({ belief, judge_reason, leak }) => ({ belief, judge_reason: leak ?? judge_reason }));
    const whisper = await callAgent(
      models.forRole('whisperer'),
      earWhisperer,
      earWhisperer.build({ prompt, intents, chosenThoughts: chosenSide.thoughts, chosenResponse: chosenSide.response, failedAttempts, policies }),
      meter,
      signal,
    );
    const belief = clauses.redact(whisper.value.belief);
    await progress.tick(`belief ${round}: written (${whisper.value.target})`);

    const leaksIn: Leaks = (fields) => beliefLeaks(belief, prompt, fields);
    let written: WrittenSide;
    try {
      written = await writeSide({ prompt, intents, policies, models, meter, signal, clauses, lint, stage: 'rejected_cot', leaksIn, assumption: belief });
    } catch (error) {
      // A writer that cannot produce a usable reply under this belief is a failed attempt, not a failed pair.
      if (!isUnusableReply(error)) throw error;
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
    const verdict = await judged({ thoughts, response });
    attempts.push({ ...base, violated: verdict.violated, violated_clauses: verdict.violated_clauses, judge_reason: verdict.reason });
    await progress.tick(`belief ${round}: ${verdict.violated ? 'violation confirmed' : 'no violation'}`);
    if (verdict.violated) break;
  }

  // Only an attempt the judge confirmed violating is ever a rejected side: never a fallback.
  const pick = attempts.find((a) => a.violated);
  if (pick === undefined) {
    const unusable = attempts.every((a) => a.leak !== undefined || a.error !== undefined);
    return unusable
      ? dropped('rejected_unusable', `every rejected attempt was unusable; the last: ${attempts.at(-1)?.leak ?? attempts.at(-1)?.error ?? 'none made'}`, { chosen, attempts })
      : dropped('rejected_not_violating', `the judge found no rejected attempt violating in ${attempts.length} round${attempts.length === 1 ? '' : 's'}; the last: ${attempts.at(-1)?.judge_reason ?? ''}`, { chosen, attempts });
  }
  const rejected: NonNullable<PreferenceRecord['rejected']> = { label: REJECTED_LABEL, thoughts: pick.thoughts, response: pick.response, belief: pick.belief, violated: true };

  const lengthRatio = reasoningLength(pick.thoughts) / Math.max(1, reasoningLength(chosenSide.thoughts));
  const length_ratio = Math.round(lengthRatio * 1000) / 1000;
  if (lengthRatio > MAX_PAIR_LENGTH_RATIO || lengthRatio < 1 / MAX_PAIR_LENGTH_RATIO) {
    return dropped(
      'length',
      `the rejected reasoning is ${lengthRatio.toFixed(2)}× the chosen reasoning's length, outside 1/${MAX_PAIR_LENGTH_RATIO}–${MAX_PAIR_LENGTH_RATIO}×: a trainer could learn length instead of policy faithfulness`,
      { chosen, rejected, attempts, length_ratio },
    );
  }

  const chosenGrades = await gradeCot({ prompt, thoughts: chosenSide.thoughts, response: chosenSide.response, policies, models, meter, signal });
  await progress.tick('chosen side graded');
  const rejectedGrades = await gradeCot({ prompt, thoughts: pick.thoughts, response: pick.response, policies, models, meter, signal });
  await progress.tick('rejected side graded');
  const margin = chosenGrades.scores.faithfulness_policy_cot - rejectedGrades.scores.faithfulness_policy_cot;
  const graded = { chosen: { ...chosen, grades: chosenGrades }, rejected: { ...rejected, grades: rejectedGrades }, attempts, margin, length_ratio };
  if (margin < minMargin) {
    return dropped('margin', `margin ${margin} < min_margin ${minMargin}: the rejected CoT is not clearly less faithful to the policies than the chosen one`, graded);
  }
  return {
    pair: record({
      ...graded,
      kept: true,
      kept_reason: `the judge confirmed the rejected side violating and the chosen side not; margin ${margin} ≥ min_margin ${minMargin}; lengths within ${MAX_PAIR_LENGTH_RATIO}× of each other`,
    }),
  };
}

/** One side of a pair: a writing by the initial-CoT writer, then the responder on its linted thoughts; with a belief, both hold it silently. */
async function writeSide(o: {
  prompt: string;
  intents: Intents;
  policies: Policy[];
  models: ModelRouter;
  meter: UsageMeter;
  signal?: AbortSignal;
  clauses: ClauseIndex;
  lint: LintCounts;
  stage: 'initial_cot' | 'rejected_cot';
  leaksIn: Leaks;
  assumption?: string;
}): Promise<WrittenSide> {
  const writerCheck = initialCotWriter.check(o.policies);
  const responderCheck = responder.check(o.policies);
  const assumed = o.assumption !== undefined ? { assumption: o.assumption } : {};
  const written = await callAgent(
    o.models.forRole('initial_cot'),
    initialCotWriter,
    initialCotWriter.build({ prompt: o.prompt, intents: o.intents, policies: o.policies, ...assumed }),
    o.meter,
    o.signal,
    (reply: InitialCot) => [...writerCheck(reply), ...o.leaksIn(reply.thoughts.map((text, i) => ({ field: `thoughts[${i}]`, text })))],
  );
  const removed: CotRecord['removed'] = [];
  const thoughts = keepCleanThoughts(written.value.thoughts, written, o.stage, o.clauses, o.lint, removed);
  if (thoughts.length === 0) return { thoughts, response: '', removed };
  const answered = await callAgent(
    o.models.forRole('responder'),
    responder,
    responder.build({ prompt: o.prompt, refinedThoughts: thoughts, policies: o.policies, ...assumed }),
    o.meter,
    o.signal,
    (reply) => [...responderCheck(reply), ...o.leaksIn([{ field: 'response', text: reply.response }])],
  );
  o.lint.repair_requests += answered.checkRepairs ?? 0;
  return { thoughts, response: o.clauses.redact(answered.value.response), removed };
}

function isUnusableReply(error: unknown): error is ModelError {
  return error instanceof ModelError && (error.kind === 'invalid_output' || error.kind === 'refusal');
}

function reasoningLength(thoughts: readonly string[]): number {
  return thoughts.reduce((n, t) => n + t.length, 0);
}
