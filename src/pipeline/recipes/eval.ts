import { EVAL_TEMPLATE_VERSION } from '../../agents/eval-shared.js';
import { xstestJudge } from '../../agents/xstest-judge.js';
import { endpointFor, type Config } from '../../config.js';
import { evaluatePrompt } from '../../eval/evaluate-sample.js';
import { promptOf, type Suite } from '../../eval/suites.js';
import type { TargetClient } from '../../eval/target.js';
import { RECORD_SCHEMA_VERSION, type EvalRecord } from '../../store/record.js';
import type { RunOptions } from '../../store/run-store.js';
import { round, type BatchEstimate } from '../batch-status.js';
import type { Recipe, RowSummary } from '../recipe.js';

/**
 * An evaluation of one target on one suite: per row, the benchmark prompt goes to the target alone,
 * and the judge role rates the visible reply. Two calls a sample, both kept in the request cache.
 */
export function evalRecipe(config: Config, suite: Suite, target: TargetClient): Recipe {
  const options: RunOptions = {
    // The deliberation settings do not apply to an evaluation; they are fixed so its options stay comparable.
    agents: 0,
    max_rounds: 0,
    grade: false,
    preference: false,
    belief_rounds: 0,
    min_margin: 0,
    policy_ids: [],
    recipe: 'eval',
    eval: { suite: suite.name, target_model: target.spec.model, ...(target.spec.address ? { target_address: target.spec.address } : {}), target_temperature: target.spec.temperature, templates: EVAL_TEMPLATE_VERSION },
  };
  return {
    name: 'eval',
    options,
    ids: { record: 'eval' },
    estimate: (rows, alreadyDone) => estimate(config, rows, alreadyDone),
    runSample: async (row, ctx): Promise<EvalRecord[]> => {
      const sample = await evaluatePrompt({ suite, item: promptOf(suite, row), target, models: ctx.models, signal: ctx.signal, meter: ctx.meter });
      const { ContextString: _context, ...metadata } = row.metadata;
      return [
        {
          schema_version: RECORD_SCHEMA_VERSION,
          kind: 'eval',
          id: ctx.ids.record,
          ...sample,
          usage: structuredClone(ctx.meter.usage),
          prompt_template_version: EVAL_TEMPLATE_VERSION,
          created_at: new Date().toISOString(),
          run_id: ctx.runId,
          metadata,
        },
      ];
    },
  };
}

/** Two calls a sample: the target's reply (a few hundred tokens out) and the judge's verdict on it. */
function estimate(config: Config, rows: RowSummary, alreadyDone: number): BatchEstimate {
  const toRun = Math.max(0, rows.length - alreadyDone);
  const promptTokens = rows.length ? Math.ceil(rows.promptChars / rows.length / 4) : 0;
  const judgeSystem = Math.ceil(xstestJudge.build({ prompt: '', reply: '' })[0]!.content.length / 4);
  const perSample = { min: promptTokens + 50 + judgeSystem + promptTokens + 100, max: promptTokens + 1_500 + judgeSystem + promptTokens + 1_600 };
  const tokens = { min: toRun * perSample.min, max: toRun * perSample.max };
  const price = config.prices[endpointFor(config, 'judge').model];
  return {
    samples: rows.length,
    already_done: alreadyDone,
    to_run: toRun,
    calls_per_sample: { min: 2, max: 2 },
    calls: { min: toRun * 2, max: toRun * 2 },
    tokens,
    ...(price ? { cost_usd: { min: round((tokens.min * price.input) / 1e6, 4), max: round((tokens.max * (price.input + price.output)) / 1e6, 4) } } : {}),
  };
}
