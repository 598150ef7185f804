import { join } from 'node:path';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import type { AppContext } from '../context.js';
import { HUB_REPO_PATTERN } from '../exports/hub.js';
import { EXPORT_FORMATS, REASONING_MODES, SFT_SHAPES } from '../exports/rows.js';
import type { SystemPrompt } from '../store/export.js';
import { runIdField } from './get-batch.js';
import { openAllowedFile } from './allowed-files.js';
import { screenFields } from './input-schemas.js';
import { annotations, fail, guard, InputError, ok } from './tool-kit.js';

const FILE_TYPES = ['jsonl', 'parquet', 'csv'] as const;

export function registerExportDataset(server: McpServer, ctx: AppContext): void {
  server.registerTool(
    'export_dataset',
    {
      title: 'Export a dataset',
      description:
        'Write stored records as a dataset with a card that TRL and Hugging Face datasets load; optionally split, deduplicated, decontaminated, pushed to the Hub.',
      inputSchema: z.object({
        format: z.enum(EXPORT_FORMATS, { error: `format must be one of ${EXPORT_FORMATS.join(', ')}` }),
        run_id: runIdField.optional().describe('Only this run’s records.'),
        min_score: z.number().min(1, 'min_score must be from 1 to 5').max(5, 'min_score must be from 1 to 5').optional().describe('Minimum of all six grades.'),
        file_type: z.enum(FILE_TYPES, { error: `file_type must be one of ${FILE_TYPES.join(', ')}` }).default('jsonl').describe('csv: aidsafe only.'),
        sft_shape: z.enum(SFT_SHAPES, { error: `sft_shape must be one of ${SFT_SHAPES.join(', ')}` }).default('prompt-completion'),
        reasoning: z.enum(REASONING_MODES, { error: `reasoning must be one of ${REASONING_MODES.join(', ')}` }).default('think').describe('CoT in <think> tags or that field.'),
        system: z.string().min(1, 'system must not be empty').max(1_000, 'system must be at most 1,000 characters').default('none').describe('none, policies or a text file.'),
        split: z.string().min(1, 'split must not be empty').max(500, 'split must be at most 500 characters').optional().describe('e.g. "train=0.9,test=0.1" (by prompt hash).'),
        ...screenFields,
        push_to_hub: z.string().max(200, 'push_to_hub must be at most 200 characters').regex(HUB_REPO_PATTERN, 'push_to_hub must be OWNER/NAME of a Hub dataset repository').optional().describe('OWNER/NAME (token: HF_TOKEN).'),
        private: z.boolean().default(false),
      }),
      outputSchema: z.object({
        path: z.string(),
        files: z.array(z.object({ split: z.string(), path: z.string(), count: z.number().int() })),
        empty_splits: z.array(z.string()).optional().describe('Not written, not in the card.'),
        count: z.number().int(),
        skipped: z.record(z.string(), z.number().int()),
      }),
      annotations: annotations.local,
    },
    async (args) =>
      guard('export_dataset', async () => {
        if (args.run_id && !(await ctx.runs.readManifest(args.run_id))) throw new InputError(`run_id: no run "${args.run_id}" in this data folder`);
        if (args.file_type === 'csv' && args.format !== 'aidsafe') throw new InputError('file_type: csv holds the aidsafe format only; use jsonl or parquet for sft and dpo');
        const [{ screenOptionsFor }, { parseSplits }, { exportDataset }] = await Promise.all([import('../exports/screen.js'), import('../exports/splits.js'), import('../store/export.js')]);
        const splits = args.split !== undefined ? parseSplits(args.split) : undefined;
        const screen = await screenOptionsFor(
          { dedup: args.dedup, dedupThreshold: args.dedup_threshold, decontaminate: args.decontaminate, ngram: args.ngram, overlap: args.ngram_overlap },
          (path) => openAllowedFile(ctx, server, 'decontaminate', path),
        );
        let system: SystemPrompt = { mode: 'none' };
        if (args.system === 'policies') system = { mode: 'policies' };
        else if (args.system !== 'none') {
          const file = await openAllowedFile(ctx, server, 'system', args.system);
          try {
            system = { mode: 'file', path: file.path, text: (await file.text()).trim() };
          } finally {
            await file.close();
          }
        }
        const stamp = new Date().toISOString().replace(/[:.]/g, '-');
        const out = join(ctx.config.dataDir, 'exports', `${args.format}-${args.run_id ?? 'all'}-${stamp}`, `${args.format}.${args.file_type}`);
        const result = await exportDataset(ctx.store, ctx.runs, {
          format: args.format,
          runId: args.run_id,
          minScore: args.min_score,
          out,
          sftShape: args.sft_shape,
          reasoning: args.reasoning,
          system,
          splits,
          screen,
          policies: ctx.policies,
        });
        let hub: { url: string; commit: string } | undefined;
        if (args.push_to_hub) {
          const { HubPushError, pushToHub } = await import('../exports/hub.js');
          try {
            hub = await pushToHub({ repo: args.push_to_hub, private: args.private, files: result.files.map((f) => f.path), card: result.card, env: process.env });
          } catch (error) {
            if (!(error instanceof HubPushError)) throw error;
            return fail(`${error.message}. The export is in place: ${result.files.map((f) => f.path).join(', ')} and ${result.card}`);
          }
        }
        return ok({
          ...(hub ? { hub } : {}),
          path: result.path,
          files: result.files,
          card: result.card,
          count: result.count,
          skipped: result.skipped,
          ...(result.dedup ? { dedup: { dropped: result.dedup.dropped, exact: result.dedup.exact, near: result.dedup.near } } : {}),
          ...(result.decontamination ? { decontamination: { dropped: result.decontamination.dropped, sets: result.decontamination.sets } } : {}),
        });
      }),
  );
}
