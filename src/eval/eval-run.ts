import { createHash } from 'node:crypto';
import { EVAL_TEMPLATE_VERSION } from '../agents/eval-shared.js';
import { endpointFor } from '../config.js';
import type { AppContext } from '../context.js';
import { InputError } from '../errors.js';
import { BatchRun, type BatchStatus } from '../pipeline/batch.js';
import { evalRecipe } from '../pipeline/recipes/eval.js';
import { EVAL_ID_PATTERN, EvalStore, type EvalManifest } from '../store/eval-store.js';
import type { RunStatus } from '../store/run-store.js';
import type { OpenedFile } from '../inputs/opened-file.js';
import { customSuite, loadSuite, parseSuites } from './suites.js';
import { resolveTarget, TargetClient, uniqueLabels, type TargetsFrom } from './target.js';

export interface EvalRequest {
  targets: { target: string; model?: string }[];
  /** A client's URL targets are held to AIDSAFE_EVAL_TARGETS and get no key the operator did not tie to them. */
  targetsFrom: TargetsFrom;
  /** Comma-separated suite names; may be empty when `input` is given. */
  suites?: string;
  /** Any other prompt file, judged like the harm suites. */
  input?: { path: string; column?: string; /** Opened and checked already (a file a client named): read through it, never by name. */ file?: OpenedFile };
  limit?: number;
  concurrency: number;
  /** Each applies to each target × suite run. */
  budgets: { maxSamples?: number; maxTokens?: number; maxCost?: number };
  evalId?: string;
  /** Folder of the suites' prompt files (default: suitesDir()). */
  suitesDir?: string;
  failFast?: number;
}

export interface EvalProgress {
  eval_id: string;
  /** 1-based: which of the runs is under way. */
  run: number;
  runs: number;
  target: string;
  suite: string;
  status: BatchStatus;
}

/**
 * One evaluation: every suite's prompts sent to every target and judged. Each target × suite pair is
 * a run of the run engine with the eval recipe, so it is resumable, cached, budgeted and cancellable
 * like a dataset run; the same command (same targets, suites, limit and judge) resumes the same runs.
 */
export class EvalRun {
  private current?: BatchRun;
  private stopped?: 'cancelled' | 'interrupted';

  private constructor(
    private readonly ctx: AppContext,
    readonly manifest: EvalManifest,
    private readonly runs: { run: BatchRun; target: string; suite: string }[],
  ) {}

  get evalId(): string {
    return this.manifest.id;
  }

