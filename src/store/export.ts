import { once } from 'node:events';
import { createReadStream, createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { GRADE_METRICS } from '../agents/grader.js';
import { InputError } from '../errors.js';
import type { CotRecord, Grades, PreferenceRecord, StoredRecord } from './record.js';
import type { RecordStore } from './record-store.js';
import type { RunStore } from './run-store.js';
import { finishOutput, outputTarget, outputTemp } from './write-file.js';

export const EXPORT_FORMATS = ['sft', 'dpo', 'aidsafe'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export interface ExportOptions {
  format: ExportFormat;
  /** Only this run's records; otherwise every record in the store. */
  runId?: string;
  /** Only records whose six grades are all at least this (ungraded records are left out). */
  minScore?: number;
  out: string;
}

export interface ExportResult {
  path: string;
  count: number;
  /** Records of the right kind left out, and why. */
  skipped: { below_min_score: number; not_kept: number };
}

type Message = { role: 'user' | 'assistant'; content: string };

/** The assistant turn of a training row: the CoT inside <think> tags, then the answer. */
export function assistantContent(thoughts: readonly string[], response: string): string {
  return `<think>\n${thoughts.join('\n')}\n</think>\n\n${response}`;
}

function lowestGrade(grades: Grades | undefined): number | undefined {
  return grades ? Math.min(...GRADE_METRICS.map((m) => grades.scores[m])) : undefined;
}

/**
 * Writes one JSONL file of one shape: every row has the same keys, and `metadata` holds the union of
 * the input columns seen (null where a row has none), so TRL and the datasets library infer one
 * schema. Records are read once, a few at a time; only when rows turn out to carry different metadata
 * columns is the file passed over again to fill them in. The file is written to a temp file and put in
 * place when complete (renamed; or copied into a device or FIFO, which a rename would replace).
 */
export async function exportDataset(store: RecordStore, runs: RunStore, options: ExportOptions): Promise<ExportResult> {
  const ids = options.runId ? await runRecordIds(runs, options.runId) : (await store.ids()).reverse();
  const wanted = options.format === 'dpo' ? 'preference' : 'cot';
  const skipped = { below_min_score: 0, not_kept: 0 };
  const target = await outputTarget(options.out);
  const temp = await outputTemp(target);
  let count = 0;
  const keySets = new Set<string>();
  const allKeys = new Set<string>();
  try {
    await writeLines(temp, async (write) => {
      for (let start = 0; start < ids.length; start += READ_AHEAD) {
        const records = await Promise.all(ids.slice(start, start + READ_AHEAD).map((id) => store.get(id)));
        for (const record of records) {
          if (!record || record.kind !== wanted) continue;
          if (record.kind === 'preference' && !record.kept) {
            skipped.not_kept++;
            continue;
          }
          if (options.minScore !== undefined) {
            const lowest = lowestGrade(record.kind === 'cot' ? record.grades : record.chosen.grades);
            if (lowest === undefined || lowest < options.minScore) {
              skipped.below_min_score++;
              continue;
            }
          }
          const metadata = sortedKeys(record.metadata ?? {});
          const keys = Object.keys(metadata);
          keySets.add(keys.join('\0'));
          for (const key of keys) allKeys.add(key);
          await write(JSON.stringify(toRow(options.format, record, metadata)));
          count++;
        }
      }
    });
    if (keySets.size > 1 && options.format !== 'aidsafe') await fillMetadata(temp, [...allKeys].sort());
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
  await finishOutput(temp, target);
  return { path: options.out, count, skipped };
}

const READ_AHEAD = 32;

function sortedKeys(metadata: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.keys(metadata).sort().map((k) => [k, metadata[k]]));
}

async function writeLines(path: string, produce: (write: (line: string) => Promise<void>) => Promise<void>): Promise<void> {
  const stream = createWriteStream(path);
  const failed = new Promise<never>((_, reject) => stream.once('error', reject));
  failed.catch(() => undefined);
  try {
    await Promise.race([
      produce(async (line) => {
        if (!stream.write(line + '\n')) await Promise.race([once(stream, 'drain'), failed]);
      }),
      failed,
    ]);
    stream.end();
    await Promise.race([once(stream, 'finish'), failed]);
  } catch (error) {
    stream.destroy();
    throw error;
  }
}

/** Rewrites a finished export so that every row's metadata has every key (null where missing). */
async function fillMetadata(path: string, keys: string[]): Promise<void> {
  const filled = `${path}.filled`;
  const lines = createInterface({ input: createReadStream(path), crlfDelay: Infinity });
  try {
    await writeLines(filled, async (write) => {
      for await (const line of lines) {
        if (!line) continue;
        const row = JSON.parse(line) as { metadata: Record<string, unknown> };
        row.metadata = Object.fromEntries(keys.map((k) => [k, row.metadata[k] ?? null]));
        await write(JSON.stringify(row));
      }
    });
    await rename(filled, path);
  } catch (error) {
    await rm(filled, { force: true });
    throw error;
  }
}

function toRow(format: ExportFormat, record: StoredRecord, metadata: Record<string, unknown>): Record<string, unknown> {
  if (format === 'dpo') {
    const pair = record as PreferenceRecord;
    const user: Message[] = [{ role: 'user', content: pair.prompt }];
    return {
      prompt: user,
      chosen: [{ role: 'assistant', content: assistantContent(pair.chosen.thoughts, pair.chosen.response) }],
      rejected: [{ role: 'assistant', content: assistantContent(pair.rejected.thoughts, pair.rejected.response) }],
      id: pair.id,
      source_record_id: pair.source_record_id,
      margin: pair.margin,
      run_id: pair.run_id ?? null,
      metadata,
    };
  }
  const cot = record as CotRecord;
  if (format === 'sft') {
    return {
      messages: [
        { role: 'user', content: cot.prompt },
        { role: 'assistant', content: assistantContent(cot.refined_thoughts, cot.response) },
      ],
      id: cot.id,
      run_id: cot.run_id ?? null,
      metadata,
    };
  }
  return {
    prompt: cot.prompt,
    refined_thoughts: cot.refined_thoughts.join('\n'),
    response: cot.response,
    deliberation_log: JSON.stringify(cot.deliberation.map(({ round, agent, model, verdict, thoughts }) => ({ round, agent, model, verdict, thoughts }))),
  };
}

/** A run's records, in input order: every done sample's CoT record and, when made, its pair. */
async function runRecordIds(runs: RunStore, runId: string): Promise<string[]> {
  if (!(await runs.readManifest(runId))) throw new InputError(`run_id: no run "${runId}"; \`aidsafe-mcp runs\` lists them`);
  const { samples } = await runs.progress(runId);
  const ids: string[] = [];
  for (const event of [...samples.values()].sort((a, b) => a.i - b.i)) {
    if (event.s !== 'done') continue;
    ids.push(event.record_id);
    if (event.pair_id) ids.push(event.pair_id);
  }
  return ids;
}
