import { join } from 'node:path';
import type { AppContext } from '../context.js';
import { newId } from '../ids.js';
import type { InputRow } from '../inputs/read-prompts.js';
import { openBatchBackend, type BatchBackend } from '../llm/batch/batch-backend.js';
import { ModelError } from '../llm/chat-model.js';
import type { ModelRouter } from '../llm/model-router.js';
import { log } from '../log.js';
import type { RunManifest, RunStatus, SampleEvent } from '../store/run-store.js';
import type { ScreenReport } from '../exports/screen.js';
import { AdaptiveLimit } from './adaptive-limit.js';
import { budgetReached, statusOf, type BatchEstimate, type BatchStatus } from './batch-status.js';
import type { Recipe } from './recipe.js';
import type { BatchRequest } from './batch-request.js';
import { FAIL_FAST_SAMPLES, FailFast } from './fail-fast.js';
import { runPool } from './sample-pool.js';
import type { RunRows } from './run-rows.js';
import { setUpRun } from './run-setup.js';
import type { SampleStates } from './sample-states.js';
import { pairOutcome } from '../store/pair-outcome.js';
import { healthOf, sampleHealth } from './health.js';
import { UsageMeter } from './usage.js';

export { costOf, statusLine, type BatchEstimate, type BatchStatus } from './batch-status.js';
export type { BatchRequest } from './batch-request.js';
export { FAIL_FAST_SAMPLES } from './fail-fast.js';

/**
 * One dataset run: every selected row of an input file through the pipeline, concurrently, with each
 * finished model call kept in the request cache and each finished sample in the run's log, so the
 * same run id resumes after a crash and repeats only the calls that were in flight.
 */
export class BatchRun {
  /**
   * One abort controller per sample in flight, rather than one signal shared by all of them: every
   * request in flight listens on its signal, and hundreds of listeners on one signal trip Node's
   * MaxListenersExceededWarning (and are a real leak if a request forgets to remove its own).
   */
  private readonly inFlight = new Set<AbortController>();
  private aborted = false;
  private readonly meter = new UsageMeter();
  private limiter: AdaptiveLimit;
  private status: RunStatus = 'running';
  private stopReason?: string;
  private error?: string;
  private finishedThisSession = 0;
  private failFast = new FailFast(0);
  private startedAt = Date.now();
  private finished?: Promise<BatchStatus>;
  /** In batch mode: the backend that sends model calls in waves. */
  private waves?: BatchBackend;

  private constructor(
    private readonly ctx: AppContext,
    private manifest: RunManifest,
    private readonly rows: RunRows,
    private readonly recipe: Recipe,
    private readonly request: BatchRequest,
    readonly estimate: BatchEstimate,
    /** Where each sample stands: bounded by the samples open, not the rows done. */
    private readonly samples: SampleStates,
  ) {
    this.limiter = new AdaptiveLimit(request.concurrency);
    this.meter.merge(samples.usage);
  }

  get runId(): string {
    return this.manifest.id;
  }

  /** Checks the input, creates the run or checks that an existing one matches, and estimates the work. */
  static async prepare(ctx: AppContext, request: BatchRequest, recipe?: Recipe): Promise<BatchRun> {
    const setup = await setUpRun(ctx, request, recipe);
    return new BatchRun(ctx, setup.manifest, setup.rows, setup.recipe, request, setup.estimate, setup.samples);
  }

  /** What dedup and decontamination dropped from the input before the run, if they were asked for. */
  get screened(): ScreenReport | undefined {
    return this.manifest.screened;
  }

  /** Runs to the end (or to a budget, or a cancel). Call once. */
  start(onProgress?: (status: BatchStatus) => void): Promise<BatchStatus> {
    this.finished ??= this.run(onProgress);
    return this.finished;
  }

  cancel(): void {
    this.stop('cancelled', 'cancelled');
  }

  /**
   * Stops the run because whoever started it is gone (the client closed the connection) or a signal
   * stopped the process; it resumes when started again. Batches still out are left for the next start
   * to collect, unless `withdrawBatches` (Ctrl-C at the CLI: the person stopping it wants no more spent).
   */
  interrupt(reason: string, options: { withdrawBatches?: boolean } = {}): void {
    this.stop('interrupted', reason, options.withdrawBatches === true);
  }

