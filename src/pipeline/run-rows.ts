import { resolve } from 'node:path';
import { openPromptFile, type InputRow, type PromptSource } from '../inputs/read-prompts.js';
import { screen, type ScreenReport } from '../exports/screen.js';
import type { BatchRequest } from './batch-request.js';
import type { RowSummary } from './recipe.js';
import { inShard } from './shard.js';

/** Rows read to estimate the prompts' length when counting the selection needs no pass over the file. */
const LENGTH_SAMPLE = 10_000;

/** The rows a run takes from its input file, streamed from disk each time they are asked for. */
export interface RunRows {
  source: PromptSource;
  /** How many rows the run takes, and how long their prompts are (for the estimate). */
  summary: RowSummary;
  screened?: ScreenReport;
  rows(): AsyncGenerator<InputRow>;
}

/**
 * Applies `limit`, then dedup and decontamination, then the shard. Nothing per row is kept, except
 * that screening compares every prompt of the selection with the others: it holds their text while it
 * runs, and the indexes of the rows it dropped after.
 */
export async function selectRows(request: BatchRequest): Promise<RunRows> {
  const source = await openPromptFile(request.inputFile ?? resolve(request.inputPath), request.column);
  const limit = request.limit ?? Number.POSITIVE_INFINITY;
  async function* withinLimit(): AsyncGenerator<InputRow> {
    if (limit <= 0) return;
    for await (const row of source.rows()) {
      yield row;
      if (row.index + 1 >= limit) return;
    }
  }
  let dropped: Set<number> | undefined;
  let screened: ScreenReport | undefined;
  if (request.screen) {
    const items: { key: number; prompt: string }[] = [];
    for await (const row of withinLimit()) items.push({ key: row.index, prompt: row.prompt });
    const result = screen(items, request.screen.options);
    dropped = new Set(items.filter((_, i) => !result.keep[i]).map((item) => item.key));
    screened = result.report;
  }
  const shard = request.shard;
  async function* rows(): AsyncGenerator<InputRow> {
    // Shard membership is asked of shard.ts for every row, so every reader of rows agrees on it.
    for await (const row of withinLimit()) if (!dropped?.has(row.index) && (!shard || inShard(row, shard))) yield row;
  }
  let summary: RowSummary;
  if (!shard && !dropped) {
    // Every row within the limit is taken: the count is known, and a sample of the prompts gives their length.
    const length = Math.min(limit, source.count);
    let seen = 0;
    let chars = 0;
    for await (const row of rows()) {
      chars += row.prompt.length;
      if (++seen >= LENGTH_SAMPLE) break;
    }
    summary = { length, promptChars: seen ? Math.round((chars / seen) * length) : 0 };
  } else {
    summary = { length: 0, promptChars: 0 };
    for await (const row of rows()) {
      summary.length++;
      summary.promptChars += row.prompt.length;
    }
  }
  return { source, summary, ...(screened ? { screened } : {}), rows };
}
