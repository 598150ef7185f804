import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import type { AppContext } from '../context.js';
import { log } from '../log.js';
import { BATCH_IN_FLIGHT, MAX_BATCH_IN_FLIGHT } from '../llm/batch/in-flight.js';
import type { BatchRequest, BatchStatus } from '../pipeline/batch.js';
import { parseShard } from '../pipeline/shard.js';
import { runIdField } from './get-batch.js';
import { openAllowedFile } from './allowed-files.js';
import { MAX_NAME_CHARS, policyIdsField, recipeField, screenFields } from './input-schemas.js';
import { annotations, guard, InputError, ok } from './tool-kit.js';

/** Bounds of a run: far beyond any real one, but finite numbers a client can show. */
const MAX_ROWS = 10_000_000;
const MAX_RUN_TOKENS = 1e15;
const MAX_RUN_COST = 1e9;
const MAX_ONLINE_CONCURRENCY = 256;
const CONCURRENCY_RANGE = `concurrency must be from 1 to ${MAX_ONLINE_CONCURRENCY} (up to ${MAX_BATCH_IN_FLIGHT} with batch_api)`;


const range = (name: string, min: number, max: number) =>
  z
    .number()
    .int()
    .min(min, `${name} must be from ${min} to ${max}`)
    .max(max, `${name} must be from ${min} to ${max}`);

