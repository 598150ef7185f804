import type { AppContext } from '../context.js';
import type { Recipe } from './recipe.js';
import { aidsafeRecipe } from './recipes/aidsafe.js';

export interface BatchRequest {
  inputPath: string;
  column?: string;
  /** Take only the first `limit` rows of the file. */
  limit?: number;
  /** 1-based: shard {index: 2, count: 4} takes rows whose index modulo 4 is 1. */
  shard?: { index: number; count: number };
  concurrency: number;
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
  return aidsafeRecipe(ctx.config, policies, request);
}
