import { z } from 'zod';
import type { ChatMessage } from '../llm/chat-model.js';
import type { Policy } from '../policies/policy.js';
import { ClauseIndex } from '../reasoning/clause-ids.js';
import { lintThought, quote, stripEnumeration } from '../reasoning/thought-lint.js';
import { dataMessage, systemMessage, type Intents } from './shared.js';

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

export const refinementSchema = z.object({
  decisions: z
    .array(
      z.object({
        index: z.number().int().min(0).max(499).describe('The index of the thought this decision is about.'),
        decision: z.enum(['keep', 'merge', 'remove']),
        reason: z.enum(REFINER_REASONS).nullable().describe('With "remove": why. Otherwise null.'),
        explanation: z.string().describe('One sentence on why; may be empty for "keep".'),
        text: z.string().nullable().describe('With "keep": the lightly edited thought, or null to keep it as written.'),
      }),
    )
    .max(500),
});
export type Refinement = z.infer<typeof refinementSchema>;
type Decision = Refinement['decisions'][number];

const instructions = `You edit a chain of reasoning before it is used as training data for a safe and helpful assistant. The input holds the request, its intents, and the reasoning: a list of thoughts, each with its index. Decide, for every thought, whether it stays.
- "keep": the thought is correct, needed and consistent with the policies. Set "text" to null to keep it as written, or to a light edit: fix its voice (first person or impersonal, no talk of agents, drafts, thought numbers or the process) or drop list numbering. An edit must not add new claims or cite clause ids the thought does not already cite.
- "merge": for two adjacent thoughts that say one thing. Give the first "keep" with "text" set to the two combined, and the second "merge" with "text" null. A kept thought absorbs at most the one thought right after it.
- "remove", with a reason:
  - "repetitive": it says again what an earlier thought said;
  - "redundant": it adds nothing the answer needs (over-thinking that drifts toward over-refusal);
  - "deceptive": it sounds plausible but leads to a wrong conclusion;
  - "policy_inconsistent": it contradicts the policies, by being too permissive or needlessly restrictive;
  - "meta": it talks about agents, reviewers, drafts, other thoughts or the process instead of the request;
  - "refusal": it refuses to reason instead of reasoning.
Give exactly one decision for every index, in index order. The kept thoughts, in order, must read as one coherent line of reasoning that ends in what the answer should do.`;

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
      dataMessage({ query: prompt, ...(intents ? { intents } : {}), thoughts: thoughts.map((text, index) => ({ index, text })) }),
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
  const seen = new Set<number>();
  for (const d of reply.decisions) {
    if (d.index >= thoughts.length) problems.push(`decision for index ${d.index}: there is no such thought (indices run from 0 to ${thoughts.length - 1})`);
    else if (seen.has(d.index)) problems.push(`index ${d.index} has more than one decision; give exactly one`);
    seen.add(d.index);
    if (d.decision === 'remove' && d.reason === null) problems.push(`decision for index ${d.index}: "remove" needs a reason`);
    const unknown = clauses.unknown(d.explanation);
    if (unknown.length > 0) problems.push(`explanation for index ${d.index} cites ${unknown.join(', ')}, which no policy in force has`);
  }
  if (thoughts.length > 0 && reply.decisions.length > 0 && reply.decisions.every((d) => d.decision === 'remove')) problems.push('every thought is removed; keep the ones the answer rests on');
  const missing = thoughts.map((_, i) => i).filter((i) => !seen.has(i));
  if (missing.length > 0) problems.push(`no decision for ${missing.length === 1 ? 'index' : 'indices'} ${missing.join(', ')}: give one decision for every thought`);
  for (const group of groups(reply, thoughts.length)) {
    if (group.orphan) problems.push(`index ${group.indices[0]} is marked "merge" but no kept thought comes right before it`);
    if (group.indices.length > 2) problems.push(`index ${group.indices[2]} is marked "merge", but the kept thought at index ${group.indices[0]} already absorbs index ${group.indices[1]}; a kept thought absorbs at most one`);
    if (group.indices.length > 1 && group.text === null) problems.push(`index ${group.indices[1]} is marked "merge", but the kept thought at index ${group.indices[0]} gives no combined "text"`);
    const problem = editProblem(group.text, group.indices, thoughts, clauses);
    if (problem) problems.push(`edited text for index ${group.indices[0]} ${problem}`);
  }
  return problems;
}

/**
 * Turns the decisions into the refined chain. Code, not the model, accounts for every input thought:
 * a thought without a decision is kept as written, an edit that fails the checks is dropped in favour
 * of the thoughts as written, and a removal without a reason is recorded as redundant.
 */
export function applyRefinement(reply: Refinement, thoughts: readonly string[], clauses: ClauseIndex): RefinementOutcome {
  const refined: string[] = [];
  const sources: number[][] = [];
  const removed: RemovedEntry[] = [];
  let overridden = 0;
  const byIndex = firstDecisions(reply, thoughts.length);
  overridden += thoughts.length - byIndex.size;
  for (const group of groups(reply, thoughts.length)) {
    if (group.removal) {
      const d = group.removal;
      removed.push({ thought: thoughts[d.index] ?? '', reason: d.reason ?? 'redundant', explanation: clauses.redact(d.explanation.trim()) || 'Removed by the refiner.', stage: 'refinement', index: d.index });
      continue;
    }
    if (group.text !== null && group.indices.length <= 2 && !editProblem(group.text, group.indices, thoughts, clauses)) {
      refined.push(stripEnumeration(group.text).text);
      sources.push(group.indices);
      continue;
    }
    if (group.text !== null || group.orphan || group.indices.length > 1) overridden += 1;
    for (const i of group.indices) {
      refined.push(thoughts[i] ?? '');
      sources.push([i]);
    }
  }
  return { refined, sources, removed, overridden };
}

interface Group {
  indices: number[];
  text: string | null;
  orphan: boolean;
  removal?: Decision;
}

/** Walks the thoughts in order: each kept thought opens a group that following "merge" decisions join. */
function groups(reply: Refinement, count: number): Group[] {
  const byIndex = firstDecisions(reply, count);
  const out: Group[] = [];
  let open: Group | undefined;
  for (let i = 0; i < count; i++) {
    const d = byIndex.get(i);
    if (d?.decision === 'remove') {
      out.push({ indices: [i], text: null, orphan: false, removal: d });
      open = undefined;
    } else if (d?.decision === 'merge' && open) {
      open.indices.push(i);
    } else {
      open = { indices: [i], text: d?.text ?? null, orphan: d?.decision === 'merge' };
      out.push(open);
    }
  }
  return out;
}

function firstDecisions(reply: Refinement, count: number): Map<number, Decision> {
  const byIndex = new Map<number, Decision>();
  for (const d of reply.decisions) if (d.index < count && !byIndex.has(d.index)) byIndex.set(d.index, d);
  return byIndex;
}

function editProblem(text: string | null, indices: number[], thoughts: readonly string[], clauses: ClauseIndex): string | undefined {
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
  if (indices.length > 1 && edited.length < MERGE_MIN_SHARE * sourceLength) return `is too short to hold both thoughts it merges; keep both as they are instead`;
  const finding = lintThought(edited, clauses);
  if (finding) return `${quote(edited)} ${finding.why}`;
  return undefined;
}
