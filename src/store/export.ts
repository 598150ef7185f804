import { once } from 'node:events';
import { createWriteStream, existsSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join, relative } from 'node:path';
import { GRADE_METRICS } from '../agents/grader.js';
import { InputError } from '../errors.js';
import { CARD_MARK, CardFacts, datasetCard } from '../exports/card.js';
import { csvLine } from '../exports/csv-writer.js';
import { parquetBuffer, type ColumnKind } from '../exports/parquet.js';
import { policiesSystemPrompt, toRow, type ExportFormat, type ReasoningMode, type SftShape } from '../exports/rows.js';
import { decontaminationReport, screen, type DecontaminationReport, type ScreenOptions, type ScreenReport } from '../exports/screen.js';
import { splitOf, splitPath, type Split } from '../exports/splits.js';
import type { Policy } from '../policies/policy.js';
import { pairOutcome, PairTally, type PairCounts } from './pair-outcome.js';
import type { CotRecord, Grades, PreferenceRecord } from './record.js';
import type { RecordStore } from './record-store.js';
import type { RunStore } from './run-store.js';
import { finishOutput, outputTarget, outputTemp, writeFileAtomic, type OutputTarget } from './write-file.js';

export { EXPORT_FORMATS, REASONING_MODES, SFT_SHAPES, assistantContent, type ExportFormat, type ReasoningMode, type SftShape } from '../exports/rows.js';

/** `none`, the policies each sample used, or a fixed text (read from a file). */
export type SystemPrompt = { mode: 'none' } | { mode: 'policies' } | { mode: 'file'; path: string; text: string };

export interface ExportOptions {
  format: ExportFormat;
  /** Only this run's records; otherwise every record in the store. */
  runId?: string;
  /** Only records whose six grades are all at least this (ungraded records are left out). */
  minScore?: number;
  /** `.parquet` writes Parquet, `.csv` CSV (aidsafe only), anything else JSONL. */
  out: string;
  sftShape?: SftShape;
  reasoning?: ReasoningMode;
  system?: SystemPrompt;
  splits?: Split[];
  screen?: ScreenOptions;
  /** The loaded policies, for `system: policies` and the card's policy versions. */
  policies?: { get(id: string): Policy | undefined };
}

export interface ExportFile {
  split: string;
  path: string;
  count: number;
}

export interface ExportResult {
  /** The data file (the first written split's, with splits). */
  path: string;
  /** The files written: a split that got no row is not written (a loader refuses a split with no data). */
  files: ExportFile[];
  /** Splits asked for that got no row, so have no file and are not in the card. */
  empty_splits?: string[];
  count: number;
  /** Records of the right kind left out, and why. */
  skipped: { below_min_score: number; not_kept: number; duplicates: number; contaminated: number };
  /** The dataset card written beside the data. */
  /** The dataset card's path; none when the data went into a device or FIFO. */
  card?: string;
  dedup?: ScreenReport['dedup'];
  decontamination?: ScreenReport['decontamination'];
  /** With format "dpo": the pairs read, kept and dropped by reason (before dedup and decontamination). */
  pairs?: PairCounts;
}

type DataFormat = 'jsonl' | 'csv' | 'parquet';

export function dataFormatOf(out: string): DataFormat {
  return out.endsWith('.parquet') ? 'parquet' : out.endsWith('.csv') ? 'csv' : 'jsonl';
}

const AIDSAFE_COLUMNS = ['prompt', 'refined_thoughts', 'response', 'deliberation_log'];

function columnsOf(format: ExportFormat, shape: SftShape): [string, ColumnKind][] {
  const tail: [string, ColumnKind][] = [['id', 'text'], ['run_id', 'text'], ['metadata', 'text']];
  // margin is a difference of whole-number grades: int64 in Parquet, as JSON's whole numbers read in pandas and `datasets`.
  if (format === 'dpo') return [['prompt', 'messages'], ['chosen', 'answers'], ['rejected', 'answers'], ['id', 'text'], ['source_record_id', 'text'], ['margin', 'integer'], ['run_id', 'text'], ['metadata', 'text']];
  if (format === 'sft') return [...(shape === 'messages' ? [['messages', 'answers'] as [string, ColumnKind]] : [['prompt', 'messages'] as [string, ColumnKind], ['completion', 'answers'] as [string, ColumnKind]]), ...tail];
  return AIDSAFE_COLUMNS.map((c) => [c, 'text']);
}

