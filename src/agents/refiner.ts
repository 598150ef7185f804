import { z } from 'zod';
import type { ChatMessage } from '../llm/chat-model.js';
import type { Policy } from '../policies/policy.js';
import { ClauseIndex } from '../reasoning/clause-ids.js';
import { lintThought, quote, stripEnumeration } from '../reasoning/thought-lint.js';
import { dataMessage, intentsForReading, systemMessage, type Intents } from './shared.js';

/** Why a thought left the chain: the paper's four reasons, then the linter's. */
export const REMOVAL_REASONS = ['repetitive', 'redundant', 'deceptive', 'policy_inconsistent', 'meta', 'refusal', 'unknown_clause'] as const;
export type RemovalReason = (typeof REMOVAL_REASONS)[number];
const REFINER_REASONS = ['repetitive', 'redundant', 'deceptive', 'policy_inconsistent', 'meta', 'refusal'] as const;

/**
 * An edit may grow a thought (or two merged ones) by at most this factor plus EDIT_SLACK characters:
 * room to fix voice or join two sentences, not to add reasoning the deliberation did not produce.
 */
export const EDIT_GROWTH = 1.25;
export const EDIT_SLACK = 40;
/** A merged text keeps at least this share of its two sources' length, so the merged thought's content cannot vanish. */
export const MERGE_MIN_SHARE = 0.6;

// Removals come first, each with its reason, so the chain that follows is what is left once they are
// gone. Integers carry no range here: a strict decoder ignores minimum and maximum, so an index out of
// range is accepted by the schema and reported by refinementProblems for repair.
export const refinementSchema = z.object({
  removed: z
    .array(
      z.object({
        index: z.number().int().describe('The index of a thought that leaves the reasoning.'),
        reason: z.enum(REFINER_REASONS),
        explanation: z.string().describe('One sentence on why it leaves.'),
      }),
    )
    .max(500)
    .describe('The thoughts that leave; empty when every thought stays.'),
  kept: z
    .array(
      z.object({
        from: z.array(z.number().int()).max(500).describe('The index of the thought this entry keeps, or the two indices of two thoughts it combines.'),
        text: z.string().nullable().describe('null to keep the thought exactly as written; otherwise the lightly edited thought, or the two combined.'),
      }),
    )
    .max(500)
    .describe('The reasoning that stays, one entry per thought, in the order it should read, ending in what the answer will do.'),
});
export type Refinement = z.infer<typeof refinementSchema>;
type KeptEntry = Refinement['kept'][number];

const instructions = `You edit a chain of reasoning before it becomes training data for a safe and helpful assistant. The input holds the request, its intents, and the reasoning: a list of thoughts, each with its index. Every thought either leaves or stays, and every index is used exactly once.
First list the thoughts that leave, each with its index, one of these reasons and a one-sentence explanation:
- "repetitive": it says again what another thought says;
- "redundant": it adds nothing the answer needs (over-thinking that drifts toward over-refusal);
- "deceptive": it sounds plausible but leads to a wrong conclusion;
- "policy_inconsistent": it contradicts the policies, by being too permissive or needlessly restrictive;
- "meta": it talks about agents, reviewers, drafts, other thoughts or the process instead of the request;
- "refusal": it refuses to reason instead of reasoning.
Then write out the reasoning that stays, one entry per thought, in the order it should read:
- to keep a thought as written, give its index and null: {"from": [4], "text": null};
- to keep it with a light edit, give its index and the edited text. An edit may only fix the voice (first person or impersonal, no talk of agents, drafts, thought numbers or the process) or drop list numbering; it must not add claims or cite clause ids the thought does not cite;
- to combine two thoughts that say one thing, give both indices and the combined text: {"from": [2, 3], "text": "…"}. An entry combines at most two.
Keep the thoughts in their order, with one exception: the reasoning must end in what the answer will do. When a later thought changes or completes the conclusion, that conclusion goes last, and an earlier conclusion it replaces leaves (as "repetitive" when the later one restates it, otherwise for what is wrong with it).`;

export interface RefinerInput {
  prompt: string;
  intents?: Intents;
  thoughts: readonly string[];
  policies: readonly Policy[];
}

export interface RemovedEntry {
  thought: string;
  reason: RemovalReason;
  explanation: string;
  stage: 'refinement';
  index: number;
}

export interface RefinementOutcome {
  refined: string[];
  /** For each refined thought, the indices of the input thoughts it came from. */
  sources: number[][];
  removed: RemovedEntry[];
  /** Decisions that code overrode (a missing decision, an edit that added ids or grew too much): kept as written. */
  overridden: number;
}

export const refiner = {
  role: 'refiner' as const,
  schemaName: 'refinement',
  schema: refinementSchema,
  build({ prompt, intents, thoughts, policies }: RefinerInput): ChatMessage[] {
    return [
      systemMessage(instructions, refinementSchema, policies, 'analysis'),
      dataMessage({ query: prompt, ...(intents ? { intents: intentsForReading(intents) } : {}), thoughts: thoughts.map((text, index) => ({ index, text })) }),
    ];
  },
  check(thoughts: readonly string[], policies: readonly Policy[]): (reply: Refinement) => string[] {
    const clauses = new ClauseIndex(policies);
    return (reply) => refinementProblems(reply, thoughts, clauses);
  },
};