  /** Resolves targets and suites, checks that every target answers, and prepares (creates or resumes) each run. */
  static async prepare(ctx: AppContext, request: EvalRequest): Promise<EvalRun> {
    if (request.targets.length === 0) throw new InputError('target: give at least one target (an http(s) URL with its model, or a configured role)');
    const targets = uniqueLabels(request.targets.map((t) => resolveTarget(ctx.config, t.target, t.model, request.targetsFrom)));
    const chosen = [...(request.suites ? parseSuites(request.suites) : []), ...(request.input ? [customSuite(request.input.path, request.input.column)] : [])];
    if (chosen.length === 0) throw new InputError('suite: give suites (xstest, strongreject, harmbench, advbench, donotanswer) or an input file');
    const suites = await Promise.all(chosen.map((s) => loadSuite(s, { dir: request.suitesDir, limit: request.limit, ...(s.name === 'custom' && request.input?.file ? { file: request.input.file } : {}) })));
    const cache = await ctx.requestCache();
    const clients = targets.map((t) => new TargetClient(t, { timeoutMs: ctx.config.requestTimeoutMs, maxRetries: ctx.config.maxRetries, maxReplyBytes: ctx.config.maxReplyBytes, cache }));
    await Promise.all(clients.map((c) => c.checkReachable()));
    const runs: { run: BatchRun; target: string; suite: string }[] = [];
    for (const loaded of suites) {
      for (const client of clients) {
        const run = await BatchRun.prepare(
          ctx,
          {
            inputPath: loaded.path,
            ...(loaded.suite.name === 'custom' && request.input?.file ? { inputFile: request.input.file } : {}),
            // The built-in suites are read with the default column choice, which puts HarmBench's contexts before their behaviors.
            column: loaded.suite.name === 'custom' ? loaded.suite.column : undefined,
            limit: request.limit,
            concurrency: request.concurrency,
            grade: false,
            preference: false,
            agents: 0,
            maxRounds: 0,
            beliefRounds: 0,
            minMargin: 0,
            budgets: request.budgets,
            ...(request.failFast !== undefined ? { failFast: request.failFast } : {}),
          },
          evalRecipe(ctx.config, loaded.suite, client),
        );
        runs.push({ run, target: client.spec.label, suite: loaded.suite.name });
      }
    }
    const judge = endpointFor(ctx.config, 'judge');
    const id = request.evalId ?? `eval-${createHash('sha256').update(JSON.stringify(runs.map((r) => r.run.runId))).digest('hex').slice(0, 12)}`;
    if (!EVAL_ID_PATTERN.test(id)) throw new InputError(`eval_id: "${id}" is not allowed; use "eval-" then 3–59 lowercase letters, digits, "-" or "_"`);
    const store = new EvalStore(ctx.config.dataDir);
    const existing = await store.read(id);
    const now = new Date().toISOString();
    const manifest: EvalManifest = {
      id,
      created_at: existing?.created_at ?? now,
      updated_at: now,
      targets: targets.map((t) => ({ label: t.label, model: t.model, ...(t.baseURL ? { base_url: t.baseURL } : {}), ...(t.role ? { role: t.role } : {}), temperature: t.temperature })),
      suites: suites.map((s) => ({ name: s.suite.name, kind: s.suite.kind, path: s.path, sha256: s.sha256, column: s.suite.column, prompts: s.prompts.length, license: s.suite.license, source: s.suite.source })),
      ...(request.limit !== undefined ? { limit: request.limit } : {}),
      judge_model: judge.model,
      templates: EVAL_TEMPLATE_VERSION,
      runs: runs.map((r) => ({ run_id: r.run.runId, target: r.target, suite: r.suite })),
    };
    await store.write(manifest);
    return new EvalRun(ctx, manifest, runs);
  }

  /** Samples in all, and how many are done already. */
  get estimate(): { samples: number; already_done: number; to_run: number; calls: number } {
    const samples = this.runs.reduce((n, r) => n + r.run.estimate.samples, 0);
    const done = this.runs.reduce((n, r) => n + r.run.estimate.already_done, 0);
    return { samples, already_done: done, to_run: samples - done, calls: 2 * (samples - done) };
  }

  /** Runs each target × suite run in turn; stops at the first that does not finish (cancelled, failed, or stopped by a budget). */
  async start(onProgress?: (progress: EvalProgress) => void): Promise<{ status: RunStatus; runs: BatchStatus[] }> {
    const finals: BatchStatus[] = [];
    for (const [i, { run, target, suite }] of this.runs.entries()) {
      if (this.stopped) break;
      this.current = run;
      this.ctx.batches.set(run.runId, run);
      const final = await run.start((status) => onProgress?.({ eval_id: this.manifest.id, run: i + 1, runs: this.runs.length, target, suite, status }));
      finals.push(final);
      if (final.status !== 'done') return { status: final.status, runs: finals };
    }
    return { status: this.stopped ?? 'done', runs: finals };
  }

  cancel(): void {
    this.stopped = 'cancelled';
    this.current?.cancel();
  }

  /** Stopped by a signal: the run under way is saved as interrupted, and the same evaluation resumes it. */
  interrupt(reason: string): void {
    this.stopped = 'interrupted';
    this.current?.interrupt(reason);
  }
}
