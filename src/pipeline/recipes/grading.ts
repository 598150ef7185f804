import type { Config } from '../../config.js';
import type { InputRow } from '../../inputs/read-prompts.js';
import type { Policy } from '../../policies/policy.js';
import type { RecordStore } from '../../store/record-store.js';
import { gradingInputOf, type CotRecord } from '../../store/record.js';
import type { RunOptions } from '../../store/run-store.js';
import { gradeCot } from '../grade.js';
import type { Recipe } from '../recipe.js';
import { UsageMeter } from '../usage.js';
import { estimateCalls } from './aidsafe.js';

/** The record a grading row names (its input has a `record_id` column). */
function recordIdOf(row: InputRow): string {
  return String(row.metadata.record_id ?? '');
}

/**
 * Grades records already stored, one per input row, and saves them with their grades; a record graded
 * already on the request alone costs nothing, one graded with its intents (before grades said so) is
 * graded again. Run through the batch engine, a comparison's grading is resumable and
 * its calls cached like any run's.
 */
export function gradingRecipe(config: Config, store: RecordStore, policies: Policy[], options: RunOptions): Recipe {
  return {
    name: 'grading',
    options: { ...options, grade: true, preference: false, recipe: 'grading' },
    ids: { record: 'cot' },
    recordIdOf,
    estimate: (rows, alreadyDone) => estimateCalls(config, policies, rows, alreadyDone, { min: 0, max: 1 }),
    runSample: async (row, ctx) => {
      const stored = await store.get(recordIdOf(row));
      if (!stored || stored.kind !== 'cot') throw new Error(`record ${recordIdOf(row)} is missing from the store`);
      // Grades made on another input (with intents) are made again, so both runs of a comparison are graded alike.
      if (gradingInputOf(stored) === 'request') return [];
      const record: CotRecord = stored;
      const grades = await gradeCot({ prompt: record.prompt, thoughts: record.refined_thoughts, response: record.response, policies, models: ctx.models, meter: ctx.meter, signal: ctx.signal });
      const usage = new UsageMeter();
      usage.merge(record.usage);
      usage.merge(ctx.meter.usage);
      return [{ ...record, grades, usage: usage.usage }];
    },
  };
}
