import type { Config } from '../../config.js';
import type { Policy } from '../../policies/policy.js';
import type { RunOptions } from '../../store/run-store.js';
import { writeBaseline } from '../baseline.js';
import { gradeCot } from '../grade.js';
import type { Recipe } from '../recipe.js';
import { estimateCalls } from './aidsafe.js';

/** The paper's single-model zero-shot baseline, graded when asked; it makes no preference pairs. */
export function baselineRecipe(config: Config, policies: Policy[], settings: { grade: boolean; options: Omit<RunOptions, 'recipe'> }): Recipe {
  return {
    name: 'baseline',
    options: { ...settings.options, recipe: 'baseline' },
    ids: { record: 'cot' },
    estimate: (rows, alreadyDone) => estimateCalls(config, policies, rows, alreadyDone, { min: 1 + (settings.grade ? 1 : 0), max: 1 + (settings.grade ? 1 : 0) }),
    runSample: async (row, ctx) => {
      const { models, meter, signal } = ctx;
      let record = await writeBaseline({ prompt: row.prompt, policies, models, signal, id: ctx.ids.record, meter, runId: ctx.runId, metadata: { ...row.metadata, row_index: row.index } });
      if (settings.grade) {
        const grades = await gradeCot({ prompt: record.prompt, thoughts: record.refined_thoughts, response: record.response, policies, models, meter, signal });
        record = { ...record, grades, usage: structuredClone(meter.usage) };
      }
      return [record];
    },
  };
}
