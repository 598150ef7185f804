import { InputError } from '../errors.js';
import { normalise, unitHash } from './normalise.js';

export interface Split {
  name: string;
  fraction: number;
}

const SPLIT_NAME = /^[a-z][a-z0-9_]{0,31}$/;

/** Parses `train=0.9,validation=0.05,test=0.05`: named fractions that add up to 1. */
export function parseSplits(spec: string, field = 'split'): Split[] {
  const splits: Split[] = [];
  for (const part of spec.split(',')) {
    const m = /^\s*([^=\s]+)\s*=\s*([0-9.]+)\s*$/.exec(part);
    const fraction = Number(m?.[2]);
    if (!m || !SPLIT_NAME.test(m[1]!) || !(fraction > 0 && fraction <= 1)) {
      throw new InputError(`${field}: "${part}" is not NAME=FRACTION (a lowercase name and a number above 0 and at most 1), e.g. train=0.9,validation=0.05,test=0.05`);
    }
    if (splits.some((s) => s.name === m[1])) throw new InputError(`${field}: split "${m[1]}" is named twice`);
    splits.push({ name: m[1]!, fraction });
  }
  const total = splits.reduce((n, s) => n + s.fraction, 0);
  if (Math.abs(total - 1) > 1e-6) throw new InputError(`${field}: the fractions add up to ${+total.toFixed(6)}; they must add up to 1`);
  return splits;
}

/**
 * The split of a prompt, from a hash of its normalised text: the same prompt always lands in the same
 * split, in every export, so no prompt is in two splits and a re-export never moves rows.
 */
export function splitOf(prompt: string, splits: readonly Split[]): string {
  const u = unitHash(normalise(prompt));
  let edge = 0;
  for (const split of splits) {
    edge += split.fraction;
    if (u < edge) return split.name;
  }
  return splits.at(-1)!.name;
}

/** `data.jsonl` → `data.train.jsonl`. */
export function splitPath(out: string, split: string): string {
  const m = /^(.*?)(\.[^./\\]+)?$/.exec(out)!;
  return `${m[1]}.${split}${m[2] ?? ''}`;
}
