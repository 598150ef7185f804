import type { PromptInput } from '../inputs/read-prompts.js';
import { DEFAULT_NEAR_DUP_THRESHOLD, findDuplicates, SHINGLE_WORDS, type DedupOptions } from './dedup.js';
import { ContaminationIndex, DEFAULT_NGRAM, DEFAULT_OVERLAP, loadBenchmarks, type ContaminationMatch, type DecontaminationOptions } from './decontaminate.js';

/** What to screen prompts for, before a run (input rows) or on export (records). */
export interface ScreenOptions {
  dedup?: DedupOptions;
  decontaminate?: { sets: string[]; index: ContaminationIndex; options: DecontaminationOptions };
}

export interface DedupReport {
  threshold: number;
  shingle_words: number;
  dropped: number;
  exact: number;
  near: number;
  /** Each dropped row (by `key`: a row index or a record id) and the row kept instead. */
  rows: { dropped: string | number; kept: string | number; match: 'exact' | 'near'; similarity: number }[];
}

export interface DecontaminationReport {
  sets: string[];
  ngram: number;
  overlap: number;
  benchmark_prompts: number;
  dropped: number;
  /** Each dropped row and the benchmark prompt it matched. */
  rows: ({ dropped: string | number } & ContaminationMatch)[];
}

export interface ScreenReport {
  dedup?: DedupReport;
  decontamination?: DecontaminationReport;
}

/**
 * Decontaminates, then removes duplicates among what is left (so a row is never kept in place of a
 * contaminated one). Returns which items to keep, in their order, and the reports.
 */
export function screen<K extends string | number>(items: readonly { key: K; prompt: string }[], options: ScreenOptions): { keep: boolean[]; report: ScreenReport } {
  const keep = items.map(() => true);
  const report: ScreenReport = {};
  if (options.decontaminate) {
    const { index } = options.decontaminate;
    const rows: DecontaminationReport['rows'] = [];
    items.forEach((item, i) => {
      const match = index.match(item.prompt);
      if (!match) return;
      keep[i] = false;
      rows.push({ dropped: item.key, ...match });
    });
    report.decontamination = decontaminationReport(options.decontaminate, rows);
  }
  if (options.dedup) {
    const left = items.map((item, i) => ({ item, i })).filter(({ i }) => keep[i]);
    const duplicates = findDuplicates(left.map(({ item }) => item.prompt), options.dedup);
    for (const d of duplicates) keep[left[d.index]!.i] = false;
    report.dedup = {
      threshold: options.dedup.threshold,
      shingle_words: SHINGLE_WORDS,
      dropped: duplicates.length,
      exact: duplicates.filter((d) => d.match === 'exact').length,
      near: duplicates.filter((d) => d.match === 'near').length,
      rows: duplicates.map((d) => ({ dropped: left[d.index]!.item.key, kept: left[d.kept_index]!.item.key, match: d.match, similarity: d.similarity })),
    };
  }
  return { keep, report };
}

export function decontaminationReport(decontaminate: NonNullable<ScreenOptions['decontaminate']>, rows: DecontaminationReport['rows']): DecontaminationReport {
  const { sets, index, options } = decontaminate;
  return { sets, ngram: options.ngram, overlap: options.overlap, benchmark_prompts: index.size, dropped: rows.length, rows };
}

export interface ScreenRequest {
  dedup?: boolean;
  /** Near-duplicate Jaccard threshold (default DEFAULT_NEAR_DUP_THRESHOLD). */
  dedupThreshold?: number;
  /** `all`, set names, or a CSV/JSONL file. */
  decontaminate?: string;
  ngram?: number;
  overlap?: number;
}

/** Turns what a user asked for into screen options, loading the benchmark prompts. */
export async function screenOptionsFor(request: ScreenRequest, resolveFile?: (path: string) => Promise<PromptInput>): Promise<ScreenOptions> {
  const options: ScreenOptions = {};
  if (request.dedup) options.dedup = { threshold: request.dedupThreshold ?? DEFAULT_NEAR_DUP_THRESHOLD };
  if (request.decontaminate) {
    const { sets, prompts } = await loadBenchmarks(request.decontaminate, { resolveFile });
    const o = { ngram: request.ngram ?? DEFAULT_NGRAM, overlap: request.overlap ?? DEFAULT_OVERLAP };
    options.decontaminate = { sets, index: new ContaminationIndex(prompts, o), options: o };
  }
  return options;
}

/** One line on what screening dropped, for a terminal. */
export function screenSummary(report: ScreenReport): string | undefined {
  const parts: string[] = [];
  if (report.decontamination) parts.push(`${report.decontamination.dropped} dropped as contaminated by ${report.decontamination.sets.join(', ')}`);
  if (report.dedup) parts.push(`${report.dedup.dropped} dropped as duplicates (${report.dedup.exact} exact, ${report.dedup.near} near)`);
  return parts.length ? parts.join('; ') : undefined;
}
