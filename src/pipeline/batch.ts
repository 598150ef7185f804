import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import { intentDecomposer } from '../agents/intent-decomposer.js';
import { PROMPT_TEMPLATE_VERSION } from '../agents/shared.js';
import { endpointFor, ROLES, type Config, type ResolvedEndpoint } from '../config.js';
import type { AppContext } from '../context.js';
import { InputError } from '../errors.js';
import { newId } from '../ids.js';
import { screen, type ScreenOptions, type ScreenReport, type ScreenRequest } from '../exports/screen.js';
import { DEFAULT_NEAR_DUP_THRESHOLD } from '../exports/dedup.js';
import { DEFAULT_NGRAM, DEFAULT_OVERLAP } from '../exports/decontaminate.js';
import { readPromptFile, type InputRow } from '../inputs/read-prompts.js';
import { ModelError } from '../llm/chat-model.js';
import { log } from '../log.js';
import type { Policy } from '../policies/policy.js';
import type { PreferenceRecord, Usage } from '../store/record.js';
import { RUN_ID_PATTERN, type RunManifest, type RunOptions, type RunStatus, type SampleEvent } from '../store/run-store.js';
import { AdaptiveLimit } from './adaptive-limit.js';
import { deliberate } from './deliberate.js';
import { gradeCot } from './grade.js';
import { makePreferencePair } from './preference.js';
import { UsageMeter } from './usage.js';

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
  /** Dedup and decontamination of the input rows before the run: what was asked, and the loaded options. */
  screen?: { request: ScreenRequest; options: ScreenOptions };
}

/**
 * A dead endpoint, a wrong key or a wrong model name fails every sample the same way; going on would
 * spend hours producing nothing. Eight is the default concurrency, so the first wave decides, and each
 * of those samples already went through every retry of its calls: eight identical failures in a row
 * is an outage or a misconfiguration, not bad luck. One success and the run goes on to the end.
 */
export const FAIL_FAST_SAMPLES = 8;

export interface BatchEstimate {
  samples: number;
  already_done: number;
  to_run: number;
  calls_per_sample: { min: number; max: number };
  calls: { min: number; max: number };
  tokens: { min: number; max: number };
  cost_usd?: { min: number; max: number };
}

export interface BatchStatus {
  run_id: string;
  status: RunStatus;
  stop_reason?: string;
  error?: string;
  total: number;
  done: number;
  failed: number;
  pending: number;
  usage: Usage;
  cost_usd?: number;
  concurrency: number;
  rate_per_s: number;
  eta_s?: number;
  input: RunManifest['input'];
  options: RunOptions;
  created_at: string;
  failures: { index: number; error: string }[];
}

/**
 * A hash of what decides a run's output: each role's model and sampling settings, and the prompt
 * templates. Not where the model is served (a server restarted on another port gives the same
 * outputs) and never the key.
 */
export function configHash(config: Config): string {
  const settings = (endpoint: ResolvedEndpoint) => ({ model: endpoint.model, temperature: endpoint.temperature ?? null });
  const endpoints = ROLES.map((role) => [role, settings(endpointFor(config, role))]);
  const agents = config.agents.map((_, i) => settings(endpointFor(config, 'deliberator', i)));
  return createHash('sha256').update(JSON.stringify({ endpoints, agents, templates: PROMPT_TEMPLATE_VERSION })).digest('hex').slice(0, 16);
}

/** The hash run ids were derived from before they left out the server address; kept so older runs still resume. */
function addressedConfigHash(config: Config): string {
  const endpoints = ROLES.map((role) => [role, endpointFor(config, role)]);
  const agents = config.agents.map((_, i) => endpointFor(config, 'deliberator', i));
  return createHash('sha256').update(JSON.stringify({ endpoints, agents, templates: PROMPT_TEMPLATE_VERSION })).digest('hex').slice(0, 16);
}