function lowestGrade(grades: Grades | undefined): number | undefined {
  return grades ? Math.min(...GRADE_METRICS.map((m) => grades.scores[m])) : undefined;
}

const READ_AHEAD = 32;

async function* readRecords(store: RecordStore, ids: readonly string[]): AsyncGenerator<CotRecord | PreferenceRecord> {
  for (let start = 0; start < ids.length; start += READ_AHEAD) {
    const records = await Promise.all(ids.slice(start, start + READ_AHEAD).map((id) => store.get(id)));
    // Evaluation records are not training data: exports take CoT records and pairs only.
    for (const record of records) if (record && (record.kind === 'cot' || record.kind === 'preference')) yield record;
  }
}

/**
 * Writes one export: the selected records (of the format's kind, kept, above the score floor, past
 * decontamination and dedup) as rows of one shape, one file per split, and a dataset card beside them.
 * Records are read a few at a time, once; with dedup, twice (once to select them, keeping only ids and
 * prompts in memory, once to write the rows kept). JSONL and CSV rows are streamed, Parquet rows are
 * written per file at the end. Files are written beside their targets and renamed into place when all
 * are complete.
 */
export async function exportDataset(store: RecordStore, runs: RunStore, options: ExportOptions): Promise<ExportResult> {
  const format = options.format;
  const sftShape = options.sftShape ?? 'prompt-completion';
  const reasoning = options.reasoning ?? 'think';
  const system = options.system ?? { mode: 'none' };
  const dataFormat = dataFormatOf(options.out);
  if (dataFormat === 'csv' && format !== 'aidsafe') throw new InputError('out: CSV holds the aidsafe format only (its columns are plain text); write sft and dpo as .jsonl or .parquet');

  const ids = options.runId ? await runRecordIds(runs, options.runId) : (await store.ids()).reverse();
  const wanted = format === 'dpo' ? 'preference' : 'cot';
  const skipped = { below_min_score: 0, not_kept: 0, duplicates: 0, contaminated: 0 };
  /** Records of the format's kind, before any was left out: what an empty export reports. */
  let ofKind = 0;
  const pairs = new PairTally();
  const selects = (record: CotRecord | PreferenceRecord): boolean => {
    if (record.kind !== wanted) return false;
    ofKind++;
    if (record.kind === 'preference') {
      const outcome = pairOutcome(record);
      pairs.add(outcome);
      if (outcome !== 'kept') {
        skipped.not_kept++;
        return false;
      }
    }
    if (options.minScore !== undefined) {
      const lowest = lowestGrade(record.kind === 'cot' ? record.grades : record.chosen.grades);
      if (lowest === undefined || lowest < options.minScore) {
        skipped.below_min_score++;
        return false;
      }
    }
    return true;
  };
  const decontaminate = options.screen?.decontaminate;
  const contaminated: DecontaminationReport['rows'] = [];
  const clean = (record: CotRecord | PreferenceRecord): boolean => {
    const match = decontaminate?.index.match(record.prompt);
    if (match) contaminated.push({ dropped: record.id, ...match });
    return !match;
  };

  const splits = options.splits ?? [{ name: 'train', fraction: 1 }];
  const files = new Map<string, ExportFile>(splits.map((s) => [s.name, { split: s.name, path: options.splits ? splitPath(options.out, s.name) : options.out, count: 0 }]));
  const columns = columnsOf(format, sftShape);
  const systemFor = systemPromptFor(system, options.policies);
  const facts = new CardFacts();
  const report: ScreenReport = {};

  // Each file is built in a temp file and put in place at the end: renamed over a regular file (through
  // any link), or copied into a device or FIFO, which a rename would replace by a regular file.
  const targets = new Map<string, OutputTarget>();
  const temps = new Map<string, string>();
  for (const f of files.values()) {
    const target = await outputTarget(f.path);
    targets.set(f.split, target);
    temps.set(f.split, await outputTemp(target));
  }
  const sinks = new Map([...files.values()].map((f) => [f.split, openSink(temps.get(f.split)!, dataFormat)]));
  const writeRecord = async (record: CotRecord | PreferenceRecord) => {
    const split = splits.length > 1 ? splitOf(record.prompt, splits) : splits[0]!.name;
    const row = toRow(record, { format, sftShape, reasoning, system: systemFor });
    const sink = sinks.get(split)!;
    if (dataFormat === 'jsonl') await sink.write(JSON.stringify(row) + '\n');
    else if (dataFormat === 'csv') await sink.write(csvLine(AIDSAFE_COLUMNS.map((c) => String(row[c]))));
    else sink.rows.push(row);
    files.get(split)!.count++;
    facts.add(record);
  };
  try {
    for (const sink of sinks.values()) if (dataFormat === 'csv') await sink.write(csvLine(AIDSAFE_COLUMNS));
    const dedup = options.screen?.dedup;
    if (!dedup) {
      // Every check is per record: one pass.
      for await (const record of readRecords(store, ids)) if (selects(record) && clean(record)) await writeRecord(record);
    } else {
      // Dedup needs every prompt first: select, then write the records kept.
      const selected: { key: string; prompt: string }[] = [];
      for await (const record of readRecords(store, ids)) if (selects(record) && clean(record)) selected.push({ key: record.id, prompt: record.prompt });
      report.dedup = screen(selected, { dedup }).report.dedup!;
      const dropped = new Set(report.dedup.rows.map((r) => r.dropped));
      for await (const record of readRecords(store, selected.filter((s) => !dropped.has(s.key)).map((s) => s.key))) await writeRecord(record);
      skipped.duplicates = report.dedup.dropped;
    }
    if (decontaminate) report.decontamination = decontaminationReport(decontaminate, contaminated);
    skipped.contaminated = contaminated.length;
    if ([...files.values()].every((f) => f.count === 0)) throw new InputError(noRows(format, ofKind, skipped, options.runId, pairs.summary()));
    for (const sink of sinks.values()) await sink.close(columns, reasoning);
    for (const file of files.values()) {
      if (file.count > 0) await finishOutput(temps.get(file.split)!, targets.get(file.split)!);
      else await rm(temps.get(file.split)!, { force: true });
    }
  } catch (error) {
    for (const sink of sinks.values()) sink.destroy();
    for (const temp of temps.values()) await rm(temp, { force: true });
    throw error;
  }

  const written = [...files.values()].filter((f) => f.count > 0);
  const emptySplits = [...files.values()].filter((f) => f.count === 0).map((f) => f.split);
  const dir = dirname(options.out);
  const policyVersions = new Map<string, string>();
  for (const [id] of facts.policies) {
    const policy = options.policies?.get(id);
    if (policy) policyVersions.set(`${id}@${policy.hash}`, policy.version);
  }
  const card = datasetCard({
    format,
    sftShape,
    reasoning,
    system: system.mode === 'none' ? 'none' : system.mode === 'policies' ? 'the titles and clauses of the policies each sample used' : `the text of \`${basename(system.path)}\``,
    files: written.map((f) => ({ ...f, path: relative(dir, f.path).split('\\').join('/') })),
    facts,
    policyVersions,
    skipped,
    screen: report,
    recipe: 'AIDSAFE',
    ...(format === 'dpo' ? { pairs: pairs.summary() } : {}),
  });
  // A card beside a device or FIFO (/dev/stdout, a pipe) would land in a system folder: none is written then.
  const intoFiles = written.every((f) => 'replace' in targets.get(f.split)!);
  const cardPath = intoFiles ? await cardPathFor(options.out) : undefined;
  if (cardPath) await writeFileAtomic(cardPath, card);
  return {
    path: written[0]!.path,
    files: written,
    ...(emptySplits.length > 0 ? { empty_splits: emptySplits } : {}),
    count: written.reduce((n, f) => n + f.count, 0),
    skipped,
    ...(format === 'dpo' ? { pairs: pairs.summary() } : {}),
    ...(cardPath ? { card: cardPath } : {}),
    ...(report.dedup ? { dedup: report.dedup } : {}),
    ...(report.decontamination ? { decontamination: report.decontamination } : {}),
  };
}

