import { applyRefinement, refiner } from '../agents/refiner.js';
import { responder } from '../agents/responder.js';
import type { Intents } from '../agents/shared.js';
import { ModelError } from '../llm/chat-model.js';
import type { ModelRouter } from '../llm/model-router.js';
import type { Policy } from '../policies/policy.js';
import { ClauseIndex } from '../reasoning/clause-ids.js';
import { emptyLintCounts, type LintCounts } from '../reasoning/thought-lint.js';
import type { CotRecord, Usage } from '../store/record.js';
import { callAgent } from './call-agent.js';
import type { ProgressCounter } from './progress.js';
import { UsageMeter } from './usage.js';
import { keepCleanThoughts } from './write-thoughts.js';

export interface Refined {
  refined_thoughts: string[];
  refined_from: number[][];
  removed: CotRecord['removed'];
  response: string;
  models: { refiner: string; responder: string };
}

/**
 * Stages 4 and 5: the refiner decides keep, merge or remove for every thought; code builds the
 * refined chain from those decisions (so each thought is accounted for exactly once), and the
 * responder answers from the refined chain and the policies alone.
 */
export async function refineAndRespond(options: {
  prompt: string;
  intents?: Intents;
  thoughts: string[];
  policies: Policy[];
  models: ModelRouter;
  meter: UsageMeter;
  signal?: AbortSignal;
  clauses: ClauseIndex;
  lint: LintCounts;
  timings?: Record<string, number>;
  progress?: ProgressCounter;
}): Promise<Refined> {
  const { prompt, intents, thoughts, policies, models, meter, signal, clauses, lint, timings, progress } = options;
  const refinerModel = models.forRole('refiner');
  if (thoughts.length === 0) throw new ModelError('invalid_output', 'refiner', refinerModel.model, 0, 'no thought survived the thought linter, so there is nothing to refine');
  let t0 = Date.now();
  const refinement = await callAgent(refinerModel, refiner, refiner.build({ prompt, intents, thoughts, policies }), meter, signal, refiner.check(thoughts, policies));
  const outcome = applyRefinement(refinement.value, thoughts, clauses);
  lint.repair_requests += refinement.checkRepairs ?? 0;
  // Edits were linted before they were accepted; this pass strips what an unedited outside thought may carry.
  const removedByLint: CotRecord['removed'] = [];
  const refined: string[] = [];
  const refinedFrom: number[][] = [];
  outcome.refined.forEach((thought, i) => {
    const kept = keepCleanThoughts([thought], { checkRepairs: 0 }, 'refinement', clauses, lint, removedByLint);
    if (kept[0] !== undefined) {
      refined.push(kept[0]);
      refinedFrom.push(outcome.sources[i] ?? []);
    } else {
      const sources = outcome.sources[i] ?? [];
      const entry = removedByLint[removedByLint.length - 1];
      if (entry && sources.length === 1) entry.index = sources[0];
    }
  });
  if (timings) timings.refinement_ms = Date.now() - t0;
  await progress?.tick(`refinement: ${refined.length} kept, ${outcome.removed.length + removedByLint.length} removed`);
  if (refined.length === 0) throw new ModelError('invalid_output', 'refiner', refinement.model, refinement.calls, 'the refinement removed every thought');

  t0 = Date.now();
  const responderModel = models.forRole('responder');
  const response = await callAgent(responderModel, responder, responder.build({ prompt, refinedThoughts: refined, policies }), meter, signal, responder.check(policies));
  lint.repair_requests += response.checkRepairs ?? 0;
  if (timings) timings.response_ms = Date.now() - t0;
  await progress?.tick('response written');
  return {
    refined_thoughts: refined,
    refined_from: refinedFrom,
    removed: [...outcome.removed, ...removedByLint],
    response: clauses.redact(response.value.response),
    models: { refiner: refinement.model, responder: response.model },
  };
}

export interface RefineResult extends Refined {
  lint: LintCounts;
  usage: Usage;
}

/** Stages 4 and 5 alone, for thoughts written elsewhere (by hand, or by another generator). */
export async function refineThoughts(options: { prompt: string; intents?: Intents; thoughts: string[]; policies: Policy[]; models: ModelRouter; signal?: AbortSignal }): Promise<RefineResult> {
  const meter = new UsageMeter();
  const lint = emptyLintCounts();
  const result = await refineAndRespond({ ...options, meter, clauses: new ClauseIndex(options.policies), lint });
  return { ...result, lint, usage: meter.usage };
}
