import type { AppContext } from '../context.js';
import { DEFAULT_NEAR_DUP_THRESHOLD } from '../exports/dedup.js';
import { DEFAULT_NGRAM, DEFAULT_OVERLAP } from '../exports/decontaminate.js';
import type { ScreenRequest } from '../exports/screen.js';
import type { RunManifest, RunOptions } from '../store/run-store.js';
import { atBatchPrice, type BatchEstimate } from './batch-status.js';
import { recipeFor, type BatchRequest } from './batch-request.js';
import type { Recipe } from './recipe.js';
import { checkResumable, configHash, resolveRunId } from './run-identity.js';
import { selectRows, type RunRows } from './run-rows.js';
import { SampleStates } from './sample-states.js';
import { formatShard, SHARD_BY } from './shard.js';

export interface RunSetup {
  manifest: RunManifest;
  rows: RunRows;
  recipe: Recipe;
  estimate: BatchEstimate;
  samples: SampleStates;
}

/**
 * What a run starts from: its rows, its id (derived from the input, the rows taken, the recipe's options
 * and the models, so the same command resumes), its manifest (new, or the existing one checked to match),
 * where each of its samples stands, and an estimate of the work left.
 */
export async function setUpRun(ctx: AppContext, request: BatchRequest, recipe?: Recipe): Promise<RunSetup> {
  // Screened over the whole selection before sharding, so every shard drops the same rows.
  const rows = await selectRows(request);
  const { source, screened } = rows;
  const shard = request.shard;
  const sampleRecipe = recipe ?? recipeFor(ctx, request);
  const options: RunOptions = { ...sampleRecipe.options, ...(request.screen ? { screen: screenIdentity(request.screen.request) } : {}) };
  const inputInfo: RunManifest['input'] = {
    path: source.path,
    sha256: source.sha256,
    column: source.column,
    rows: source.count,
    ...(request.limit !== undefined ? { limit: request.limit } : {}),
    ...(shard ? { shard: formatShard(shard), shard_by: SHARD_BY } : {}),
  };
  const hash = configHash(ctx.config);
  const runId = await resolveRunId(ctx, inputInfo, options, request.runId, request.runIdPrefix);
  const existing = await checkResumable(ctx, runId, inputInfo, options);
  const now = new Date().toISOString();
  // `total` is counted again on a resume: a run merged from some of its shards covers the whole job once run unsharded.
  const manifest: RunManifest = existing
    ? { ...existing, status: 'running', updated_at: now, total: rows.summary.length, config_hash: hash, stop_reason: undefined, error: undefined, batch_mode: request.batch?.kind }
    : { id: runId, created_at: now, updated_at: now, status: 'running', input: inputInfo, options, total: rows.summary.length, config_hash: hash, ...(screened ? { screened } : {}), ...(request.batch ? { batch_mode: request.batch.kind } : {}) };
  const samples = await SampleStates.fromLog(ctx.runs, runId, source.count);
  const estimate = atBatchPrice(sampleRecipe.estimate(rows.summary, samples.done), ctx.config, request.batch !== undefined);
  return { manifest, rows, recipe: sampleRecipe, estimate, samples };
}

function screenIdentity(request: ScreenRequest): NonNullable<RunOptions['screen']> {
  return {
    ...(request.dedup ? { dedup_threshold: request.dedupThreshold ?? DEFAULT_NEAR_DUP_THRESHOLD } : {}),
    ...(request.decontaminate ? { decontaminate: request.decontaminate, ngram: request.ngram ?? DEFAULT_NGRAM, ngram_overlap: request.overlap ?? DEFAULT_OVERLAP } : {}),
  };
}