/** Why an export has no row to write: how many records of the format's kind there are, and why each was left out. */
function noRows(format: ExportFormat, ofKind: number, skipped: ExportResult['skipped'], runId: string | undefined, pairs: PairCounts): string {
  const where = runId ? `run ${runId}` : 'the store';
  const kind = format === 'dpo' ? 'preference pairs' : 'CoT records';
  if (ofKind === 0) return `export: no rows to write: ${where} has no ${kind}${format === 'dpo' ? ' (pairs are made by a run with --preference / preference: true)' : ''}; no file was written`;
  const reasons = Object.entries(pairs.dropped_by_reason).map(([r, n]) => `${n} ${r.replace(/_/g, ' ')}`);
  const why = [
    skipped.not_kept && `${skipped.not_kept} dropped by the pair rule${reasons.length ? ` (${reasons.join(', ')})` : ''}`,
    skipped.below_min_score && `${skipped.below_min_score} ungraded or below --min-score`,
    skipped.contaminated && `${skipped.contaminated} matched a benchmark (--decontaminate)`,
    skipped.duplicates && `${skipped.duplicates} duplicates (--dedup)`,
  ].filter(Boolean);
  return `export: no rows to write: ${where} has ${ofKind} ${kind} and none was kept: ${why.join(', ')}; no file was written`;
}