/** Cost in USD of a usage total, when every model in it has a price. */
export function costOf(usage: Usage, prices: Config['prices']): number | undefined {
  if (Object.keys(prices).length === 0) return undefined;
  let cost = 0;
  for (const [model, counts] of Object.entries(usage.by_model)) {
    const price = prices[model];
    if (!price) return undefined;
    cost += (counts.prompt_tokens * price.input + counts.completion_tokens * price.output) / 1_000_000;
  }
  return cost;
}

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
  private done = 0;
  private failed = 0;
  private finishedThisSession = 0;
  /** How the samples finished so far in this session failed, until one succeeds (then it is cleared for good). */
  private openingFailures: string[] | undefined = [];
  private failFastAfter = 0;
  private startedAt = Date.now();
  private samples = new Map<number, SampleEvent>();
  private finished?: Promise<BatchStatus>;

  private constructor(
    private readonly ctx: AppContext,
    private manifest: RunManifest,
    private readonly rows: InputRow[],
    private readonly policies: Policy[],
    private readonly request: BatchRequest,
    readonly estimate: BatchEstimate,
    progress: { done: number; failed: number; usage: Usage; samples: Map<number, SampleEvent> },
  ) {
    this.limiter = new AdaptiveLimit(request.concurrency);
    this.done = progress.done;
    this.failed = progress.failed;
    this.meter.merge(progress.usage);
    this.samples = progress.samples;
  }

  get runId(): string {
    return this.manifest.id;
  }

  /** Reads the input, creates the run or checks that an existing one matches, and estimates the work. */
  static async prepare(ctx: AppContext, request: BatchRequest): Promise<BatchRun> {
    const inputPath = resolve(request.inputPath);
    const input = await readPromptFile(inputPath, request.column);
    let rows = request.limit !== undefined ? input.rows.slice(0, request.limit) : input.rows;
    // Screened over the whole selection before sharding, so every shard drops the same rows.
    const screened = request.screen ? screen(rows.map((row) => ({ key: row.index, prompt: row.prompt })), request.screen.options) : undefined;
    if (screened) rows = rows.filter((_, i) => screened.keep[i]);
    const shard = request.shard;
    if (shard) rows = rows.filter((row) => row.index % shard.count === shard.index - 1);
    const policies = ctx.policies.select(request.policyIds);
    const options: RunOptions = {
      agents: request.agents,
      max_rounds: request.maxRounds,
      grade: request.grade,
      preference: request.preference,
      belief_rounds: request.beliefRounds,
      min_margin: request.minMargin,
      policy_ids: policies.map((p) => p.id),
      ...(request.screen ? { screen: screenIdentity(request.screen.request) } : {}),
    };
    const inputInfo: RunManifest['input'] = {
      path: inputPath,
      sha256: input.sha256,
      column: input.column,
      rows: input.rows.length,
      ...(request.limit !== undefined ? { limit: request.limit } : {}),
      ...(shard ? { shard: `${shard.index}/${shard.count}` } : {}),
    };
    const hash = configHash(ctx.config);
    // The same input, options and models give the same run id, so running the same command again resumes.
    const derivedId = (configDigest: string) => {
      const identity = JSON.stringify({ sha256: input.sha256, column: input.column, limit: request.limit, shard: inputInfo.shard, options, hash: configDigest });
      return `run-${createHash('sha256').update(identity).digest('hex').slice(0, 12)}`;
    };
    let runId = request.runId ?? derivedId(hash);
    if (!request.runId && !(await ctx.runs.readManifest(runId))) {
      const older = derivedId(addressedConfigHash(ctx.config));
      if (await ctx.runs.readManifest(older)) runId = older;
    }
    if (!RUN_ID_PATTERN.test(runId)) throw new InputError(`run_id: "${runId}" is not allowed; use 3–64 lowercase letters, digits, "-" or "_"`);

    const holder = await ctx.runs.lockHolder(runId);
    if (holder) throw new InputError(`run_id: run "${runId}" is already running in process ${holder.pid}; wait for it or cancel it`);
    const existing = await ctx.runs.readManifest(runId);
    if (existing) {
      if (existing.input.sha256 !== input.sha256) throw new InputError(`run_id: run "${runId}" was made from a different input file (its content changed); use another run id`);
      const differs = (Object.keys(options) as (keyof RunOptions)[]).filter((k) => JSON.stringify(existing.options[k]) !== JSON.stringify(options[k]));
      if (differs.length > 0) throw new InputError(`run_id: run "${runId}" was made with other options (${differs.join(', ')}); use the same options to resume, or another run id`);
      if (existing.input.column !== input.column || existing.input.limit !== request.limit || existing.input.shard !== inputInfo.shard) {
        throw new InputError(`run_id: run "${runId}" covers other rows (column, limit or shard differ); use another run id`);
      }
    }
    const now = new Date().toISOString();
    const manifest: RunManifest = existing
      ? { ...existing, status: 'running', updated_at: now, config_hash: hash, stop_reason: undefined, error: undefined }
      : { id: runId, created_at: now, updated_at: now, status: 'running', input: inputInfo, options, total: rows.length, config_hash: hash, ...(screened ? { screened: screened.report } : {}) };
    const progress = await ctx.runs.progress(runId);
    const estimate = estimateWork(ctx, request, rows, policies, progress.done);
    return new BatchRun(ctx, manifest, rows, policies, request, estimate, progress);
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

  /** Stops the run because whoever started it is gone (the client closed the connection); it resumes when started again. */
  interrupt(reason: string): void {
    this.stop('interrupted', reason);
  }

  private stop(status: 'cancelled' | 'interrupted', reason: string): void {
    if (this.status !== 'running') return;
    this.status = status;
    this.stopReason = reason;
    this.abortAll();
  }

  snapshot(): BatchStatus {
    const elapsed = (Date.now() - this.startedAt) / 1000;
    const rate = elapsed > 0 ? this.finishedThisSession / elapsed : 0;
    const pending = this.manifest.total - this.done;
    const cost = costOf(this.meter.usage, this.ctx.config.prices);
    const failures = [...this.samples.values()].filter((e) => e.s === 'failed').slice(0, 20).map((e) => ({ index: e.i, error: e.error ?? '' }));
    return {
      run_id: this.manifest.id,
      status: this.status,
      ...(this.stopReason ? { stop_reason: this.stopReason } : {}),
      ...(this.error ? { error: this.error } : {}),
      total: this.manifest.total,
      done: this.done,
      failed: this.failed,
      pending,
      usage: structuredClone(this.meter.usage),
      ...(cost !== undefined ? { cost_usd: round(cost, 6) } : {}),
      concurrency: this.limiter.limit,
      rate_per_s: round(rate, 3),
      ...(rate > 0 && this.status === 'running' ? { eta_s: Math.round((pending - this.failed) / rate) } : {}),
      input: this.manifest.input,
      options: this.manifest.options,
      created_at: this.manifest.created_at,
      failures,
    };
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
      const models = this.ctx.models.derive({ cache, onRetry: (kind) => kind === 'rate_limit' && this.limiter.onRateLimit() });
      const queue = this.rows.filter((row) => this.samples.get(row.index)?.s !== 'done');
      const failFast = this.request.failFast ?? FAIL_FAST_SAMPLES;
      // A run smaller than the threshold is judged on all of its samples.
      this.failFastAfter = failFast > 0 ? Math.min(failFast, queue.length) : 0;
      onProgress?.(this.snapshot());
      await new Promise<void>((resolveAll) => {
        // `active` counts samples in their model-call phase (what concurrency limits); `outstanding`
        // also counts samples still writing their results, which the run waits for before it ends.
        let active = 0;
        let outstanding = 0;
        const pump = () => {
          while (this.status === 'running' && queue.length > 0 && active < this.limiter.limit) {
            const budget = this.budgetReached(outstanding);
            if (budget) {
              this.status = 'stopped';
              this.stopReason = budget;
              break;
            }
            const row = queue.shift() as InputRow;
            active++;
            outstanding++;
            let freed = false;
            const freeSlot = () => {
              if (freed) return;
              freed = true;
              active--;
              pump();
            };
            this.runSample(row, models, freeSlot)
              .catch((error: unknown) => {
                // Only a failure of our own storage lands here; the run cannot go on safely.
                this.status = 'failed';
                this.error = error instanceof Error ? error.message : String(error);
                this.abortAll();
              })
              .finally(() => {
                freeSlot();
                outstanding--;
                onProgress?.(this.snapshot());
                pump();
              });
          }
          if (outstanding === 0 && (this.status !== 'running' || queue.length === 0)) resolveAll();
        };
        pump();
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
      await this.ctx.runs.release(this.manifest.id);
      await (await this.ctx.requestCache()).release();
      await unlock();
    }
    const final = this.snapshot();
    onProgress?.(final);
    return final;
  }

  /** Why no further sample may start, if a budget says so. Budgets count the whole run, across resumes. */
  private budgetReached(inFlight: number): string | undefined {
    const { maxSamples, maxTokens, maxCost } = this.request.budgets;
    const usage = this.meter.usage;
    if (maxSamples !== undefined && this.done + inFlight >= maxSamples) return `max_samples (${maxSamples}) reached`;
    if (maxTokens !== undefined && usage.prompt_tokens + usage.completion_tokens >= maxTokens) return `max_tokens (${maxTokens}) reached`;
    if (maxCost !== undefined) {
      const cost = costOf(usage, this.ctx.config.prices);
      if (cost !== undefined && cost >= maxCost) return `max_cost ($${maxCost}) reached`;
    }
    return undefined;
  }

  /**
   * One sample: its model calls, then its writes. `freeSlot` is called once the model calls are over,
   * so the next sample's calls start while this one's results are written.
   */
  private async runSample(row: InputRow, models: ReturnType<AppContext['models']['derive']>, freeSlot: () => void): Promise<void> {
    const prior = this.samples.get(row.index);
    const recordId = prior?.record_id ?? newId('cot');
    const pairId = this.request.preference ? (prior?.pair_id ?? newId('pref')) : undefined;
    const started: SampleEvent = { i: row.index, s: 'started', record_id: recordId, ...(pairId ? { pair_id: pairId } : {}), at: new Date().toISOString() };
    // The "started" line (which fixes the record ids for a resume) is written while the first model
    // call is under way; it is awaited before anything else is written.
    const startedWrite = this.ctx.runs.append(this.manifest.id, started);
    startedWrite.catch(() => undefined);
    const wasFailed = prior?.s === 'failed';
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
      let record = await deliberate({
        prompt: row.prompt,
        policies: this.policies,
        agents: this.request.agents,
        maxRounds: this.request.maxRounds,
        models,
        signal,
        id: recordId,
        meter,
        runId,
        metadata: { ...row.metadata, row_index: row.index },
      });
      if (this.request.grade) {
        const grades = await gradeCot({ prompt: record.prompt, intents: { possible_misuse: [], ...record.intents }, thoughts: record.refined_thoughts, response: record.response, policies: this.policies, models, meter, signal });
        record = { ...record, grades, usage: structuredClone(meter.usage) };
      }
      let pair: PreferenceRecord | undefined;
      if (this.request.preference) {
        const pairMeter = new UsageMeter();
        try {
          const made = await makePreferencePair({
            source: record,
            policies: this.policies,
            beliefRounds: this.request.beliefRounds,
            minMargin: this.request.minMargin,
            models,
            signal,
            id: pairId,
            meter: pairMeter,
          });
          pair = made.pair;
          record = record.grades ? record : { ...record, grades: made.chosenGrades };
        } finally {
          meter.merge(pairMeter.usage);
        }
      }
      endCalls();
      await startedWrite;
      if (pair) await this.ctx.store.put(pair);
      await this.ctx.store.put(record);
      const event: SampleEvent = { ...started, s: 'done', usage: meter.usage, at: new Date().toISOString() };
      await this.ctx.runs.append(runId, event);
      this.samples.set(row.index, event);
      this.done++;
      if (wasFailed) this.failed--;
      this.finishedThisSession++;
      this.openingFailures = undefined;
      this.limiter.onSuccess();
    } catch (error) {
      endCalls();
      await startedWrite;
      if (signal.aborted) return; // cancelled: the sample stays "started" and is redone on resume
      if (!(error instanceof ModelError)) throw error;
      const event: SampleEvent = { ...started, s: 'failed', prompt: row.prompt.slice(0, 2_000), metadata: row.metadata, error: error.message, ...(error.raw ? { raw: error.raw.slice(0, 20_000) } : {}), usage: meter.usage, at: new Date().toISOString() };
      await this.ctx.runs.append(runId, event);
      this.samples.set(row.index, event);
      if (!wasFailed) this.failed++;
      this.finishedThisSession++;
      this.noteFailure(error);
    } finally {
      endCalls();
      this.inFlight.delete(controller);
    }
  }

  /** Fails the run when its first samples all failed for one reason (same kind, same HTTP status). */
  private noteFailure(error: ModelError): void {
    const opening = this.openingFailures;
    if (!opening || this.failFastAfter === 0 || this.status !== 'running') return;
    opening.push(`${error.kind}${error.status ? ` ${error.status}` : ''}`);
    if (opening.length < this.failFastAfter) return;
    if (opening.some((reason) => reason !== opening[0])) {
      this.openingFailures = undefined;
      return;
    }
    this.status = 'failed';
    this.stopReason = `the first ${opening.length} samples all failed (${opening[0]})`;
    this.error = `stopped early: the first ${opening.length} samples all failed the same way; fix the cause and run again to resume. Last error: ${error.message}`;
    this.abortAll();
  }

  private abortAll(): void {
    this.aborted = true;
    for (const controller of this.inFlight) controller.abort();
  }
}

