import { deliberator } from '../agents/deliberator.js';
import { initialCotWriter } from '../agents/initial-cot-writer.js';
import { intentDecomposer } from '../agents/intent-decomposer.js';
import { PROMPT_TEMPLATE_VERSION, type Intents } from '../agents/shared.js';
import { agentFocus } from '../config.js';
import { newId } from '../ids.js';
import type { ModelRouter } from '../llm/model-router.js';
import { policyStamp, type Policy } from '../policies/policy.js';
import { ClauseIndex } from '../reasoning/clause-ids.js';
import { emptyLintCounts } from '../reasoning/thought-lint.js';
import { RECORD_SCHEMA_VERSION, type CotRecord, type Turn } from '../store/record.js';
import { callAgent } from './call-agent.js';
import { ProgressCounter, type ProgressListener } from './progress.js';
import { refineAndRespond } from './refine.js';
import { UsageMeter } from './usage.js';
import { keepCleanThoughts } from './write-thoughts.js';

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
 * agents × max_rounds turns are spent. Every thought a model writes passes the thought linter.
 */
export async function deliberate(options: DeliberateOptions): Promise<CotRecord> {
  const { prompt, policies, agents, maxRounds, models, signal } = options;
  const meter = options.meter ?? new UsageMeter();
  const clauses = new ClauseIndex(policies);
  const lint = emptyLintCounts();
  const removed: CotRecord['removed'] = [];
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
  const intentsResult = await timed('intents', () => callAgent(intentsModel, intentDecomposer, intentDecomposer.build({ prompt, policies }), meter, signal));
  const intents = redactIntents(intentsResult.value, clauses);
  await progress.tick(`intents: ${intents.explicit.length} explicit, ${intents.implicit.length} implicit, ${intents.possible_misuse.length} possible misuse`);

  const initialModel = models.forRole('initial_cot');
  const initial = await timed('initial_cot', () =>
    callAgent(initialModel, initialCotWriter, initialCotWriter.build({ prompt, intents, policies }), meter, signal, initialCotWriter.check(policies)),
  );
  const initialThoughts = keepCleanThoughts(initial.value.thoughts, initial, 'initial_cot', clauses, lint, removed);
  await progress.tick(`initial CoT: ${initialThoughts.length} thoughts`);

  const thoughts = [...initialThoughts];
  const turns: Turn[] = [];
  let stopReason: CotRecord['stop_reason'] = 'budget';
  const deliberationStart = Date.now();
  const checkTurn = deliberator.check(policies);
  // Agreement ends deliberation only once every focus in use has looked at the reasoning since it last
  // changed: otherwise the harm agent's "agree" in the first turn would end it before the
  // over-refusal agent ever read it. A turn changes the reasoning only when a thought it wrote survives
  // the linter; a "revise" whose every thought was struck leaves the reasoning as its last reader saw it.
  const focuses = Array.from({ length: agents }, (_, i) => agentFocus(models.config, i, agents) ?? 'none');
  const inUse = new Set(focuses);
  let lookedSinceChange = new Set<string>();
  deliberation: for (let round = 1; round <= maxRounds; round++) {
    for (let agent = 1; agent <= agents; agent++) {
      const model = models.forRole('deliberator', agent - 1);
      const focus = agentFocus(models.config, agent - 1, agents);
      const lens = focuses[agent - 1] ?? 'none';
      const t0 = Date.now();
      const messages = deliberator.build({ prompt, intents, thoughts, focus, policies });
      const turn = await callAgent(model, deliberator, messages, meter, signal, checkTurn);
      const added = keepCleanThoughts(turn.value.thoughts, turn, 'deliberation', clauses, lint, removed);
      turns.push({
        round,
        agent,
        model: turn.model,
        ...(focus ? { focus } : {}),
        review: clauses.redact(turn.value.review),
        verdict: turn.value.verdict,
        thoughts: added,
        duration_ms: Date.now() - t0,
      });
      thoughts.push(...added);
      if (added.length > 0) lookedSinceChange = new Set([lens]);
      else lookedSinceChange.add(lens);
      if (turn.value.verdict === 'agree' && [...inUse].every((f) => lookedSinceChange.has(f))) {
        stopReason = 'agreement';
        progress.total = progress.step + 3; // this turn, refinement, response
        await progress.tick(`round ${round}, agent ${agent}: agree`);
        break deliberation;
      }
      await progress.tick(`round ${round}, agent ${agent}: ${turn.value.verdict === 'agree' ? 'agree, waiting for the other focus' : `revise (+${added.length} thoughts)`}`);
    }
  }
  timings.deliberation_ms = Date.now() - deliberationStart;

  const refined = await refineAndRespond({ prompt, intents, thoughts, policies, models, meter, signal, clauses, lint, timings, progress });
  timings.total_ms = Date.now() - started;

  return {
    schema_version: RECORD_SCHEMA_VERSION,
    kind: 'cot',
    id: options.id ?? newId('cot'),
    prompt,
    recipe: 'aidsafe',
    ...policyStamp(policies),
    intents,
    initial_thoughts: initialThoughts,
    initial_draft_response: clauses.redact(initial.value.draft_response),
    deliberation: turns,
    stop_reason: stopReason,
    agents,
    max_rounds: maxRounds,
    thoughts,
    refined_thoughts: refined.refined_thoughts,
    refined_from: refined.refined_from,
    removed: [...removed, ...refined.removed],
    response: refined.response,
    lint,
    usage: structuredClone(meter.usage),
    models: {
      intents: intentsResult.model,
      initial_cot: initial.model,
      deliberators: Array.from({ length: agents }, (_, i) => models.forRole('deliberator', i).model),
      refiner: refined.models.refiner,
      responder: refined.models.responder,
    },
    prompt_template_version: PROMPT_TEMPLATE_VERSION,
    timings,
    created_at: new Date().toISOString(),
    ...(options.runId ? { run_id: options.runId } : {}),
    ...(options.metadata ? { metadata: options.metadata } : {}),
  };
}

/** Intents are shown to every later role and stored: an invented clause id in them is redacted too. */
function redactIntents(intents: Intents, clauses: ClauseIndex): Intents {
  const redact = (list: string[]) => list.map((text) => clauses.redact(text));
  return { explicit: redact(intents.explicit), implicit: redact(intents.implicit), possible_misuse: redact(intents.possible_misuse) };
}