/**
 * README.md beside the data, the name the Hub reads; when a README.md that this program did not write
 * is already there, the card is `<name>.README.md` instead, so no other file is ever overwritten.
 */
async function cardPathFor(out: string): Promise<string> {
  const readme = join(dirname(out), 'README.md');
  if (!existsSync(readme) || (await readFile(readme, 'utf8')).includes(CARD_MARK)) return readme;
  return join(dirname(out), `${basename(out).replace(/\.[^.]+$/, '')}.README.md`);
}

function systemPromptFor(system: SystemPrompt, policies: ExportOptions['policies']): ((record: CotRecord | PreferenceRecord) => string | undefined) | undefined {
  if (system.mode === 'none') return undefined;
  if (system.mode === 'file') return () => system.text;
  const cache = new Map<string, string>();
  return (record) => {
    const key = record.policy_ids.join(',');
    let text = cache.get(key);
    if (text === undefined) {
      const used = record.policy_ids.map((id) => {
        const policy = policies?.get(id);
        if (!policy) throw new InputError(`system: record ${record.id} used policy "${id}", which is not loaded; load it (AIDSAFE_POLICIES_DIR) or export with system none`);
        return policy;
      });
      text = policiesSystemPrompt(used);
      cache.set(key, text);
    }
    return text;
  };
}

interface Sink {
  rows: Record<string, unknown>[];
  write(text: string): Promise<void>;
  close(columns: [string, ColumnKind][], reasoning: ReasoningMode): Promise<void>;
  destroy(): void;
}

function openSink(path: string, format: DataFormat): Sink {
  const rows: Record<string, unknown>[] = [];
  if (format === 'parquet') {
    return {
      rows,
      write: () => Promise.resolve(),
      close: (columns, reasoning) => writeFile(path, new Uint8Array(parquetBuffer(rows, columns, reasoning))),
      destroy: () => undefined,
    };
  }
  const stream = createWriteStream(path);
  const failed = new Promise<never>((_, reject) => stream.once('error', reject));
  failed.catch(() => undefined);
  return {
    rows,
    write: async (text) => {
      if (!stream.write(text)) await Promise.race([once(stream, 'drain'), failed]);
    },
    close: async () => {
      stream.end();
      await Promise.race([once(stream, 'finish'), failed]);
    },
    destroy: () => stream.destroy(),
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
