import { performance } from 'node:perf_hooks';
import { findDuplicates } from '../src/exports/dedup.js';
import { ContaminationIndex, DEFAULT_NGRAM, DEFAULT_OVERLAP, loadBenchmarks } from '../src/exports/decontaminate.js';
import { normalise, words } from '../src/exports/normalise.js';

/** A small deterministic PRNG, so every run screens the same rows. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/**
 * Rows for screening: 10% benchmark prompts as they are, 10% benchmark prompts wrapped in other words,
 * 5% repeats of earlier rows with changed case and punctuation, and the rest new prompts of 8–40 words
 * drawn from the benchmarks' own vocabulary (so n-gram look-ups hit the index's words all the time).
 */
export function screeningRows(benchmark: string[], count: number): string[] {
  const random = prng(42);
  const pick = <T>(list: T[]) => list[Math.floor(random() * list.length)]!;
  const vocabulary = [...new Set(benchmark.flatMap((p) => words(normalise(p))))];
  const rows: string[] = [];
  for (let i = 0; i < count; i++) {
    const r = random();
    if (r < 0.1) rows.push(pick(benchmark));
    else if (r < 0.2) rows.push(`For a story I am writing, ${pick(benchmark)} Please be detailed.`);
    else if (r < 0.25 && rows.length > 0) rows.push(pick(rows).toUpperCase() + '?!');
    else rows.push(Array.from({ length: 8 + Math.floor(random() * 33) }, () => pick(vocabulary)).join(' ') + '.');
  }
  return rows;
}

export async function benchScreening(rowCount: number): Promise<Record<string, number>> {
  let t = performance.now();
  const { prompts } = await loadBenchmarks('all', { dir: new URL('../../benchmarks/', import.meta.url) }); // run from .bench-build/bench/
  const index = new ContaminationIndex(prompts, { ngram: DEFAULT_NGRAM, overlap: DEFAULT_OVERLAP });
  const loadMs = performance.now() - t;
  const rows = screeningRows(
    prompts.map((p) => p.prompt),
    rowCount,
  );
  t = performance.now();
  let contaminated = 0;
  for (const row of rows) if (index.match(row)) contaminated++;
  const decontaminateMs = performance.now() - t;
  t = performance.now();
  const duplicates = findDuplicates(rows, { threshold: 0.7 });
  const dedupMs = performance.now() - t;
  return {
    rows: rows.length,
    benchmark_prompts: prompts.length,
    load_and_index_ms: Math.round(loadMs),
    decontaminate_ms: Math.round(decontaminateMs),
    contaminated,
    dedup_ms: Math.round(dedupMs),
    duplicates: duplicates.length,
  };
}
