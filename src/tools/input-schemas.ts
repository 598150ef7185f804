import { z } from 'zod';
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
    .describe(`The user query to reason about (1–${maxChars} characters).`);
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
    .describe(`${what} (1–${MAX_THOUGHTS} thoughts, each at most ${maxChars} characters, at most ${total} in all).`);
}

/** A response given by the client, bounded like the prompt. */
export function responseField(maxChars: number, what: string) {
  return z
    .string()
    .max(maxChars, `response must be at most ${maxChars} characters`)
    .refine((s) => s.trim().length > 0, 'response must not be empty or blank')
    .describe(`${what} (1–${maxChars} characters).`);
}

export const policyIdsField = z
  .array(z.string().max(64).regex(POLICY_ID_PATTERN, 'policy ids are lowercase letters, digits, "_" or "-"'))
  .max(50, 'policy_ids may hold at most 50 ids')
  .optional()
  .describe('Policies to reason against (see list_policies; at most 50). Default: every loaded policy.');

export const recordIdField = z
  .string()
  .max(45)
  .regex(RECORD_ID_PATTERN, 'a record id looks like "cot_…" (as returned by deliberate_safety_cot or list_records)')
  .describe('A record id.');

export const recipeField = z
  .enum(RECIPES, { error: `recipe must be one of ${RECIPES.join(', ')}` })
  .default('aidsafe')
  .describe('How a sample is made: "aidsafe" (intents, multi-agent deliberation, refinement) or "baseline" (one model writes the chain of thought and the answer zero-shot from the query and the policies, as the paper’s comparison).');
