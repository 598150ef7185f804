import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import type { AppContext } from '../context.js';
import { SUITE_NAMES } from '../eval/suites.js';
import { log } from '../log.js';
import { evalIdField, jsonSafe } from './eval-schemas.js';
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
      title: 'Evaluate models on safety',
      description:
        'Evaluate models on safety benchmarks or a prompt file; a judge rates every reply. Returns the eval id at once; follow with get_eval. Starting it again resumes it.',
      inputSchema: z.object({
        targets: z
          .array(
            z.object({
              target: z.string().min(1).max(2_000).describe('An OpenAI-compatible base URL or a role, e.g. responder.'),
              model: z.string().min(1).max(200).optional().describe('Required with a URL.'),
            }),
          )
          .min(1, 'targets must name at least one model')
          .max(8, 'targets may name at most 8 models'),
        suites: z.array(z.enum(SUITE_NAMES as [string, ...string[]])).max(SUITE_NAMES.length).optional(),
        input_path: z.string().min(1).max(MAX_NAME_CHARS).optional().describe('A prompt file, judged for safe responses.'),
        column: z.string().min(1).max(200).optional(),
        limit: range('limit', 1, 10_000_000).optional().describe('Per suite.'),
        concurrency: range('concurrency', 1, 256).default(8),
        max_samples: range('max_samples', 1, 10_000_000).optional().describe('Per run.'),
        max_tokens: range('max_tokens', 1, 1e15).optional().describe('Per run.'),
        eval_id: evalIdField.optional(),
        wait: z.boolean().default(false).describe('Return the results when it ends.'),
      }),
      outputSchema: z.object({
        eval_id: z.string(),
        status: z.string(),
        runs: z.array(z.object({ run_id: z.string(), target: z.string(), suite: z.string() })),
        estimate: z.object({ samples: z.number().int(), to_run: z.number().int() }),
        result: z.looseObject({}).optional().describe('With wait: what get_eval returns.'),
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
