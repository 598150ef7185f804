import { deliberator } from '../agents/deliberator.js';
import { initialCotWriter } from '../agents/initial-cot-writer.js';
import { intentDecomposer } from '../agents/intent-decomposer.js';
import { refiner } from '../agents/refiner.js';
import { responder } from '../agents/responder.js';
import { PROMPT_TEMPLATE_VERSION } from '../agents/shared.js';
import { newId } from '../ids.js';
import type { ModelRouter } from '../llm/model-router.js';
import { policyStamp, type Policy } from '../policies/policy.js';
import { RECORD_SCHEMA_VERSION, type CotRecord, type Turn } from '../store/record.js';
import { callAgent } from './call-agent.js';
import { ProgressCounter, type ProgressListener } from './progress.js';
import { UsageMeter } from './usage.js';

export interface DeliberateOptions {
  prompt: string;
  policies: Policy[];
  agents: number;
  maxRounds: number;
  models: ModelRouter;
  signal?: AbortSignal;
  onProgress?: ProgressListener;
  runId?: string;
  metadata?: Record<string, unknown>;
  /** The record id to use (a batch run fixes it in advance so a resumed sample is stored once). */
  id?: string;
  /** Receives the usage of every call, so a caller can count the cost of a sample that fails. */
  meter?: UsageMeter;
}

/**
 * The AIDSAFE recipe for one prompt: intents → initial CoT → deliberation turns → refinement → response.
 * Deliberation goes agent 1, 2, …, round after round, and stops at the first "agree" or when
 * agents × max_rounds turns are spent.
 */
export async function deliberate(options: DeliberateOptions): Promise<CotRecord> {
  const { prompt, policies, agents, maxRounds, models, signal } = options;
  const meter = options.meter ?? new UsageMeter();
  const timings: Record<string, number> = {};
  const started = Date.now();
  const progress = new ProgressCounter(4 + agents * maxRounds, options.onProgress);
  const timed = async <T>(name: string, work: () => Promise<T>): Promise<T> => {
    const t0 = Date.now();
    try {
      return await work();
    } finally {
      timings[`${name}_ms`] = Date.now() - t0;
    }
  };

  const intentsModel = models.forRole('intents');
  const intents = await timed('intents', () => callAgent(intentsModel, intentDecomposer, intentDecomposer.build({ prompt, policies }), meter, signal));
  await progress.tick(`intents: ${intents.value.explicit.length} explicit, ${intents.value.implicit.length} implicit`);

  const initialModel = models.forRole('initial_cot');
  const initial = await timed('initial_cot', () =>
    callAgent(initialModel, initialCotWriter, initialCotWriter.build({ prompt, intents: intents.value, policies }), meter, signal),
  );
  await progress.tick(`initial CoT: ${initial.value.thoughts.length} thoughts`);

  const thoughts = [...initial.value.thoughts];
  let draft = initial.value.draft_response;
  const turns: Turn[] = [];
  let stopReason: CotRecord['stop_reason'] = 'budget';
  const deliberationStart = Date.now();
  deliberation: for (let round = 1; round <= maxRounds; round++) {
    for (let agent = 1; agent <= agents; agent++) {
      const model = models.forRole('deliberator', agent - 1);
      const t0 = Date.now();
      const messages = deliberator.build({ prompt, intents: intents.value, thoughts, draftResponse: draft, round, agent, agents, policies });
      const turn = await callAgent(model, deliberator, messages, meter, signal);
      turns.push({
        round,
        agent,
        model: turn.model,
        verdict: turn.value.verdict,
        thoughts: turn.value.thoughts,
        draft_response: turn.value.draft_response,
        duration_ms: Date.now() - t0,
      });
      thoughts.push(...turn.value.thoughts);
      draft = turn.value.draft_response;
      if (turn.value.verdict === 'agree') {
        stopReason = 'agreement';
        progress.total = progress.step + 3; // this turn, refinement, response
        await progress.tick(`round ${round}, agent ${agent}: agree`);
        break deliberation;
      }
      await progress.tick(`round ${round}, agent ${agent}: revise (+${turn.value.thoughts.length} thoughts)`);
    }
  }
  timings.deliberation_ms = Date.now() - deliberationStart;

  const refinerModel = models.forRole('refiner');
  const refined = await timed('refinement', () => callAgent(refinerModel, refiner, refiner.build({ prompt, thoughts, policies }), meter, signal));
  await progress.tick(`refinement: ${refined.value.refined_thoughts.length} kept, ${refined.value.removed.length} removed`);

  const responderModel = models.forRole('responder');
  const response = await timed('response', () =>
    callAgent(responderModel, responder, responder.build({ prompt, refinedThoughts: refined.value.refined_thoughts, draftResponse: draft, policies }), meter, signal),
  );
  await progress.tick('response written');
  timings.total_ms = Date.now() - started;

  return {
    schema_version: RECORD_SCHEMA_VERSION,
    kind: 'cot',
    id: options.id ?? newId('cot'),
    prompt,
    ...policyStamp(policies),
    intents: intents.value,
    initial_thoughts: initial.value.thoughts,
    initial_draft_response: initial.value.draft_response,
    deliberation: turns,
    stop_reason: stopReason,
    agents,
    max_rounds: maxRounds,
    thoughts,
    refined_thoughts: refined.value.refined_thoughts,
    removed: refined.value.removed,
    response: response.value.response,
    usage: structuredClone(meter.usage),
    models: {
      intents: intents.model,
      initial_cot: initial.model,
      deliberators: Array.from({ length: agents }, (_, i) => models.forRole('deliberator', i).model),
      refiner: refined.model,
      responder: response.model,
    },
    prompt_template_version: PROMPT_TEMPLATE_VERSION,
    timings,
    created_at: new Date().toISOString(),
    ...(options.runId ? { run_id: options.runId } : {}),
    ...(options.metadata ? { metadata: options.metadata } : {}),
  };
}
