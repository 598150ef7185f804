import type { AppContext } from '../context.js';
import { InputError } from '../errors.js';
import type { RecipeName } from '../store/record.js';
import type { Recipe } from './recipe.js';
import { aidsafeRecipe } from './recipes/aidsafe.js';
import { baselineRecipe } from './recipes/baseline.js';

export interface BatchRequest {
  inputPath: string;
  column?: string;
  /** Take only the first `limit` rows of the file. */
  limit?: number;
  /** 1-based: shard {index: 2, count: 4} takes rows whose index modulo 4 is 1. */
  shard?: { index: number; count: number };
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
  /** Stop the run as failed when its first this-many samples all fail the same way; 0 never stops. Default FAIL_FAST_SAMPLES. */
  failFast?: number;
}

/** The recipe a request asks for, over the policies it selects. */
export function recipeFor(ctx: AppContext, request: BatchRequest): Recipe {
  const policies = ctx.policies.select(request.policyIds);
  const aidsafe = aidsafeRecipe(ctx.config, policies, request);
  if ((request.recipe ?? 'aidsafe') === 'aidsafe') return aidsafe;
  if (request.preference) throw new InputError('preference: preference pairs are made from AIDSAFE samples; use recipe "aidsafe", or leave preference off');
  return baselineRecipe(ctx.config, policies, { grade: request.grade, options: aidsafe.options });
}
