import { z } from 'zod';
import { BENCHMARK_NAMES } from '../exports/decontaminate.js';
import { POLICY_ID_PATTERN } from '../policies/policy.js';
import { RECIPES, RECORD_ID_PATTERN } from '../store/record.js';

/**
 * Field schemas shared by several tools, so a field means the same everywhere. Every string and
 * array a tool takes has a bound; text a model reads is bounded by the prompt cap (max_prompt_chars).
 */
export const MAX_THOUGHTS = 200;
/** All thoughts of one chain together, in prompt caps: a long CoT, but not an unbounded one. */
export const THOUGHTS_TOTAL_IN_PROMPTS = 5;
/** Paths, column names and other short strings. */
export const MAX_NAME_CHARS = 1_000;

export function promptField(maxChars: number) {
  return z
    .string()
    .max(maxChars, `prompt must be at most ${maxChars} characters`)
    .refine((s) => s.trim().length > 0, 'prompt must not be empty or blank')
    .describe('The query.');
}

/** A chain of thought given by the client: 1–200 thoughts, each and all together bounded by the prompt cap. */
export function thoughtsField(maxChars: number, what: string) {
  const total = THOUGHTS_TOTAL_IN_PROMPTS * maxChars;
  return z
    .array(
      z
        .string()
        .max(maxChars, `a thought must be at most ${maxChars} characters`)
        .refine((s) => s.trim().length > 0, 'a thought must not be blank'),
    )
    .min(1, 'thoughts must hold at least one thought')
    .max(MAX_THOUGHTS, `thoughts may hold at most ${MAX_THOUGHTS} thoughts`)
    .refine((ts) => ts.reduce((n, t) => n + t.length, 0) <= total, `thoughts must be at most ${total} characters in all`)
    .describe(`${what}; at most ${total} characters in all.`);
}

/** A response given by the client, bounded like the prompt. */
export function responseField(maxChars: number, what: string) {
  return z
    .string()
    .max(maxChars, `response must be at most ${maxChars} characters`)
    .refine((s) => s.trim().length > 0, 'response must not be empty or blank')
    .describe(`${what}.`);
}

export const policyIdsField = z
  .array(z.string().max(64).regex(POLICY_ID_PATTERN, 'policy ids are lowercase letters, digits, "_" or "-"'))
  // An empty list is refused rather than read as "all": a client that filtered its choice down to nothing did not mean every policy.
  .min(1, 'policy_ids must name at least one policy (see list_policies); leave policy_ids out to use every policy')
  .max(50, 'policy_ids may hold at most 50 ids')
  .optional()
  .describe('Default: all.');

export const recordIdField = z
  .string()
  .max(45)
  .regex(RECORD_ID_PATTERN, 'a record id looks like "cot_…" (as returned by deliberate_safety_cot or list_records)')
  .describe('From list_records.');

/** Dedup and decontamination, the same on start_batch (input rows) and export_dataset (records). */
export const screenFields = {
  dedup: z.boolean().default(false).describe('Drop duplicate prompts.'),
  dedup_threshold: z.number().min(0, 'dedup_threshold must be from 0 to 1').max(1, 'dedup_threshold must be from 0 to 1').optional().describe('Jaccard, default 0.7.'),
  decontaminate: z.string().min(1, 'decontaminate must not be empty').max(1_000, 'decontaminate must be at most 1,000 characters').optional().describe(`Drop benchmark prompts: all, ${BENCHMARK_NAMES.join(', ')} or a file.`),
  ngram: z.number().int().min(2, 'ngram must be from 2 to 50').max(50, 'ngram must be from 2 to 50').optional().describe('Default 8.'),
  ngram_overlap: z.number().min(0.01, 'ngram_overlap must be from 0.01 to 1').max(1, 'ngram_overlap must be from 0.01 to 1').optional().describe('Default 0.5.'),
};

export const recipeField = z
  .enum(RECIPES, { error: `recipe must be one of ${RECIPES.join(', ')}` })
  .default('aidsafe')
  .describe('baseline: one zero-shot model.');
