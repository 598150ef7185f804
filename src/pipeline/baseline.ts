import { baselineCotWriter } from '../agents/baseline-cot-writer.js';
import { PROMPT_TEMPLATE_VERSION } from '../agents/shared.js';
import { newId } from '../ids.js';
import type { ModelRouter } from '../llm/model-router.js';
import { policyStamp, type Policy } from '../policies/policy.js';
import { ClauseIndex } from '../reasoning/clause-ids.js';
import { emptyLintCounts } from '../reasoning/thought-lint.js';
import { RECORD_SCHEMA_VERSION, type CotRecord } from '../store/record.js';
import { callAgent } from './call-agent.js';
import { UsageMeter } from './usage.js';
import { keepCleanThoughts } from './write-thoughts.js';

export interface BaselineOptions {
  prompt: string;
  policies: Policy[];
  models: ModelRouter;
  signal?: AbortSignal;
  runId?: string;
  metadata?: Record<string, unknown>;
  id?: string;
  meter?: UsageMeter;
}

/**
 * The paper's comparison for one prompt: a single model writes the chain of thought and the answer
 * zero-shot from the query and the policies. Its thoughts pass the same linter as AIDSAFE's, so the
 * two are compared on equal terms; the record has AIDSAFE's shape, with no intents and no turns.
 */
export async function writeBaseline(options: BaselineOptions): Promise<CotRecord> {
  const { prompt, policies, models, signal } = options;
  const meter = options.meter ?? new UsageMeter();
  const clauses = new ClauseIndex(policies);
  const lint = emptyLintCounts();
  const removed: CotRecord['removed'] = [];
  const started = Date.now();
  const model = models.forRole(baselineCotWriter.role);
  const result = await callAgent(model, baselineCotWriter, baselineCotWriter.build({ prompt, policies }), meter, signal, baselineCotWriter.check(policies));
  const thoughts = keepCleanThoughts(result.value.thoughts, result, 'initial_cot', clauses, lint, removed);
  const response = clauses.redact(result.value.response);
  const elapsed = Date.now() - started;
  return {
    schema_version: RECORD_SCHEMA_VERSION,
    kind: 'cot',
    id: options.id ?? newId('cot'),
    prompt,
    recipe: 'baseline',
    ...policyStamp(policies),
    intents: { explicit: [], implicit: [], possible_misuse: [] },
    initial_thoughts: thoughts,
    initial_draft_response: response,
    deliberation: [],
    stop_reason: 'baseline',
    agents: 1,
    max_rounds: 1,
    thoughts,
    refined_thoughts: thoughts,
    removed,
    response,
    lint,
    usage: structuredClone(meter.usage),
    // One model plays every part; the stages it skips name no model.
    models: { intents: '', initial_cot: result.model, deliberators: [], refiner: '', responder: result.model },
    prompt_template_version: PROMPT_TEMPLATE_VERSION,
    timings: { baseline_ms: elapsed, total_ms: elapsed },
    created_at: new Date().toISOString(),
    ...(options.runId ? { run_id: options.runId } : {}),
    ...(options.metadata ? { metadata: options.metadata } : {}),
  };
}