  private stop(status: 'cancelled' | 'interrupted', reason: string, withdrawBatches = status === 'cancelled'): void {
    if (this.status !== 'running') return;
    this.status = status;
    this.stopReason = reason;
    this.abortAll();
    if (withdrawBatches) void this.waves?.cancel();
  }

  snapshot(): BatchStatus {
    return statusOf({
      manifest: this.manifest,
      status: this.status,
      stopReason: this.stopReason,
      error: this.error,
      done: this.samples.done,
      failed: this.samples.failed,
      finishedThisSession: this.finishedThisSession,
      startedAt: this.startedAt,
      usage: this.meter.usage,
      prices: this.ctx.config.prices,
      concurrency: this.limiter.limit,
      failures: this.samples.failures,
      ...(this.manifest.options.preference ? { pairs: this.samples.pairs.summary() } : {}),
      health: this.health(),
      batch: this.waves?.progress(),
    });
  }

  /** The run's health figures so far: the same as the run report's. */
  health() {
    const pairs = this.manifest.options.preference ? this.samples.pairs.summary() : undefined;
    return healthOf(this.samples.health, this.meter.usage, this.ctx.config.prices, { batch: this.waves !== undefined, ...(pairs ? { pairs } : {}) });
  }

  private async run(onProgress?: (status: BatchStatus) => void): Promise<BatchStatus> {
    let unlock: (() => Promise<void>) | undefined;
    try {
      unlock = await this.ctx.runs.lock(this.manifest.id);
    } catch (error) {
      // Another process took the run between prepare and start: it is that process's run now.
      this.status = 'failed';
      this.error = error instanceof Error ? error.message : String(error);
      return this.snapshot();
    }
    try {
      await this.ctx.runs.writeManifest(this.manifest);
      const cache = await this.ctx.requestCache();
      if (this.request.batch) this.waves = await openBatchBackend({ mode: this.request.batch, config: this.ctx.config, runId: this.manifest.id, runDir: join(this.ctx.runs.dir, this.manifest.id), cache });
      const models = this.ctx.models.derive({ cache, onRetry: (kind) => kind === 'rate_limit' && this.limiter.onRateLimit(), factory: this.waves?.factory });
      const failFast = this.request.failFast ?? FAIL_FAST_SAMPLES;
      // A run smaller than the threshold is judged on all of its samples.
      this.failFast = new FailFast(failFast > 0 ? Math.min(failFast, this.manifest.total - this.samples.done) : 0);
      onProgress?.(this.snapshot());
      await runPool(this.queue(), {
        limit: () => this.limiter.limit,
        canStart: (outstanding) => this.mayStart(outstanding),
        start: (row, freeSlot) =>
          this.runSample(row, models, freeSlot).catch((error: unknown) => {
            // Only a failure of our own storage lands here; the run cannot go on safely.
            this.status = 'failed';
            this.error = error instanceof Error ? error.message : String(error);
            this.abortAll();
          }),
        onSettled: () => onProgress?.(this.snapshot()),
        onFilling: (filling) => this.waves?.filling(filling),
      });
      if (this.status === 'running') this.status = 'done';
    } catch (error) {
      this.status = 'failed';
      this.error = error instanceof Error ? error.message : String(error);
    } finally {
      this.manifest = {
        ...this.manifest,
        status: this.status,
        updated_at: new Date().toISOString(),
        ...(this.stopReason ? { stop_reason: this.stopReason } : {}),
        ...(this.error ? { error: this.error } : {}),
      };
      await this.ctx.runs.writeManifest(this.manifest).catch((e: unknown) => log('error', `run ${this.manifest.id}: cannot save its state`, { error: String(e) }));
      await this.waves?.stop().catch((e: unknown) => log('error', `run ${this.manifest.id}: cannot stop its batches`, { error: String(e) }));
      await this.ctx.runs.release(this.manifest.id);
      await (await this.ctx.requestCache()).release();
      await unlock();
    }
    const final = this.snapshot();
    onProgress?.(final);
    return final;
  }

  /** The rows not done yet, read from the input as the pool takes them. */
  private async *queue(): AsyncGenerator<InputRow> {
    for await (const row of this.rows.rows()) if (!this.samples.isDone(row.index)) yield row;
  }

