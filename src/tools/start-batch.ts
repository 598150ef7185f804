import { existsSync } from 'node:fs';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import type { AppContext } from '../context.js';
import { log } from '../log.js';
import { resolveInside } from '../paths.js';
import { screenOptionsFor } from '../exports/screen.js';
import { BatchRun, statusLine, type BatchRequest, type BatchStatus } from '../pipeline/batch.js';
import { runIdField } from './get-batch.js';
import { allowedFile } from './export-dataset.js';
import { policyIdsField, screenFields } from './input-schemas.js';
import { annotations, guard, InputError, ok } from './tool-kit.js';

export function allowedInputDirs(ctx: AppContext): string[] {
  return [ctx.config.dataDir, process.cwd(), ...ctx.config.inputDirs];
}

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
        'Start generating a dataset from a CSV or JSONL prompt file: every row goes through the deliberation pipeline (plus grading and preference pairs when asked), concurrently, in the background. Returns the run id and an estimate at once; follow it with get_batch, stop it with cancel_batch, then export_dataset. Starting the same file with the same options again resumes the run.',
      inputSchema: z.object({
        input_path: z.string().min(1, 'input_path must not be empty').describe('Path of the prompt file, inside the data folder, the server’s working folder or AIDSAFE_INPUT_DIRS.'),
        column: z.string().min(1).optional().describe('The prompt column; default the first of prompt, question, goal, forbidden_prompt, Behavior.'),
        limit: z.number().int().min(1, 'limit must be at least 1').optional().describe('Only the first N rows.'),
        concurrency: range('concurrency', 1, 256).default(8).describe('Samples in flight at once (1–256); lowered automatically while the server answers 429.'),
        grade: z.boolean().default(false).describe('Grade every sample with the six scores.'),
        preference: z.boolean().default(false).describe('Make a preference pair for every sample.'),
        agents: range('agents', 1, 8).default(2).describe('Deliberation agents (1–8).'),
        max_rounds: range('max_rounds', 1, 10).default(3).describe('Deliberation rounds (1–10).'),
        belief_rounds: range('belief_rounds', 1, 5).default(3).describe('With preference: belief attempts per pair (1–5).'),
        min_margin: z.number().min(0, 'min_margin must be from 0 to 4').max(4, 'min_margin must be from 0 to 4').default(1).describe('With preference: keep a pair when its margin is at least this (0–4).'),
        policy_ids: policyIdsField,
        run_id: runIdField.optional().describe('Name the run (default: derived from the input and options, so a repeat resumes).'),
        max_samples: z.number().int().min(1, 'max_samples must be at least 1').optional().describe('Stop once this many samples are done (resumable).'),
        max_tokens: z.number().int().min(1, 'max_tokens must be at least 1').optional().describe('Stop starting samples once the run has used this many tokens.'),
        max_cost: z.number().min(0, 'max_cost must not be negative').optional().describe('Stop starting samples once the run has cost this many USD (needs prices in the config).'),
        ...screenFields,
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
        const allowed = allowedInputDirs(ctx);
        const inputPath = await resolveInside(args.input_path, allowed);
        if (!inputPath) {
          const why = existsSync(args.input_path) ? 'is outside the allowed folders' : 'does not exist';
          throw new InputError(`input_path: "${args.input_path}" ${why}; allowed folders: ${allowed.join(', ')} (add more with AIDSAFE_INPUT_DIRS)`);
        }
        if (args.max_cost !== undefined && Object.keys(ctx.config.prices).length === 0) throw new InputError('max_cost: no prices are configured; add "prices" to the AIDSAFE_CONFIG file');
        const run = await BatchRun.prepare(ctx, {
          inputPath,
          column: args.column,
          limit: args.limit,
          concurrency: args.concurrency,
          grade: args.grade,
          preference: args.preference,
          agents: args.agents,
          maxRounds: args.max_rounds,
          beliefRounds: args.belief_rounds,
          minMargin: args.min_margin,
          policyIds: args.policy_ids,
          budgets: { maxSamples: args.max_samples, maxTokens: args.max_tokens, maxCost: args.max_cost },
          runId: args.run_id,
          screen: await screenFor(ctx, args),
        });
        if (ctx.batches.get(run.runId)?.snapshot().status === 'running') throw new InputError(`run_id: run "${run.runId}" is already running`);
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
async function screenFor(ctx: AppContext, args: { dedup: boolean; dedup_threshold?: number; decontaminate?: string; ngram?: number; ngram_overlap?: number }): Promise<BatchRequest['screen']> {
  if (!args.dedup && !args.decontaminate) return undefined;
  const request = { dedup: args.dedup, dedupThreshold: args.dedup_threshold, decontaminate: args.decontaminate, ngram: args.ngram, overlap: args.ngram_overlap };
  return { request, options: await screenOptionsFor(request, (path) => allowedFile(ctx, 'decontaminate', path)) };
}
