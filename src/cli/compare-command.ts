import { resolve } from 'node:path';
import { compareRuns } from '../compare/compare-runs.js';
import { comparisonTable } from '../compare/comparison-table.js';
import { createContext, type AppContext } from '../context.js';
import { buildCompareReport } from '../report/compare-report.js';
import { writeOutput } from '../store/write-file.js';
import { UsageError } from './commands.js';
import { parseFlags } from './options.js';
import { progressView } from './progress-view.js';
import { COMMANDS } from './usage.js';

/** `aidsafe-mcp compare`: two runs side by side; the table on stderr, the JSON on stdout, and an HTML report with --out. */
export async function compareCommand(argv: string[], ctxFactory: () => Promise<AppContext> = () => createContext()): Promise<number> {
  const { values } = parseFlags('compare', COMMANDS.compare, argv);
  const runs = values.run ?? [];
  if (runs.length !== 2) throw new UsageError(`--run must be given twice, once per run (got ${runs.length}; \`aidsafe-mcp runs\` lists them)`);
  const concurrency = values.concurrency === undefined ? 8 : Number(values.concurrency);
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 256) throw new UsageError(`--concurrency must be a whole number from 1 to 256 (got "${values.concurrency}")`);
  const ctx = await ctxFactory();
  const controller = new AbortController();
  const stop = () => controller.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    const view = progressView(process.stderr);
    const comparison = await compareRuns(ctx, [runs[0]!, runs[1]!], {
      concurrency,
      signal: controller.signal,
      onGrading: (runId, status) => {
        if (status.done + status.failed === 0 && status.status === 'running') process.stderr.write(`grading the ungraded samples of ${runId} (run ${status.run_id})\n`);
        view(status);
      },
    });
    process.stderr.write(comparisonTable(comparison));
    let report: string | undefined;
    if (values.out) {
      report = resolve(values.out);
      await writeOutput(report, await buildCompareReport(ctx, comparison));
      process.stderr.write(`report: ${report}\n`);
    }
    process.stdout.write(JSON.stringify({ ...comparison, ...(report ? { report } : {}) }) + '\n');
    return 0;
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    await ctx.close();
  }
}