/** Everything that keeps a refinement from accounting for each thought exactly once, cleanly. */
export function refinementProblems(reply: Refinement, thoughts: readonly string[], clauses: ClauseIndex): string[] {
  const problems: string[] = [];
  const uses = new Map<number, number>();
  const range = thoughts.length === 0 ? 'there are no thoughts' : `indices run from 0 to ${thoughts.length - 1}`;
  const use = (index: number, where: string) => {
    if (index < 0 || index >= thoughts.length) problems.push(`${where} names index ${index}: there is no such thought (${range})`);
    else uses.set(index, (uses.get(index) ?? 0) + 1);
  };
  for (const r of reply.removed) {
    use(r.index, 'a removed entry');
    const unknown = clauses.unknown(r.explanation);
    if (unknown.length > 0) problems.push(`the explanation for removed index ${r.index} cites ${unknown.join(', ')}, which no policy in force has`);
  }
  reply.kept.forEach((entry, position) => {
    const where = `kept entry ${position + 1}`;
    if (entry.from.length === 0) problems.push(`${where} names no index; give the index of the thought it keeps`);
    if (entry.from.length > 2) problems.push(`${where} combines ${entry.from.length} thoughts; an entry combines at most two`);
    if (entry.from.length === 2 && entry.text === null) problems.push(`${where} combines indices ${entry.from.join(' and ')} but gives no combined text`);
    for (const index of entry.from) use(index, where);
    if (entry.from.length <= 2 && entry.from.every((i) => i >= 0 && i < thoughts.length)) {
      const problem = editProblem(entry.text, entry.from, thoughts, clauses);
      if (problem) problems.push(`the text of ${where} ${problem}`);
    }
  });
  const twice = [...uses].filter(([, n]) => n > 1).map(([i]) => i);
  if (twice.length > 0) problems.push(`${twice.length === 1 ? 'index' : 'indices'} ${twice.join(', ')} ${twice.length === 1 ? 'is' : 'are'} used more than once; use each index exactly once, either removed or kept`);
  const missing = thoughts.map((_, i) => i).filter((i) => !uses.has(i));
  if (missing.length > 0) problems.push(`${missing.length === 1 ? 'index' : 'indices'} ${missing.join(', ')} ${missing.length === 1 ? 'is' : 'are'} neither removed nor kept; use every index exactly once`);
  if (thoughts.length > 0 && reply.kept.length === 0 && reply.removed.length > 0) problems.push('every thought is removed; keep the ones the answer rests on');
  return problems;
}

/**
 * Turns the reply into the refined chain. Code, not the model, accounts for every input thought: an
 * index already used is skipped (the first use wins, kept before removed), an edit that fails the
 * checks gives way to the thoughts as written, and a thought the reply never names is kept as written
 * after the kept thought just before it in the input.
 */
export function applyRefinement(reply: Refinement, thoughts: readonly string[], clauses: ClauseIndex): RefinementOutcome {
  const refined: string[] = [];
  const sources: number[][] = [];
  const removed: RemovedEntry[] = [];
  const used = new Set<number>();
  let overridden = 0;
  const valid = (i: number) => Number.isInteger(i) && i >= 0 && i < thoughts.length && !used.has(i);
  for (const entry of reply.kept) {
    const indices = [...new Set(entry.from)].filter(valid);
    if (indices.length === 0) {
      overridden += 1;
      continue;
    }
    indices.forEach((i) => used.add(i));
    if (isCleanEdit(entry, indices, thoughts, clauses)) {
      refined.push(stripEnumeration(entry.text!).text);
      sources.push(indices);
      continue;
    }
    if (entry.text !== null || indices.length !== entry.from.length || indices.length > 1) overridden += 1;
    for (const i of indices) {
      refined.push(thoughts[i] ?? '');
      sources.push([i]);
    }
  }
  for (const r of reply.removed) {
    if (!valid(r.index)) {
      overridden += 1;
      continue;
    }
    used.add(r.index);
    removed.push({ thought: thoughts[r.index] ?? '', reason: r.reason, explanation: clauses.redact(r.explanation.trim()) || 'Removed by the refiner.', stage: 'refinement', index: r.index });
  }
  for (let i = 0; i < thoughts.length; i++) {
    if (used.has(i)) continue;
    overridden += 1;
    let at = 0;
    sources.forEach((from, position) => {
      if (from.some((j) => j < i)) at = position + 1;
    });
    refined.splice(at, 0, thoughts[i] ?? '');
    sources.splice(at, 0, [i]);
  }
  return { refined, sources, removed, overridden };
}

function isCleanEdit(entry: KeptEntry, indices: number[], thoughts: readonly string[], clauses: ClauseIndex): boolean {
  return entry.text !== null && indices.length === entry.from.length && indices.length <= 2 && editProblem(entry.text, indices, thoughts, clauses) === undefined;
}

function editProblem(text: string | null, indices: readonly number[], thoughts: readonly string[], clauses: ClauseIndex): string | undefined {
  if (text === null) return undefined;
  const edited = stripEnumeration(text).text;
  if (!edited) return 'is empty; give null to keep the thought as written';
  const sourceTexts = indices.map((i) => thoughts[i] ?? '');
  const cited = new Set(sourceTexts.flatMap((t) => clauses.cited(t).map((id) => id.toUpperCase())));
  const added = clauses.cited(edited).filter((id) => !cited.has(id.toUpperCase()));
  if (added.length > 0) return `cites ${[...new Set(added)].join(', ')}, which its source thoughts do not cite; an edit must not add clause ids`;
  const sourceLength = sourceTexts.reduce((n, t) => n + t.length, 0);
  const bound = Math.ceil(EDIT_GROWTH * sourceLength) + EDIT_SLACK;
  if (edited.length > bound) return `is ${edited.length} characters, longer than its source thoughts allow (${bound}); an edit may not add reasoning`;
  if (indices.length > 1 && edited.length < MERGE_MIN_SHARE * sourceLength) return `is too short to hold both thoughts it combines; keep both as they are instead`;
  const finding = lintThought(edited, clauses);
  if (finding) return `${quote(edited)} ${finding.why}`;
  return undefined;
}
