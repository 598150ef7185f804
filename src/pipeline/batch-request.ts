import type { AppContext } from '../context.js';
import type { ScreenOptions, ScreenRequest } from '../exports/screen.js';
import { InputError } from '../errors.js';
import type { OpenedFile } from '../inputs/opened-file.js';
import type { BatchMode } from '../llm/batch/batch-backend.js';
import type { RecipeName } from '../store/record.js';
import type { Recipe } from './recipe.js';
import type { Shard } from './shard.js';
import { aidsafeRecipe } from './recipes/aidsafe.js';
import { baselineRecipe } from './recipes/baseline.js';

export interface BatchRequest {
  inputPath: string;
  /** The input opened and checked already (a file a client named): its rows are read through it, never by name. */
  inputFile?: OpenedFile;
  column?: string;
  /** Take only the first `limit` rows of the file. */
  limit?: number;
  /** Which rows this run takes: see shard.ts. */
  shard?: Shard;
  concurrency: number;
  /** What one sample is; default "aidsafe". */
  recipe?: RecipeName;
  grade: boolean;
  preference: boolean;
  agents: number;
  maxRounds: number;
  beliefRounds: number;
  minMargin: number;
  policyIds?: string[];
  budgets: { maxSamples?: number; maxTokens?: number; maxCost?: number };
  runId?: string;
  /** What a derived run id begins with instead of "run": "preview" for a preview's run. */
  runIdPrefix?: 'preview';
  /** Stop the run as failed when its first this-many samples all fail the same way; 0 never stops. Default FAIL_FAST_SAMPLES. */
  failFast?: number;
  /** Batch mode: model calls go out in waves, to the provider's Batch API or as files in a folder. */
  batch?: BatchMode;
  /** Dedup and decontamination of the input rows before the run: what was asked, and the loaded options. */
  screen?: { request: ScreenRequest; options: ScreenOptions };
}

/** The recipe a request asks for, over the policies it selects. */
export function recipeFor(ctx: AppContext, request: BatchRequest): Recipe {
  const policies = ctx.policies.select(request.policyIds);
  const aidsafe = aidsafeRecipe(ctx.config, policies, request);
  if ((request.recipe ?? 'aidsafe') === 'aidsafe') return aidsafe;
  if (request.preference) throw new InputError('preference: preference pairs are made from AIDSAFE samples; use recipe "aidsafe", or leave preference off');
  return baselineRecipe(ctx.config, policies, { grade: request.grade, options: aidsafe.options });
}