export function registerStartBatch(server: McpServer, ctx: AppContext): void {
  server.registerTool(
    'start_batch',
    {
      title: 'Start a dataset run',
      description:
        'Make a dataset from a CSV or JSONL prompt file in the background. Returns the run id at once; follow with get_batch, then export_dataset. Starting it again resumes it.',
      inputSchema: z.object({
        input_path: z
          .string()
          .min(1, 'input_path must not be empty')
          .max(MAX_NAME_CHARS, `input_path must be at most ${MAX_NAME_CHARS} characters`)
          .optional()
          .describe('In inputs/ (relative paths start there), AIDSAFE_INPUT_DIRS or a client root.'),
        preview: z.boolean().default(false).describe('Try the model on 8 prompts (shipped, or of input_path); get_batch has the verdict.'),
        column: z.string().min(1).max(200, 'column must be at most 200 characters').optional().describe('Default: prompt, question, goal…'),
        limit: range('limit', 1, MAX_ROWS).optional(),
        shard: z
          .string()
          .max(24, 'shard must be at most 24 characters')
          .regex(/^(\d+\/\d+|auto)$/, 'shard must be I/N (e.g. 1/4) or "auto"')
          .optional()
          .describe('"I/N" or "auto" (Kubernetes, Slurm).'),
        concurrency: z
          .number()
          .int()
          .min(1, CONCURRENCY_RANGE)
          .max(MAX_BATCH_IN_FLIGHT, CONCURRENCY_RANGE)
          .optional()
          .describe(`Default 8, ≤ ${MAX_ONLINE_CONCURRENCY}; batch_api: ${BATCH_IN_FLIGHT}.`),
        recipe: recipeField,
        grade: z.boolean().default(false),
        preference: z.boolean().default(false).describe('Preference pairs (aidsafe).'),
        agents: range('agents', 1, 8).default(2),
        max_rounds: range('max_rounds', 1, 10).default(3),
        belief_rounds: range('belief_rounds', 1, 5).default(3),
        min_margin: z.number().min(0, 'min_margin must be from 0 to 4').max(4, 'min_margin must be from 0 to 4').default(1),
        policy_ids: policyIdsField,
        run_id: runIdField.optional(),
        max_samples: range('max_samples', 1, MAX_ROWS).optional().describe('Budgets: the run stops, resumable.'),
        max_tokens: range('max_tokens', 1, MAX_RUN_TOKENS).optional(),
        max_cost: z.number().min(0, `max_cost must be from 0 to ${MAX_RUN_COST}`).max(MAX_RUN_COST, `max_cost must be from 0 to ${MAX_RUN_COST}`).optional().describe('USD; needs prices.'),
        ...screenFields,
        batch_api: z
          .boolean()
          .default(false)
          .describe('Provider Batch API: half price, hours.'),
        wait: z.boolean().default(false).describe('Return when it ends.'),
      }),
      outputSchema: z.object({
        run_id: z.string(),
        status: z.string(),
        // The estimate also gives calls, tokens and cost, each as min and max.
        estimate: z.object({ samples: z.number(), to_run: z.number() }),
        screened: z.object({ duplicates: z.number().int(), contaminated: z.number().int() }).optional(),
        final: z.object({ status: z.string(), done: z.number().int(), failed: z.number().int() }).optional().describe('With wait.'),
      }),
      annotations: annotations.generate,
    },
    async (args, extra) =>
      guard('start_batch', async () => {
        if (!args.batch_api && (args.concurrency ?? 0) > MAX_ONLINE_CONCURRENCY) throw new InputError(CONCURRENCY_RANGE);
        const { BatchRun, statusLine } = await import('../pipeline/batch.js');
        if (args.max_cost !== undefined && Object.keys(ctx.config.prices).length === 0) throw new InputError('max_cost: no prices are configured; add "prices" to the AIDSAFE_CONFIG file');
        if (args.input_path === undefined && !args.preview) throw new InputError('input_path: give the prompt file (CSV or JSONL), or preview: true to try the model on shipped prompts');
        const { PREVIEW_SAMPLES, previewSampleFile } = await import('../pipeline/preview-sample.js');
        const limit = args.limit ?? (args.preview ? PREVIEW_SAMPLES : undefined);
        // Opened once and checked; the run reads its rows through this descriptor, closed when the run ends.
        // A preview without a file reads the sample this program writes into the data folder.
        const input = args.input_path !== undefined ? await openAllowedFile(ctx, server, 'input_path', args.input_path) : undefined;
        const inputPath = input?.path ?? (await previewSampleFile(ctx.config.dataDir, limit));
        const run = await BatchRun.prepare(ctx, {
          inputPath,
          ...(input ? { inputFile: input } : {}),
          column: args.column,
          limit,
          ...(args.preview ? { runIdPrefix: 'preview' as const, failFast: 0 } : {}),
          shard: args.shard === undefined ? undefined : parseShard(args.shard, 'shard'),
          concurrency: args.concurrency ?? (args.batch_api ? BATCH_IN_FLIGHT : 8),
          recipe: args.recipe,
          grade: args.grade,
          preference: args.preference,
          agents: args.agents,
          maxRounds: args.max_rounds,
          beliefRounds: args.belief_rounds,
          minMargin: args.min_margin,
          policyIds: args.policy_ids,
          budgets: { maxSamples: args.max_samples, maxTokens: args.max_tokens, maxCost: args.max_cost },
          runId: args.run_id,
          screen: await screenFor(ctx, server, args),
          ...(args.batch_api ? { batch: { kind: 'api' as const } } : {}),
        }).catch(async (error: unknown) => {
          await input?.close();
          throw error;
        });
        if (ctx.batches.get(run.runId)?.snapshot().status === 'running') {
          await input?.close();
          throw new InputError(`run_id: run "${run.runId}" is already running`);
        }
        // Checked once the input is, before the run is written (run.start writes it).
        const { preflight, rolesOfRun } = await import('../llm/preflight.js');
        await preflight(ctx, rolesOfRun(args)).catch(async (error: unknown) => {
          await input?.close();
          throw error;
        });
        ctx.batches.set(run.runId, run);
        const screened = run.screened ? { screened: { duplicates: run.screened.dedup?.dropped ?? 0, contaminated: run.screened.decontamination?.dropped ?? 0 } } : {};
        const token = extra._meta?.progressToken;
        let sent = -1;
        const onProgress =
          args.wait && token !== undefined
            ? (s: BatchStatus) => {
                const progress = s.done + s.failed;
                if (progress <= sent) return; // progress must only increase
                sent = progress;
                void extra.sendNotification({ method: 'notifications/progress', params: { progressToken: token, progress, total: s.total, message: statusLine(s) } }).catch(() => undefined);
              }
            : undefined;
        const finished = run.start(onProgress);
        void finished.then(
          () => input?.close(),
          () => input?.close(),
        );
        if (!args.wait) {
          finished.catch((error: unknown) => log('error', `run ${run.runId} stopped`, { error: String(error) }));
          return ok({ run_id: run.runId, status: 'running', estimate: run.estimate, ...screened });
        }
        // A client that gives up on the request cancels the run; it resumes when started again.
        extra.signal.addEventListener('abort', () => run.cancel(), { once: true });
        const final = await finished;
        return ok({
          run_id: run.runId,
          status: final.status,
          estimate: run.estimate,
          ...screened,
          final: { status: final.status, ...(final.stop_reason ? { stop_reason: final.stop_reason } : {}), done: final.done, failed: final.failed, total: final.total },
        });
      }),
  );
}

/** Dedup and decontamination of the input rows, when asked for; a benchmark file must be inside the allowed folders. */
async function screenFor(ctx: AppContext, server: McpServer, args: { dedup: boolean; dedup_threshold?: number; decontaminate?: string; ngram?: number; ngram_overlap?: number }): Promise<BatchRequest['screen']> {
  if (!args.dedup && !args.decontaminate) return undefined;
  const request = { dedup: args.dedup, dedupThreshold: args.dedup_threshold, decontaminate: args.decontaminate, ngram: args.ngram, overlap: args.ngram_overlap };
  const { screenOptionsFor } = await import('../exports/screen.js');
  return { request, options: await screenOptionsFor(request, (path) => openAllowedFile(ctx, server, 'decontaminate', path)) };
}
