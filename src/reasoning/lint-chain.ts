import { askerClaims, beliefLeaks } from './belief-leak.js';
import type { ClauseIndex } from './clause-ids.js';
import { lintThought, stripEnumeration, type LintKind } from './thought-lint.js';

/**
 * The thought linter over a whole chain, as a dataset audit sees it: the findings the pipeline acts on
 * (`meta`, `refusal`, `unknown_clause`), plus two it can only check with more than the thought in hand:
 * a leading list marker, which the pipeline strips silently but which a finished dataset should not
 * have, and a belief leak, which needs the prompt (and, when known, the belief the side was written under).
 */
export const CHAIN_FINDING_KINDS = ['meta', 'refusal', 'unknown_clause', 'belief_leak', 'enumeration'] as const satisfies readonly (LintKind | string)[];
export type ChainFindingKind = (typeof CHAIN_FINDING_KINDS)[number];

export interface ChainFinding {
  kind: ChainFindingKind;
  /** 0-based position of the thought in its chain. */
  index: number;
  thought: string;
  why: string;
}

export interface ChainContext {
  clauses: ClauseIndex;
  /** The request the chain reasons about; without it no belief-leak check is made. */
  prompt?: string;
  /** The bad belief a rejected side was written under, when the data still has it. */
  belief?: string;
}

export function lintChain(thoughts: readonly string[], { clauses, prompt, belief }: ChainContext): ChainFinding[] {
  const findings: ChainFinding[] = [];
  thoughts.forEach((raw, index) => {
    const { text, stripped } = stripEnumeration(raw);
    if (stripped) findings.push({ kind: 'enumeration', index, thought: raw, why: 'begins with a list marker, which a trained model would copy' });
    if (!text) return;
    const finding = lintThought(text, clauses);
    if (finding) {
      findings.push({ kind: finding.kind, index, thought: raw, why: finding.why });
      return;
    }
    if (prompt === undefined) return;
    const field = `thought ${index + 1}`;
    const leak = (belief ? beliefLeaks(belief, prompt, [{ field, text }]) : askerClaims(prompt, [{ field, text }]))[0];
    if (leak) findings.push({ kind: 'belief_leak', index, thought: raw, why: leak.slice(field.length + 1) });
  });
  return findings;
}

/**
 * The thoughts of a `<think>` block as exports write it: one thought per line (blank lines between
 * paragraphs of another dataset's free-form reasoning are not thoughts).
 */
export function thoughtLines(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter(Boolean);
}
