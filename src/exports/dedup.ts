import { normalise, words } from './normalise.js';

/** Word n-grams per shingle: short enough that prompts of ten words still have several. */
export const SHINGLE_WORDS = 3;
/** Jaccard similarity of two prompts' shingle sets at or above which the later one is a near duplicate. */
export const DEFAULT_NEAR_DUP_THRESHOLD = 0.7;

const PERMUTATIONS = 64;
const BANDS = 16;
const ROWS_PER_BAND = PERMUTATIONS / BANDS;

export interface DedupOptions {
  /** Jaccard threshold for near duplicates, 0–1; 1 keeps only exact matching. */
  threshold: number;
}

export interface Duplicate {
  /** Position of the dropped text in the input list. */
  index: number;
  /** Position of the text kept instead (always earlier). */
  kept_index: number;
  match: 'exact' | 'near';
  /** Jaccard similarity of the two shingle sets (1 for exact). */
  similarity: number;
}

/** FNV-1a, then a murmur3 finaliser: a 32-bit hash of a shingle. */
function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return mix(h);
}

function mix(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}

/** The sorted, distinct shingle hashes of a normalised text (the whole text when it is short). */
export function shingles(normalised: string, size = SHINGLE_WORDS): Uint32Array {
  const w = words(normalised);
  const set = new Set<number>();
  if (w.length <= size) set.add(hash32(w.join(' ')));
  else for (let i = 0; i + size <= w.length; i++) set.add(hash32(w.slice(i, i + size).join(' ')));
  return Uint32Array.from(set).sort();
}

export function jaccard(a: Uint32Array, b: Uint32Array): number {
  let i = 0;
  let j = 0;
  let shared = 0;
  while (i < a.length && j < b.length) {
    if (a[i] === b[j]) {
      shared++;
      i++;
      j++;
    } else if (a[i]! < b[j]!) i++;
    else j++;
  }
  const union = a.length + b.length - shared;
  return union === 0 ? 1 : shared / union;
}

const SEEDS = Array.from({ length: PERMUTATIONS }, (_, i) => mix(0x9e3779b9 + i * 0x632be5ab));

function minhash(set: Uint32Array): Uint32Array {
  const signature = new Uint32Array(PERMUTATIONS).fill(0xffffffff);
  for (const value of set) {
    for (let p = 0; p < PERMUTATIONS; p++) {
      const h = mix(value ^ SEEDS[p]!);
      if (h < signature[p]!) signature[p] = h;
    }
  }
  return signature;
}

/** One number per LSH band: the band's index and a hash of its rows, so rows sharing a band share a key. */
function bandKeys(signature: Uint32Array): number[] {
  const keys: number[] = [];
  for (let b = 0; b < BANDS; b++) {
    let h = b + 1;
    for (let r = b * ROWS_PER_BAND; r < (b + 1) * ROWS_PER_BAND; r++) h = mix(h ^ signature[r]!) + r;
    keys.push(b * 2 ** 32 + (h >>> 0));
  }
  return keys;
}

/**
 * Finds exact duplicates (equal after normalising case, whitespace and punctuation) and near duplicates
 * (MinHash over word shingles, with locality-sensitive hashing to find candidates and the exact Jaccard
 * similarity of the shingle sets to confirm them). The first of each group is kept; every later one is
 * reported with the one kept instead.
 */
export function findDuplicates(texts: readonly string[], options: DedupOptions): Duplicate[] {
  const dropped: Duplicate[] = [];
  const exact = new Map<string, number>();
  const kept = new Map<number, Uint32Array>();
  const buckets = new Map<number, number[]>();
  texts.forEach((text, index) => {
    const norm = normalise(text);
    const first = exact.get(norm);
    if (first !== undefined) {
      dropped.push({ index, kept_index: first, match: 'exact', similarity: 1 });
      return;
    }
    exact.set(norm, index);
    if (options.threshold >= 1) return;
    const set = shingles(norm);
    const signature = minhash(set);
    const keys = bandKeys(signature);
    let best: { index: number; similarity: number } | undefined;
    const seen = new Set<number>();
    for (const key of keys) {
      for (const candidate of buckets.get(key) ?? []) {
        if (seen.has(candidate)) continue;
        seen.add(candidate);
        const similarity = jaccard(set, kept.get(candidate)!);
        if (similarity >= options.threshold && (!best || similarity > best.similarity)) best = { index: candidate, similarity };
      }
    }
    if (best) {
      dropped.push({ index, kept_index: best.index, match: 'near', similarity: Math.round(best.similarity * 1000) / 1000 });
      return;
    }
    kept.set(index, set);
    for (const key of keys) {
      const bucket = buckets.get(key);
      if (bucket) bucket.push(index);
      else buckets.set(key, [index]);
    }
  });
  return dropped;
}
