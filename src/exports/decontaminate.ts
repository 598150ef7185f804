import { fileURLToPath } from 'node:url';
import { InputError } from '../errors.js';
import { SUITES } from '../eval/suites.js';
import { readPromptFile, type PromptInput } from '../inputs/read-prompts.js';
import { builtinBenchmarksDir } from '../paths.js';
import { normalise, words } from './normalise.js';

/** The benchmark prompt sets shipped in benchmarks/, the same files `eval` reads (see its README for licences and sources). */
export const BENCHMARK_NAMES = Object.keys(SUITES) as readonly string[];

/**
 * Word n-gram size: 8 words, as STAR-1 uses; long enough that common phrases ("step by step
 * instructions for how to") do not match, short enough to catch a benchmark prompt that was reworded
 * around its core or embedded in a longer prompt.
 */
export const DEFAULT_NGRAM = 8;
/** Share of a benchmark prompt's n-grams that must occur in a row for the row to be contaminated. */
export const DEFAULT_OVERLAP = 0.5;
/** A benchmark prompt shorter than n words matches a row that contains all of it, if it has at least this many words; shorter ones only match exactly. */
const MIN_CONTAINED_WORDS = 4;

export interface BenchmarkPrompt {
  /** The set's name, or the file's path for a file of the user's. */
  set: string;
  id: string;
  prompt: string;
}

export interface ContaminationMatch {
  set: string;
  id: string;
  prompt: string;
  match: 'exact' | 'ngram';
  /** Share of the benchmark prompt's n-grams found in the row (1 for exact). */
  overlap: number;
}

export interface DecontaminationOptions {
  ngram: number;
  overlap: number;
}

/**
 * Reads benchmark prompts from `all`, a comma-separated list of shipped set names, or a CSV/JSONL file
 * (its prompt column chosen as for runs). `resolveFile` checks a file path against the caller's rules,
 * and may give it opened (then it is read through that descriptor and closed here).
 */
export async function loadBenchmarks(
  spec: string,
  { resolveFile = async (p: string) => p, field = 'decontaminate', dir = builtinBenchmarksDir }: { resolveFile?: (path: string) => Promise<PromptInput>; field?: string; dir?: URL } = {},
): Promise<{ sets: string[]; prompts: BenchmarkPrompt[] }> {
  const names = spec.trim() === 'all' ? [...BENCHMARK_NAMES] : spec.split(',').map((s) => s.trim()).filter(Boolean);
  if (names.length === 0) throw new InputError(`${field}: name benchmark sets (${BENCHMARK_NAMES.join(', ')} or all) or a CSV/JSONL file`);
  const prompts: BenchmarkPrompt[] = [];
  for (const name of names) {
    if (BENCHMARK_NAMES.includes(name)) {
      // The prompt column as it is (HarmBench's behaviour without its context), every row of every split.
      const suite = SUITES[name]!;
      const file = await readPromptFile(fileURLToPath(new URL(`${name}.jsonl`, dir)), suite.column);
      for (const row of file.rows) {
        const id = suite.idColumn ? row.metadata[suite.idColumn] : undefined;
        prompts.push({ set: name, id: id === undefined || id === null ? String(row.index + 1) : String(id), prompt: row.prompt });
      }
    } else if (/\.(csv|jsonl|ndjson|json)$/i.test(name)) {
      const input = await resolveFile(name);
      const file = await readPromptFile(input).finally(() => (typeof input === 'string' ? undefined : input.close()));
      for (const row of file.rows) prompts.push({ set: name, id: String(row.index + 1), prompt: row.prompt });
    } else {
      throw new InputError(`${field}: "${name}" is neither a benchmark set (${BENCHMARK_NAMES.join(', ')}, all) nor a .csv/.jsonl file`);
    }
  }
  return { sets: names, prompts };
}

/**
 * Benchmark prompts indexed for matching: by normalised text (exact matches) and by word n-gram. A row
 * is contaminated when its normalised text equals a benchmark prompt's, or when it contains at least
 * `overlap` of one benchmark prompt's n-grams (all of it, for a prompt shorter than n words).
 */
export class ContaminationIndex {
  private readonly exact = new Map<string, number>();
  /** Every word of the benchmark prompts, numbered: a gram with any other word cannot match. */
  private readonly vocabulary = new Map<string, number>();
  private readonly grams = new Map<number, number[]>();
  private readonly gramCounts: number[] = [];
  /** The gram sizes in the index: n, plus the lengths of benchmark prompts shorter than n. */
  private readonly sizes = new Set<number>();

  constructor(
    private readonly prompts: readonly BenchmarkPrompt[],
    private readonly options: DecontaminationOptions,
  ) {
    prompts.forEach((p, i) => {
      const norm = normalise(p.prompt);
      if (!norm) return;
      if (!this.exact.has(norm)) this.exact.set(norm, i);
      const ids = words(norm).map((w) => {
        let id = this.vocabulary.get(w);
        if (id === undefined) this.vocabulary.set(w, (id = this.vocabulary.size));
        return id;
      });
      const size = ids.length >= options.ngram ? options.ngram : ids.length >= MIN_CONTAINED_WORDS ? ids.length : 0;
      if (size === 0) return;
      this.sizes.add(size);
      const own = new Set(gramHashes(ids, size));
      this.gramCounts[i] = own.size;
      for (const gram of own) {
        const list = this.grams.get(gram);
        if (list) list.push(i);
        else this.grams.set(gram, [i]);
      }
    });
  }

  get size(): number {
    return this.prompts.length;
  }

  match(text: string): ContaminationMatch | undefined {
    const norm = normalise(text);
    const exact = this.exact.get(norm);
    if (exact !== undefined) return { ...this.describe(exact), match: 'exact', overlap: 1 };
    const ids = words(norm).map((w) => this.vocabulary.get(w) ?? -1);
    const hits = new Map<number, number>();
    for (const size of this.sizes) {
      for (const gram of new Set(gramHashes(ids, size))) {
        for (const i of this.grams.get(gram) ?? []) hits.set(i, (hits.get(i) ?? 0) + 1);
      }
    }
    let best: { i: number; overlap: number } | undefined;
    for (const [i, count] of hits) {
      const overlap = count / this.gramCounts[i]!;
      if (overlap >= this.options.overlap && (!best || overlap > best.overlap)) best = { i, overlap };
    }
    return best ? { ...this.describe(best.i), match: 'ngram', overlap: Math.round(best.overlap * 1000) / 1000 } : undefined;
  }

  private describe(i: number): { set: string; id: string; prompt: string } {
    const p = this.prompts[i]!;
    return { set: p.set, id: p.id, prompt: p.prompt.length > 200 ? p.prompt.slice(0, 199) + '…' : p.prompt };
  }
}

/**
 * A 52-bit hash of each run of `size` word ids (skipping runs with an unknown word, id −1): two
 * independent 32-bit hashes side by side, so distinct grams practically never share a number.
 */
function gramHashes(ids: readonly number[], size: number): number[] {
  const out: number[] = [];
  for (let k = 0; k + size <= ids.length; k++) {
    let a = 0x811c9dc5;
    let b = size;
    let known = true;
    for (let j = k; j < k + size; j++) {
      const id = ids[j]!;
      if (id < 0) {
        known = false;
        break;
      }
      a = Math.imul(a ^ id, 0x01000193);
      b = Math.imul(b ^ id, 0x5bd1e995) ^ (b >>> 15);
    }
    if (known) out.push((a >>> 0) * 2 ** 20 + ((b >>> 0) & 0xfffff));
  }
  return out;
}
