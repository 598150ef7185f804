import { z } from 'zod';
import { POLICY_ID_PATTERN } from '../policies/policy.js';
import { RECORD_ID_PATTERN } from '../store/record.js';

/** Field schemas shared by several tools, so a field means the same everywhere. */
export function promptField(maxChars: number) {
  return z
    .string()
    .max(maxChars, `prompt must be at most ${maxChars} characters`)
    .refine((s) => s.trim().length > 0, 'prompt must not be empty or blank')
    .describe(`The user query to reason about (1–${maxChars} characters).`);
}

export const policyIdsField = z
  .array(z.string().regex(POLICY_ID_PATTERN, 'policy ids are lowercase letters, digits, "_" or "-"'))
  .max(50)
  .optional()
  .describe('Policies to reason against (see list_policies). Default: every loaded policy.');

export const recordIdField = z.string().regex(RECORD_ID_PATTERN, 'a record id looks like "cot_…" (as returned by deliberate_safety_cot or list_records)').describe('A record id.');
