import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import type { AppContext } from '../context.js';
import { SUITE_NAMES } from '../eval/suites.js';
import { log } from '../log.js';
import { evalIdField, evalResultSchema, jsonSafe } from './eval-schemas.js';
import { MAX_NAME_CHARS } from './input-schemas.js';
import type { OpenedFile } from '../inputs/opened-file.js';
import { openAllowedFile } from './allowed-files.js';
import { annotations, guard, InputError, ok } from './tool-kit.js';

const range = (name: string, min: number, max: number) =>
  z
    .number()
    .int()
    .min(min, `${name} must be from ${min} to ${max}`)
    .max(max, `${name} must be from ${min} to ${max}`);

export function registerStartEval(server: McpServer, ctx: AppContext): void {
  server.registerTool(
    'start_eval',
    {
      title: 'Evaluate models on safety benchmarks',
      description:
        'Send the prompts of safety benchmarks (XSTest, StrongREJECT, HarmBench, AdvBench, Do-Not-Answer, or a prompt file) to one or more models, each prompt alone as a user message, and have the judge role rate every reply. Runs in the background, one resumable run per target and suite; returns the eval id at once (follow it with get_eval; stop it with cancel_batch on the run under way). Starting the same evaluation again resumes it.',
      inputSchema: z.object({
        targets: z
          .array(
            z.object({
              target: z.string().min(1).max(2_000).describe('An OpenAI-compatible base URL (e.g. http://127.0.0.1:8000/v1; sent no API key unless the server ties one to it, and limited to AIDSAFE_EVAL_TARGETS when the server sets it) or a configured role name (e.g. responder).'),
              model: z.string().min(1).max(200).optional().describe('The model name; required with a URL, optional with a role (default: the role’s model).'),
            }),
          )
          .min(1, 'targets must name at least one model')
          .max(8, 'targets may name at most 8 models')
          .describe('The models to evaluate, side by side.'),
        suites: z.array(z.enum(SUITE_NAMES as [string, ...string[]])).max(SUITE_NAMES.length).optional().describe(`Benchmark suites: ${SUITE_NAMES.join(', ')}.`),
        input_path: z.string().min(1).max(MAX_NAME_CHARS).optional().describe('Another prompt file to evaluate on (judged for safe responses), inside the data folder’s inputs/, AIDSAFE_INPUT_DIRS or (over stdio) a client root.'),
        column: z.string().min(1).max(200).optional().describe('The prompt column of input_path.'),
        limit: range('limit', 1, 10_000_000).optional().describe('Only the first N prompts of each suite.'),
        concurrency: range('concurrency', 1, 256).default(8).describe('Samples in flight at once (1–256).'),
        max_samples: range('max_samples', 1, 10_000_000).optional().describe('Per target and suite: stop once this many samples are done (resumable).'),
        max_tokens: range('max_tokens', 1, 1e15).optional().describe('Per target and suite: stop starting samples once this many tokens are used.'),
        eval_id: evalIdField.optional().describe('Name the evaluation (default: derived from targets, suites, limit and judge, so a repeat resumes).'),
        wait: z.boolean().default(false).describe('Keep the request open until the evaluation ends and return its results, with progress notifications (for scripts).'),
      }),
      outputSchema: z.object({
        eval_id: z.string(),
        status: z.string(),
        runs: z.array(z.object({ run_id: z.string(), target: z.string(), suite: z.string() })),
        estimate: z.object({ samples: z.number().int(), already_done: z.number().int(), to_run: z.number().int(), calls: z.number().int() }),
        result: evalResultSchema.optional().describe('With wait: the results when it ended.'),
      }),
      annotations: annotations.generate,
    },
    async (args, extra) =>
      guard('start_eval', async () => {
        if (!args.suites?.length && !args.input_path) throw new InputError(`suites: give at least one of ${SUITE_NAMES.join(', ')}, or an input_path`);
        if (args.column && !args.input_path) throw new InputError('column: goes with input_path');
        let input: { path: string; file: OpenedFile; column?: string } | undefined;
        if (args.input_path) {
          // Opened once and checked; every run of the evaluation reads it through this descriptor.
          const file = await openAllowedFile(ctx, server, 'input_path', args.input_path);
          input = { path: file.path, file, ...(args.column ? { column: args.column } : {}) };
        }
        const closeInput = () => input?.file.close();
        const [{ EvalRun }, { statusLine }] = await Promise.all([import('../eval/eval-run.js'), import('../pipeline/batch.js')]);
        const evaluation = await EvalRun.prepare(ctx, {
          targets: args.targets,
          targetsFrom: 'client',
          ...(args.suites?.length ? { suites: args.suites.join(',') } : {}),
          ...(input ? { input } : {}),
          limit: args.limit,
          concurrency: args.concurrency,
          budgets: { maxSamples: args.max_samples, maxTokens: args.max_tokens },
          ...(args.eval_id ? { evalId: args.eval_id } : {}),
        }).catch(async (error: unknown) => {
          await closeInput();
          throw error;
        });
        const token = extra._meta?.progressToken;
        const total = evaluation.estimate.samples;
        let sent = -1;
        const finished = evaluation.start(
          args.wait && token !== undefined
            ? (p) => {
                const progress = evaluation.estimate.samples - evaluation.estimate.to_run + p.status.done + p.status.failed;
                if (progress <= sent) return;
                sent = progress;
                void extra.sendNotification({ method: 'notifications/progress', params: { progressToken: token, progress, total, message: `${p.target} on ${p.suite}: ${statusLine(p.status)}` } }).catch(() => undefined);
              }
            : undefined,
        );
        void finished.then(closeInput, closeInput);
        const head = { eval_id: evaluation.evalId, runs: evaluation.manifest.runs, estimate: evaluation.estimate };
        if (!args.wait) {
          finished.catch((error: unknown) => log('error', `evaluation ${evaluation.evalId} stopped`, { error: String(error) }));
          return ok({ ...head, status: 'running' });
        }
        extra.signal.addEventListener('abort', () => evaluation.cancel(), { once: true });
        const final = await finished;
        const { loadEval } = await import('../eval/eval-result.js');
        const { result, failures } = await loadEval(ctx, evaluation.evalId);
        return ok(jsonSafe({ ...head, status: final.status, result: { ...result, failed_samples: failures.length } }));
      }),
  );
}
