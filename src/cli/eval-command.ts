import { resolve } from 'node:path';
import { createContext, type AppContext } from '../context.js';
import { loadEval } from '../eval/eval-result.js';
import { EvalRun, type EvalRequest } from '../eval/eval-run.js';
import { evalTable } from '../eval/eval-table.js';
import { buildEvalReport } from '../report/eval-report.js';
import { writeOutput } from '../store/write-file.js';
import { RUN_EXIT, UsageError } from './commands.js';
import { parseFlags } from './options.js';
import { progressView } from './progress-view.js';
import { COMMANDS } from './usage.js';

function int(name: string, value: string | undefined, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) throw new UsageError(`--${name} must be a whole number from ${min} to ${max} (got "${value}")`);
  return n;
}

/** `aidsafe-mcp eval`: benchmark suites against one or more models, judged by the judge role; resumable by running the same command again. */
export async function evalCommand(argv: string[], ctxFactory: () => Promise<AppContext> = () => createContext()): Promise<number> {
  const { values, tokens } = parseFlags('eval', COMMANDS.eval, argv, { tokens: true });
  // Each --model belongs to the --target before it.
  const targets: { target: string; model?: string }[] = [];
  for (const token of tokens ?? []) {
    if (token.kind !== 'option') continue;
    if (token.name === 'target') targets.push({ target: token.value ?? '' });
    if (token.name === 'model') {
      const last = targets.at(-1);
      if (!last || last.model !== undefined) throw new UsageError('--model NAME goes after the --target it belongs to (--target URL --model NAME, once per target)');
      last.model = token.value;
    }
  }
  if (targets.length === 0) throw new UsageError('--target URL|ROLE is required (an OpenAI-compatible server with --model NAME, or a configured role such as responder)');
  if (!values.suite && !values.input) throw new UsageError('--suite xstest,strongreject,harmbench,advbench,donotanswer (or --input FILE --column C) is required');
  if (values.column && !values.input) throw new UsageError('--column goes with --input');
  const maxCost = values['max-cost'] === undefined ? undefined : Number(values['max-cost']);
  if (maxCost !== undefined && !(Number.isFinite(maxCost) && maxCost >= 0)) throw new UsageError(`--max-cost must be a number of USD (got "${values['max-cost']}")`);
  const request: EvalRequest = {
    targets,
    targetsFrom: 'operator',
    ...(values.suite ? { suites: values.suite } : {}),
    ...(values.input ? { input: { path: resolve(values.input), ...(values.column ? { column: values.column } : {}) } } : {}),
    limit: int('limit', values.limit, 1, 10_000_000),
    concurrency: int('concurrency', values.concurrency, 1, 256) ?? 8,
    budgets: { maxSamples: int('max-samples', values['max-samples'], 1, 10_000_000), maxTokens: int('max-tokens', values['max-tokens'], 1, Number.MAX_SAFE_INTEGER), maxCost },
    ...(values['eval-id'] ? { evalId: values['eval-id'] } : {}),
    failFast: int('fail-fast', values['fail-fast'], 0, 10_000),
  };
  const ctx = await ctxFactory();
  const evaluation = await EvalRun.prepare(ctx, request);
  const e = evaluation.estimate;
  process.stderr.write(`eval ${evaluation.evalId}: ${evaluation.manifest.runs.length} runs (targets × suites), ${e.samples} samples (${e.already_done} already done, ${e.to_run} to run), about ${e.calls} model calls; judge ${evaluation.manifest.judge_model}\n`);
  const stop = (signal: NodeJS.Signals) => evaluation.interrupt(`interrupted: ${signal}`);
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  let shown = 0;
  let view = progressView(process.stderr);
  const final = await evaluation.start((p) => {
    if (p.run !== shown) {
      shown = p.run;
      view = progressView(process.stderr);
      process.stderr.write(`run ${p.run}/${p.runs} ${p.status.run_id}: ${p.target} on ${p.suite}\n`);
    }
    view(p.status);
  });
  process.off('SIGINT', stop);
  process.off('SIGTERM', stop);
  const { result, samples, failures } = await loadEval(ctx, evaluation.evalId);
  if (values.out) {
    const out = resolve(values.out);
    await writeOutput(out, buildEvalReport(result, samples, failures));
    process.stderr.write(`report: ${out}\n`);
  }
  await ctx.close();
  process.stdout.write(values.json ? JSON.stringify(result) + '\n' : evalTable(result) + '\n');
  if (final.status === 'failed') {
    process.stderr.write(`eval failed: ${final.runs.at(-1)?.error ?? 'unknown error'}\n`);
    return RUN_EXIT.failed;
  }
  const failed = result.runs.reduce((n, r) => n + r.failed, 0);
  if (final.status !== 'done' || failed > 0) process.stderr.write(`eval ${evaluation.evalId} is ${final.status}${failed ? ` with ${failed} failed samples` : ''}: run the same command again to resume\n`);
  if (final.status === 'cancelled' || final.status === 'interrupted') return RUN_EXIT.cancelled;
  return failed > 0 ? RUN_EXIT.someFailed : RUN_EXIT.ok;
}
