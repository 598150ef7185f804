import { createHash } from 'node:crypto';

/**
 * A prompt reduced to what decides whether two prompts are the same: Unicode compatibility forms
 * folded, lower case, punctuation and symbols dropped, whitespace collapsed. Splits, dedup and
 * decontamination all compare prompts in this form.
 */
export function normalise(text: string): string {
  return text
    .normalize('NFKC')
    .toLowerCase()
    .replace(/[\p{P}\p{S}]+/gu, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

export function words(normalised: string): string[] {
  return normalised ? normalised.split(' ') : [];
}

/** A stable number in [0, 1) for a normalised prompt. */
export function unitHash(normalised: string): number {
  const digest = createHash('sha256').update(normalised).digest();
  return digest.readUIntBE(0, 6) / 2 ** 48;
}
