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
        'Start generating a dataset from a CSV or JSONL prompt file: every row goes through the deliberation pipeline, or the single-model baseline with recipe "baseline" (plus grading and preference pairs when asked), concurrently, in the background. Returns the run id and an estimate at once; follow it with get_batch, stop it with cancel_batch, then export_dataset. Starting the same file with the same options again resumes the run.',
      inputSchema: z.object({
        input_path: z
          .string()
          .min(1, 'input_path must not be empty')
          .max(MAX_NAME_CHARS, `input_path must be at most ${MAX_NAME_CHARS} characters`)
          .describe('Path of the prompt file, inside the data folder’s inputs/ (a relative path is taken from there), AIDSAFE_INPUT_DIRS or a root the client declared.'),
        column: z.string().min(1).max(200, 'column must be at most 200 characters').optional().describe('The prompt column; default the first of prompt, question, goal, forbidden_prompt, Behavior.'),
        limit: range('limit', 1, MAX_ROWS).optional().describe(`Only the first N rows (1–${MAX_ROWS}).`),
        shard: z
          .string()
          .max(24, 'shard must be at most 24 characters')
          .regex(/^(\d+\/\d+|auto)$/, 'shard must be I/N (e.g. 1/4) or "auto"')
          .optional()
          .describe('Take only the I-th of N shards of the rows ("I/N", assigned by a hash of the prompt), or "auto": from the server’s environment, a Kubernetes Indexed Job (JOB_COMPLETION_INDEX, AIDSAFE_SHARD_COUNT) or a Slurm job array.'),
        concurrency: z
          .number()
          .int()
          .min(1, CONCURRENCY_RANGE)
          .max(MAX_BATCH_IN_FLIGHT, CONCURRENCY_RANGE)
          .optional()
          .describe(`Samples in flight at once: 1–256, default 8, lowered automatically while the server answers 429; with batch_api 1–${MAX_BATCH_IN_FLIGHT}, default ${BATCH_IN_FLIGHT} (each wave holds one call of each).`),
        recipe: recipeField,
        grade: z.boolean().default(false).describe('Grade every sample with the six scores.'),
        preference: z.boolean().default(false).describe('Make a preference pair for every sample (recipe "aidsafe" only).'),
        agents: range('agents', 1, 8).default(2).describe('Deliberation agents (1–8).'),
        max_rounds: range('max_rounds', 1, 10).default(3).describe('Deliberation rounds (1–10).'),
        belief_rounds: range('belief_rounds', 1, 5).default(3).describe('With preference: belief attempts per pair (1–5).'),
        min_margin: z.number().min(0, 'min_margin must be from 0 to 4').max(4, 'min_margin must be from 0 to 4').default(1).describe('With preference: keep a pair when its margin is at least this (0–4).'),
        policy_ids: policyIdsField,
        run_id: runIdField.optional().describe('Name the run (default: derived from the input and options, so a repeat resumes).'),
        max_samples: range('max_samples', 1, MAX_ROWS).optional().describe(`Stop once this many samples are done (1–${MAX_ROWS}; resumable).`),
        max_tokens: range('max_tokens', 1, MAX_RUN_TOKENS).optional().describe(`Stop starting samples once the run has used this many tokens (1–${MAX_RUN_TOKENS}).`),
        max_cost: z.number().min(0, `max_cost must be from 0 to ${MAX_RUN_COST}`).max(MAX_RUN_COST, `max_cost must be from 0 to ${MAX_RUN_COST}`).optional().describe(`Stop starting samples once the run has cost this many USD (0–${MAX_RUN_COST}; needs prices in the config).`),
        ...screenFields,
        batch_api: z
          .boolean()
          .default(false)
          .describe('Send model calls in waves through the provider’s Batch API (/v1/files, /v1/batches): half the price, results in hours rather than seconds. The batches live with the run, so a restarted run polls them instead of sending again.'),
        wait: z.boolean().default(false).describe('Keep the request open until the run ends, with a progress notification per finished sample (for scripts); default: return at once.'),
      }),
      outputSchema: z.object({
        run_id: z.string(),
        status: z.string(),
        estimate: z.object({
          samples: z.number(),
          already_done: z.number(),
          to_run: z.number(),
          calls_per_sample: z.object({ min: z.number(), max: z.number() }),
          calls: z.object({ min: z.number(), max: z.number() }),
          tokens: z.object({ min: z.number(), max: z.number() }),
          cost_usd: z.object({ min: z.number(), max: z.number() }).optional(),
        }),
        screened: z
          .object({ duplicates: z.number().int(), contaminated: z.number().int() })
          .optional()
          .describe('With dedup or decontaminate: input rows dropped before the run (each one is listed in the run’s manifest).'),
        final: z
          .object({ status: z.string(), stop_reason: z.string().optional(), done: z.number().int(), failed: z.number().int(), total: z.number().int() })
          .optional()
          .describe('With wait: the run’s state when it ended.'),
      }),
      annotations: annotations.generate,
    },
    async (args, extra) =>
      guard('start_batch', async () => {
        if (!args.batch_api && (args.concurrency ?? 0) > MAX_ONLINE_CONCURRENCY) throw new InputError(CONCURRENCY_RANGE);
        const { BatchRun, statusLine } = await import('../pipeline/batch.js');
        if (args.max_cost !== undefined && Object.keys(ctx.config.prices).length === 0) throw new InputError('max_cost: no prices are configured; add "prices" to the AIDSAFE_CONFIG file');
        // Opened once and checked; the run reads its rows through this descriptor, closed when the run ends.
        const input = await openAllowedFile(ctx, server, 'input_path', args.input_path);
        const run = await BatchRun.prepare(ctx, {
          inputPath: input.path,
          inputFile: input,
          column: args.column,
          limit: args.limit,
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
          await input.close();
          throw error;
        });
        if (ctx.batches.get(run.runId)?.snapshot().status === 'running') {
          await input.close();
          throw new InputError(`run_id: run "${run.runId}" is already running`);
        }
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
          () => input.close(),
          () => input.close(),
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
