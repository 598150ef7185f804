import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { createContext, type AppContext } from '../context.js';
import { InputError, UsageError } from '../errors.js';
import { BATCH_IN_FLIGHT, MAX_BATCH_IN_FLIGHT } from '../llm/batch/in-flight.js';
import { preflight, rolesOfRun } from '../llm/preflight.js';
import { BatchRun, type BatchRequest } from '../pipeline/batch.js';
import { parseShard } from '../pipeline/shard.js';
import { buildRunReport } from '../report/run-report.js';
import { HUB_REPO_PATTERN, HubPushError, pushToHub } from '../exports/hub.js';
import { screenOptionsFor, screenSummary, type ScreenRequest } from '../exports/screen.js';
import { parseSplits } from '../exports/splits.js';
import { EXPORT_FORMATS, exportDataset, REASONING_MODES, SFT_SHAPES, type ExportFormat, type SystemPrompt } from '../store/export.js';
import { RECIPES, type RecipeName } from '../store/record.js';
import { pairCountsLine } from '../store/pair-outcome.js';
import type { RunOptions } from '../store/run-store.js';
import { writeOutput } from '../store/write-file.js';
import { parseFlags } from './options.js';
import { progressView } from './progress-view.js';
import { COMMANDS } from './usage.js';

export { InputError, UsageError };

export function int(name: string, value: string | undefined, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) throw new UsageError(`--${name} must be a whole number from ${min} to ${max} (got "${value}")`);
  return n;
}

export function num(name: string, value: string | undefined, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n < min || n > max) throw new UsageError(`--${name} must be a number from ${min} to ${max} (got "${value}")`);
  return n;
}

export function recipeArg(value: string | undefined): RecipeName {
  if (value === undefined) return 'aidsafe';
  if (!(RECIPES as readonly string[]).includes(value)) throw new UsageError(`--recipe must be one of ${RECIPES.join(', ')} (got "${value}")`);
  return value as RecipeName;
}

/** --batch-api, or --batch-files DIR and --batch-results FILE (whose folder takes the next waves when no DIR is given). */
function batchMode(values: { 'batch-api'?: boolean; 'batch-files'?: string; 'batch-results'?: string[] }): BatchRequest['batch'] {
  const results = values['batch-results'];
  const files = values['batch-files'] ?? (results?.length ? dirname(resolve(results[0]!)) : undefined);
  if (values['batch-api'] && files) throw new UsageError('--batch-api sends waves to the provider; --batch-files and --batch-results write and read them as files: use one or the other');
  if (values['batch-api']) return { kind: 'api' };
  if (files) return { kind: 'files', dir: resolve(files), ...(results?.length ? { results: results.map((r) => resolve(r)) } : {}) };
  return undefined;
}

