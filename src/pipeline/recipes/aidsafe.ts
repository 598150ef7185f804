import { intentDecomposer } from '../../agents/intent-decomposer.js';
import { endpointFor, type Config } from '../../config.js';
import type { InputRow } from '../../inputs/read-prompts.js';
import type { Policy } from '../../policies/policy.js';
import type { PreferenceRecord, StoredRecord } from '../../store/record.js';
import type { RunOptions } from '../../store/run-store.js';
import { round, type BatchEstimate } from '../batch-status.js';
import { deliberate } from '../deliberate.js';
import { gradeCot } from '../grade.js';
import { makePreferencePair } from '../preference.js';
import type { Recipe, RowSummary, SampleContext } from '../recipe.js';
import { UsageMeter } from '../usage.js';

export interface AidsafeSettings {
  agents: number;
  maxRounds: number;
  grade: boolean;
  preference: boolean;
  beliefRounds: number;
  minMargin: number;
}

/** The paper's recipe: intents, deliberation, refinement, response; then, if asked, grading and a preference pair. */
export function aidsafeRecipe(config: Config, policies: Policy[], settings: AidsafeSettings): Recipe {
  const options: RunOptions = {
    agents: settings.agents,
    max_rounds: settings.maxRounds,
    grade: settings.grade,
    preference: settings.preference,
    belief_rounds: settings.beliefRounds,
    min_margin: settings.minMargin,
    policy_ids: policies.map((p) => p.id),
  };
  return {
    name: 'aidsafe',
    options,
    ids: { record: 'cot', ...(settings.preference ? { pair: 'pref' } : {}) },
    estimate: (rows, alreadyDone) => {
      const turnsMax = settings.agents * settings.maxRounds;
      const gradeCalls = settings.grade ? 1 : 0;
      // A pair: the chosen side written, answered and judged (the fewest, when the judge finds it violating);
      // at most, four calls a belief round (belief, writing, answer, verdict) and both sides graded.
      const prefMin = settings.preference ? 3 : 0;
      const prefMax = settings.preference ? 3 + 4 * settings.beliefRounds + 2 : 0;
      return estimateCalls(config, policies, rows, alreadyDone, { min: 5 + gradeCalls + prefMin, max: 4 + turnsMax + gradeCalls + prefMax });
    },
    runSample: (row, ctx) => runAidsafeSample(row, ctx, policies, settings),
  };
}

async function runAidsafeSample(row: InputRow, ctx: SampleContext, policies: Policy[], settings: AidsafeSettings): Promise<StoredRecord[]> {
  const { models, meter, signal } = ctx;
  let record = await deliberate({
    prompt: row.prompt,
    policies,
    agents: settings.agents,
    maxRounds: settings.maxRounds,
    models,
    signal,
    id: ctx.ids.record,
    meter,
    runId: ctx.runId,
    metadata: { ...row.metadata, row_index: row.index },
  });
  if (settings.grade) {
    const grades = await gradeCot({ prompt: record.prompt, thoughts: record.refined_thoughts, response: record.response, policies, models, meter, signal });
    record = { ...record, grades, usage: structuredClone(meter.usage) };
  }
  let pair: PreferenceRecord | undefined;
  if (settings.preference) {
    const pairMeter = new UsageMeter();
    try {
      const made = await makePreferencePair({
        source: record,
        policies,
        beliefRounds: settings.beliefRounds,
        minMargin: settings.minMargin,
        models,
        signal,
        id: ctx.ids.pair,
        meter: pairMeter,
      });
      pair = made.pair;
    } finally {
      meter.merge(pairMeter.usage);
    }
  }
  return pair ? [pair, record] : [record];
}

/** Tokens and cost from a per-sample call count: every call carries the policies' system prompt and the row's prompt. */
export function estimateCalls(config: Config, policies: Policy[], rows: RowSummary, alreadyDone: number, perSample: { min: number; max: number }): BatchEstimate {
  const toRun = Math.max(0, rows.length - alreadyDone);
  const systemTokens = Math.ceil(intentDecomposer.build({ prompt: '', policies })[0]!.content.length / 4);
  const avgPromptTokens = rows.length ? Math.ceil(rows.promptChars / rows.length / 4) : 0;
  // Later stages carry the thoughts so far: a few hundred tokens more per call, and a few hundred out.
  const perCallMin = systemTokens + avgPromptTokens + 150;
  const perCallMax = systemTokens + avgPromptTokens + 900;
  const tokens = { min: toRun * perSample.min * perCallMin, max: toRun * perSample.max * perCallMax };
  const price = config.prices[endpointFor(config, 'intents').model];
  return {
    samples: rows.length,
    already_done: alreadyDone,
    to_run: toRun,
    calls_per_sample: perSample,
    calls: { min: toRun * perSample.min, max: toRun * perSample.max },
    tokens,
    ...(price ? { cost_usd: { min: round((tokens.min * price.input) / 1e6, 4), max: round((tokens.max * (price.input + price.output)) / 1e6, 4) } } : {}),
  };
}