function screenIdentity(request: ScreenRequest): NonNullable<RunOptions['screen']> {
  return {
    ...(request.dedup ? { dedup_threshold: request.dedupThreshold ?? DEFAULT_NEAR_DUP_THRESHOLD } : {}),
    ...(request.decontaminate ? { decontaminate: request.decontaminate, ngram: request.ngram ?? DEFAULT_NGRAM, ngram_overlap: request.overlap ?? DEFAULT_OVERLAP } : {}),
  };
}

function estimateWork(ctx: AppContext, request: BatchRequest, rows: InputRow[], policies: Policy[], alreadyDone: number): BatchEstimate {
  const turnsMax = request.agents * request.maxRounds;
  const pipelineMin = 5;
  const pipelineMax = 4 + turnsMax;
  const gradeCalls = request.grade ? 1 : 0;
  const prefMin = request.preference ? 3 + (request.grade ? 1 : 2) : 0;
  const prefMax = request.preference ? 3 * request.beliefRounds + (request.grade ? 1 : 2) : 0;
  const perSample = { min: pipelineMin + gradeCalls + prefMin, max: pipelineMax + gradeCalls + prefMax };
  const toRun = Math.max(0, rows.length - alreadyDone);
  const systemTokens = Math.ceil(intentDecomposer.build({ prompt: '', policies })[0]!.content.length / 4);
  const avgPromptTokens = rows.length ? Math.ceil(rows.reduce((n, r) => n + r.prompt.length, 0) / rows.length / 4) : 0;
  // Later stages carry the thoughts so far: a few hundred tokens more per call, and a few hundred out.
  const perCallMin = systemTokens + avgPromptTokens + 150;
  const perCallMax = systemTokens + avgPromptTokens + 900;
  const tokens = { min: toRun * perSample.min * perCallMin, max: toRun * perSample.max * perCallMax };
  const price = ctx.config.prices[endpointFor(ctx.config, 'intents').model];
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

function round(value: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/** One line on a run: done/failed, rate, ETA, tokens, cost, concurrency, and how it ended. */
export function statusLine(s: BatchStatus): string {
  const tokens = s.usage.prompt_tokens + s.usage.completion_tokens;
  const parts = [
    `${s.done}/${s.total} done`,
    `${s.failed} failed`,
    `${s.rate_per_s.toFixed(2)}/s`,
    s.eta_s !== undefined ? `ETA ${duration(s.eta_s)}` : undefined,
    `${compact(tokens)} tokens`,
    s.cost_usd !== undefined ? `$${s.cost_usd.toFixed(4)}` : undefined,
    `concurrency ${s.concurrency}`,
    s.status !== 'running' ? `${s.status}${s.stop_reason && s.stop_reason !== s.status ? ` (${s.stop_reason})` : ''}` : undefined,
  ];
  return parts.filter(Boolean).join(' · ');
}

function duration(seconds: number): string {
  if (seconds < 60) return `${seconds}s`;
  const m = Math.floor(seconds / 60);
  return m < 60 ? `${m}m${String(seconds % 60).padStart(2, '0')}s` : `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

function compact(n: number): string {
  return n >= 1e6 ? `${(n / 1e6).toFixed(1)}M` : n >= 1e3 ? `${(n / 1e3).toFixed(1)}k` : String(n);
}