/** `aidsafe-mcp run`: a dataset run from a prompt file, resumable by running the same command again. */
export async function runCommand(argv: string[], ctxFactory: () => Promise<AppContext> = () => createContext()): Promise<number> {
  const { values } = parseFlags('run', COMMANDS.run, argv);
  if (!values.input) throw new UsageError('--input PATH is required (a CSV or JSONL prompt file)');
  const batch = batchMode(values);
  const request: BatchRequest = {
    inputPath: resolve(values.input),
    column: values.column,
    limit: int('limit', values.limit, 1, 10_000_000),
    shard: values.shard === undefined ? undefined : parseShard(values.shard, '--shard'),
    concurrency: int('concurrency', values.concurrency, 1, batch ? MAX_BATCH_IN_FLIGHT : 256) ?? (batch ? BATCH_IN_FLIGHT : 8),
    recipe: recipeArg(values.recipe),
    grade: values.grade ?? false,
    preference: values.preference ?? false,
    agents: int('agents', values.agents, 1, 8) ?? 2,
    maxRounds: int('max-rounds', values['max-rounds'], 1, 10) ?? 3,
    beliefRounds: int('belief-rounds', values['belief-rounds'], 1, 5) ?? 3,
    minMargin: num('min-margin', values['min-margin'], 0, 4) ?? 1,
    policyIds: values.policy,
    budgets: {
      maxSamples: int('max-samples', values['max-samples'], 1, 10_000_000),
      maxTokens: int('max-tokens', values['max-tokens'], 1, Number.MAX_SAFE_INTEGER),
      maxCost: num('max-cost', values['max-cost'], 0, 1e9),
    },
    runId: values['run-id'],
    failFast: int('fail-fast', values['fail-fast'], 0, 10_000),
    ...(batch ? { batch } : {}),
  };
  const screen = screenRequest(values);
  if (screen.dedup || screen.decontaminate) request.screen = { request: screen, options: await screenOptionsFor(screen) };
  const ctx = await ctxFactory();
  const run = await BatchRun.prepare(ctx, request);
  // Checked once the input is, before the run is written; offline batches (--batch-files) call no server.
  if (request.batch?.kind !== 'files') await preflight(ctx, rolesOfRun(request));
  const dropped = run.screened && screenSummary(run.screened);
  if (dropped) process.stderr.write(`input: ${dropped} (listed in ${join(ctx.runs.dir, run.runId, 'run.json')})\n`);
  const e = run.estimate;
  process.stderr.write(
    `run ${run.runId}: ${e.samples} samples (${e.already_done} already done, ${e.to_run} to run); ` +
      `estimate ${e.calls.min}–${e.calls.max} model calls, ${e.tokens.min.toLocaleString('en')}–${e.tokens.max.toLocaleString('en')} tokens` +
      (e.cost_usd ? `, $${e.cost_usd.min}–$${e.cost_usd.max}` : '') +
      '\n',
  );
  // A signal interrupts the run, as it does a stdio server's: the same command resumes it.
  const stop = (signal: NodeJS.Signals) => run.interrupt(`interrupted: ${signal}`, { withdrawBatches: signal === 'SIGINT' });
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const final = await run.start(progressView(process.stderr));
  process.off('SIGINT', stop);
  process.off('SIGTERM', stop);
  const pairs = final.pairs;
  await ctx.close();
  if (pairs) process.stderr.write(`preference pairs: ${pairCountsLine(pairs)}; a dpo export takes the kept ones\n`);
  process.stdout.write(JSON.stringify({ run_id: final.run_id, status: final.status, stop_reason: final.stop_reason, total: final.total, done: final.done, failed: final.failed, ...(pairs ? { pairs } : {}), usage: { calls: final.usage.calls, cached_calls: final.usage.cached_calls, prompt_tokens: final.usage.prompt_tokens, completion_tokens: final.usage.completion_tokens }, cost_usd: final.cost_usd }) + '\n');
  if (final.status === 'failed') {
    process.stderr.write(`run failed: ${final.error ?? 'unknown error'}\n`);
    return RUN_EXIT.failed;
  }
  if (final.status !== 'done' || final.failed > 0) process.stderr.write(`run ${final.run_id} is ${final.status}${final.failed ? ` with ${final.failed} failed samples` : ''}: run the same command again to resume${final.failed ? ' (failed samples are retried)' : ''}\n`);
  if (final.status === 'cancelled' || final.status === 'interrupted') return RUN_EXIT.cancelled;
  return final.failed > 0 ? RUN_EXIT.someFailed : RUN_EXIT.ok;
}

/**
 * What `run` exits with, so a script can tell a clean dataset from a partial one. A budget stop with
 * no failed sample is a success: the run did what it was asked. 2 stays with bad command-line input.
 */
export const RUN_EXIT = { ok: 0, failed: 1, someFailed: 3, cancelled: 130 } as const;

/** `aidsafe-mcp export`: a run's (or every) record as files that TRL and the Hub take as they are, with a dataset card. */
export async function exportCommand(argv: string[], ctxFactory: () => Promise<AppContext> = () => createContext()): Promise<number> {
  const { values } = parseFlags('export', COMMANDS.export, argv);
  if (!values.format || !(EXPORT_FORMATS as readonly string[]).includes(values.format)) throw new UsageError(`--format must be one of ${EXPORT_FORMATS.join(', ')}`);
  if (!values.out) throw new UsageError('--out PATH is required');
  const sftShape = oneOf('sft-shape', values['sft-shape'], SFT_SHAPES);
  const reasoning = oneOf('reasoning', values.reasoning, REASONING_MODES);
  const hubRepo = values['push-to-hub'];
  if (hubRepo !== undefined && !HUB_REPO_PATTERN.test(hubRepo)) throw new UsageError(`--push-to-hub must be OWNER/NAME (got "${hubRepo}")`);
  if (values.private && hubRepo === undefined) throw new UsageError('--private goes with --push-to-hub');
  const screen = await screenOptionsFor(screenRequest(values));
  const ctx = await ctxFactory();
  const result = await exportDataset(ctx.store, ctx.runs, {
    format: values.format as ExportFormat,
    out: resolve(values.out),
    runId: values['run-id'],
    minScore: num('min-score', values['min-score'], 1, 5),
    sftShape,
    reasoning,
    system: await systemOption(values.system),
    splits: values.split !== undefined ? parseSplits(values.split, '--split') : undefined,
    screen,
    policies: ctx.policies,
  });
  for (const split of result.empty_splits ?? []) process.stderr.write(`split ${split}: no rows, so no file and no entry in the card\n`);
  if (hubRepo === undefined) {
    process.stdout.write(JSON.stringify(result) + '\n');
    return 0;
  }
  try {
    const hub = await pushToHub({ repo: hubRepo, private: values.private ?? false, files: result.files.map((f) => f.path), card: result.card, env: process.env });
    process.stdout.write(JSON.stringify({ ...result, hub }) + '\n');
    return 0;
  } catch (error) {
    if (!(error instanceof HubPushError)) throw error;
    process.stdout.write(JSON.stringify(result) + '\n');
    process.stderr.write(`${error.message}\nThe export is in place: ${result.files.map((f) => f.path).join(', ')} and ${result.card}\n`);
    return 1;
  }
}

