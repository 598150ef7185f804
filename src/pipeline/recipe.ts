import type { InputRow } from '../inputs/read-prompts.js';
import type { ModelRouter } from '../llm/model-router.js';
import type { StoredRecord } from '../store/record.js';
import type { RunOptions } from '../store/run-store.js';
import type { BatchEstimate } from './batch-status.js';
import type { UsageMeter } from './usage.js';

/** What a recipe gets for one sample: the models (cached, retried), its own usage meter, the run's abort signal and the ids it must use. */
export interface SampleContext {
  models: ModelRouter;
  meter: UsageMeter;
  signal: AbortSignal;
  runId: string;
  /** Fixed in the run's log before the sample's first model call, so a resumed sample keeps its ids (and its cached calls). */
  ids: { record: string; pair?: string };
}

/** The rows a run takes, as an estimate needs them: how many, and the length of their prompts in all. */
export interface RowSummary {
  length: number;
  promptChars: number;
}

/**
 * What one sample of a run is. The run engine (batch.ts) takes any recipe over the rows of an input file:
 * it owns the queue, concurrency, resume, budgets, progress, cancel and fail-fast; the recipe only turns
 * one row into the records to store.
 */
export interface Recipe {
  /** Stored on every record the recipe makes and in the run's options. */
  readonly name: string;
  /** The options that decide the output; they are saved in the run manifest and enter the run id. */
  readonly options: RunOptions;
  /** Id prefixes of what a sample stores: always a record, sometimes a pair linked to it. */
  readonly ids: { record: string; pair?: string };
  /** For a recipe that works on records already stored (grading them): the id of the row's record, instead of a new one. */
  recordIdOf?(row: InputRow): string;
  /** Model calls and tokens the rows still to run will take, roughly. */
  estimate(rows: RowSummary, alreadyDone: number): BatchEstimate;
  /** The model calls of one row; returns the records to store, in the order they are written (a linked record before the one it links to). */
  runSample(row: InputRow, ctx: SampleContext): Promise<StoredRecord[]>;
}