  /** Whether another sample may start; a budget reached stops the run. */
  private mayStart(inFlight: number): boolean {
    if (this.status !== 'running') return false;
    const budget = budgetReached(this.request.budgets, { done: this.samples.done, inFlight, usage: this.meter.usage }, this.ctx.config.prices, this.waves !== undefined);
    if (budget) {
      this.status = 'stopped';
      this.stopReason = budget;
    }
    return !budget;
  }

  /**
   * One sample: its model calls, then its writes. `freeSlot` is called once the model calls are over,
   * so the next sample's calls start while this one's results are written.
   */
  private async runSample(row: InputRow, models: ModelRouter, freeSlot: () => void): Promise<void> {
    const prior = this.samples.openSample(row.index);
    const recordId = prior?.record_id ?? this.recipe.recordIdOf?.(row) ?? newId(this.recipe.ids.record);
    const t0 = Date.now();
    const pairPrefix = this.recipe.ids.pair;
    const pairId = pairPrefix ? (prior?.pair_id ?? newId(pairPrefix)) : undefined;
    const started: SampleEvent = { i: row.index, s: 'started', record_id: recordId, ...(pairId ? { pair_id: pairId } : {}), at: new Date().toISOString() };
    // The "started" line (which fixes the record ids for a resume) is written while the first model
    // call is under way; it is awaited before anything else is written.
    const startedWrite = this.ctx.runs.append(this.manifest.id, started);
    startedWrite.catch(() => undefined);
    const meter = new UsageMeter();
    const controller = new AbortController();
    if (this.aborted) controller.abort();
    this.inFlight.add(controller);
    const signal = controller.signal;
    const runId = this.manifest.id;
    // When the model calls are over, their usage counts toward the budgets before the next sample starts.
    let callsOver = false;
    const endCalls = () => {
      if (callsOver) return;
      callsOver = true;
      this.meter.merge(meter.usage);
      freeSlot();
    };
    try {
      if (!row.prompt.trim()) throw new ModelError('invalid_output', 'intents', '-', 0, 'the input row has an empty prompt');
      const calls = () => this.recipe.runSample(row, { models, meter, signal, runId, ids: { record: recordId, ...(pairId ? { pair: pairId } : {}) } });
      const records = await (this.waves ? this.waves.track(row.index, calls) : calls());
      endCalls();
      await startedWrite;
      for (const record of records) await this.ctx.store.put(record);
      const pair = records.find((r) => r.kind === 'preference');
      const outcome = pair ? pairOutcome(pair) : undefined;
      const health = sampleHealth(records, Date.now() - t0);
      const event: SampleEvent = { ...started, s: 'done', ...(outcome ? { pair: outcome } : {}), usage: meter.usage, health, at: new Date().toISOString() };
      await this.ctx.runs.append(runId, event);
      this.samples.succeeded(row.index, outcome, health);
      this.finishedThisSession++;
      this.failFast.succeeded();
      this.limiter.onSuccess();
    } catch (error) {
      endCalls();
      await startedWrite;
      if (signal.aborted) return; // cancelled: the sample stays "started" and is redone on resume
      if (!(error instanceof ModelError)) throw error;
      const event: SampleEvent = { ...started, s: 'failed', prompt: row.prompt.slice(0, 2_000), metadata: row.metadata, error: error.message, ...(error.raw ? { raw: error.raw.slice(0, 20_000) } : {}), usage: meter.usage, at: new Date().toISOString() };
      await this.ctx.runs.append(runId, event);
      this.samples.failedWith(row.index, error.message);
      this.finishedThisSession++;
      this.noteFailure(error);
    } finally {
      endCalls();
      this.inFlight.delete(controller);
    }
  }

  /** Fails the run when its first samples all failed for one reason. */
  private noteFailure(error: ModelError): void {
    if (this.status !== 'running') return;
    const verdict = this.failFast.failed(error);
    if (!verdict) return;
    this.status = 'failed';
    this.stopReason = `the first ${verdict.samples} samples all failed (${verdict.reason})`;
    this.error = `stopped early: the first ${verdict.samples} samples all failed the same way; fix the cause and run again to resume. Last error: ${error.message}`;
    this.abortAll();
  }

  private abortAll(): void {
    this.aborted = true;
    for (const controller of this.inFlight) controller.abort();
  }
}