function oneOf<T extends string>(name: string, value: string | undefined, allowed: readonly T[]): T | undefined {
  if (value === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(value)) throw new UsageError(`--${name} must be one of ${allowed.join(', ')} (got "${value}")`);
  return value as T;
}

/** The dedup and decontamination flags, shared by run and export. */
function screenRequest(values: { dedup?: boolean; 'dedup-threshold'?: string; decontaminate?: string; ngram?: string; 'ngram-overlap'?: string }): ScreenRequest {
  return {
    dedup: values.dedup,
    dedupThreshold: num('dedup-threshold', values['dedup-threshold'], 0, 1),
    decontaminate: values.decontaminate,
    ngram: int('ngram', values.ngram, 2, 50),
    overlap: num('ngram-overlap', values['ngram-overlap'], 0.01, 1),
  };
}

async function systemOption(value: string | undefined): Promise<SystemPrompt | undefined> {
  if (value === undefined || value === 'none') return value === undefined ? undefined : { mode: 'none' };
  if (value === 'policies') return { mode: 'policies' };
  const path = resolve(value);
  try {
    return { mode: 'file', path, text: (await readFile(path, 'utf8')).trim() };
  } catch {
    throw new UsageError(`--system must be none, policies or a readable text file (cannot read "${value}")`);
  }
}

/** `aidsafe-mcp report`: a run's self-contained HTML report. */
export async function reportCommand(argv: string[], ctxFactory: () => Promise<AppContext> = () => createContext()): Promise<number> {
  const { values } = parseFlags('report', COMMANDS.report, argv);
  if (!values['run-id']) throw new UsageError('--run-id ID is required (`aidsafe-mcp runs` lists them)');
  if (!values.out) throw new UsageError('--out FILE.html is required');
  const ctx = await ctxFactory();
  const report = await buildRunReport(ctx, values['run-id']);
  const out = resolve(values.out);
  await writeOutput(out, report.html);
  process.stdout.write(JSON.stringify({ path: out, samples: report.samples, embedded: report.embedded }) + '\n');
  return 0;
}

/** `aidsafe-mcp runs`: the runs in the data folder, newest first. */
export async function runsCommand(argv: string[], ctxFactory: () => Promise<AppContext> = () => createContext()): Promise<number> {
  parseFlags('runs', COMMANDS.runs, argv);
  const ctx = await ctxFactory();
  const manifests = await ctx.runs.list();
  if (manifests.length === 0) process.stdout.write(`no runs in ${join(ctx.config.dataDir, 'runs')}\n`);
  for (const m of manifests) {
    const p = await ctx.runs.progress(m.id);
    const holder = m.status === 'running' ? await ctx.runs.lockHolder(m.id) : undefined;
    const status = m.status === 'running' && !holder ? 'interrupted' : m.status;
    process.stdout.write(`${m.id}  ${status.padEnd(11)} ${p.done}/${m.total} done, ${p.failed} failed  ${m.created_at}  ${runOptionsLine(m)}  ${m.input.path}${m.input.shard ? ` shard ${m.input.shard}` : ''}\n`);
  }
  return 0;
}

/** A run's recipe and the options that tell two runs of one file apart, in one short field. */
export function runOptionsLine(m: { options: RunOptions; batch_mode?: string }): string {
  const o = m.options;
  if (o.eval) return `eval ${o.eval.suite} of ${o.eval.target_model}`;
  const recipe = o.recipe ?? 'aidsafe';
  const parts = [recipe];
  if (recipe === 'aidsafe') parts.push(`agents ${o.agents}`, `rounds ${o.max_rounds}`);
  if (o.grade) parts.push('grade');
  if (o.preference) parts.push(`preference (min margin ${o.min_margin})`);
  if (o.policy_ids.length > 0) parts.push(`policies ${o.policy_ids.join(',')}`);
  if (o.screen?.dedup_threshold !== undefined) parts.push('dedup');
  if (o.screen?.decontaminate) parts.push(`decontaminate ${o.screen.decontaminate}`);
  if (m.batch_mode) parts.push(`batch ${m.batch_mode}`);
  return parts.join(' · ');
}

