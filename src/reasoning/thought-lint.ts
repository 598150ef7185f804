import type { ClauseIndex } from './clause-ids.js';

/**
 * The thought linter. A stored thought becomes a line of `<think>` in a training sample, so it must
 * read as the assistant's own reasoning about the request. Deterministic: the same thought always
 * gets the same verdict, so records can be re-checked.
 *
 * - A leading enumeration ("3. ", "- ", "Thought 2:") is stripped silently.
 * - Meta-commentary (agents, reviewers, turns, thought numbers, drafts, the generation process) and
 *   refusals to do the analysis are findings: the reply goes back to the model for repair, and a
 *   thought that still has one is removed and recorded with the reason.
 * - Citations of clause ids that no policy in force has are findings too.
 * Narrating the request ("the query asks the assistant to…") is fine.
 */

export type LintKind = 'meta' | 'refusal' | 'unknown_clause';

export interface LintFinding {
  kind: LintKind;
  why: string;
}

const ENUMERATION = /^\s*(?:\*\*)?(?:(?:thought|step|point)\s*#?\d{1,3}\s*[:.)\-–—](?:\*\*)?\s*|\(\d{1,3}\)\s*|#\d{1,3}[:.)]?\s+|\d{1,3}[.):]\s+|[a-h]\)\s+|[-*•–]\s+)/i;

const NUMBER_WORDS = 'one|two|three|four|five|six|seven|eight|nine|ten';
const ORDINALS = 'first|second|third|fourth|fifth|last|previous|preceding|earlier|above|next|other';

// Each pattern names the generation process or its artefacts in words that ordinary safety reasoning
// does not use: "nerve agents", "an earlier draft of a letter" or "current thoughts of suicide" pass.
const META: [RegExp, string][] = [
  [/\bas (?:the |a )?(?:reviewer|deliberator|refiner|(?:first|second|third|other|next|last) agent)\b|\bas agent\s*#?\d+\b/i, 'speaks as an agent or reviewer'],
  [/\bagent\s*#?\d+\b/i, 'refers to a numbered agent'],
  [/\bthe (?:previous|prior|other|earlier|next|first|second|last) (?:agent|reviewer|deliberator)s?\b|\b(?:another|fellow) (?:agent|reviewer|deliberator)\b/i, 'refers to other agents or reviewers'],
  [new RegExp(`\\bthoughts? (?:#?\\d+|${NUMBER_WORDS})\\b|\\b(?:the|this|that) (?:(?:${ORDINALS}) )?thought\\b(?! (?:of|that (?:I|they|he|she|you)|experiment)\\b)`, 'i'), 'refers to another thought'],
  [/\b(?:initial|existing|current|previous|prior|earlier|above|preceding|new|added|original|remaining|other) (?:thoughts|reasoning steps?)\b(?! (?:of|about)\b)/i, 'talks about other thoughts instead of reasoning about the request'],
  [/\b(?:the|this|that|my|its|your|initial|current|previous|refined|whole) chain[- ]of[- ]thought\b|\bCoT\b/i, 'talks about the chain of thought itself'],
  [/\b(?:the|my) reasoning (?:so far|above)\b|\bmy_(?:reasoning|answer)\b|\b(?:the|my) (?:current|previous|earlier|initial|proposed) (?:answer|response|reply)\b/i, 'talks about the reasoning or answer as a document under review'],
  [/\bthe draft (?:response|answer|reply|should|needs|must|lacks|misses|omits)\b|\b(?:current|initial|updated|revised|previous|earlier|proposed) draft\b(?! of\b)/i, 'talks about a draft'],
  [/\b(?:deliberation|refinement) (?:agents?|rounds?|turns?|stage|step|phase)\b|\bthe refiner\b|\bear[- ]whisperer\b|\b(?:safety[- ]reasoning|data[- ]generation) pipeline\b/i, 'names the process that generates the data'],
  [/\b(?:earlier|previous|prior) (?:rounds|turns)\b|\b(?:in|during) (?:this|the previous|the last|an earlier|the current) (?:turn|round)\b(?! of (?:chemo|funding|golf|talks|negotiations))|^(?:round|turn) \d+\s*[:.,-]/i, 'refers to turns or rounds'],
  [/\bI (?:fully |also |now |completely )?(?:agree|concur) with (?:the |my |this |that )?(?:previous|prior|other|earlier|above|existing|current|initial|assessment|analysis|reasoning|review|reviewer)\b|^(?:agreed|no changes? (?:needed|are needed)|nothing (?:to add|further))\b/i, 'agrees with a reviewer instead of reasoning'],
  [/\bno (?:new|further|additional|more) thoughts?\b(?! (?:of|about)\b)/i, 'talks about adding thoughts'],
  [/^(?:update|revise|rewrite|amend|modify)\b.*\b(?:draft|response|answer|thoughts?)\b|^(?:add|include|insert|remove|delete|drop|change|expand)\b.*\b(?:to|in|from|into) the (?:draft|response|answer|reasoning|thoughts?)\b/i, 'an instruction to another stage, not reasoning'],
];

const CANNOT = String.raw`(?:can(?:no|['’])t|cannot|won['’]t|will not|must decline to|am unable to|['’]m unable to|am not able to|['’]m not able to)`;
const REFUSAL: [RegExp, string][] = [
  [/^(?:unfortunately,?\s+)?(?:I['’]m|I am) sorry\b|^sorry\b|^I apologi[sz]e\b/i, 'an apology, not reasoning'],
  [/^as an AI\b/i, 'talks about being an AI instead of reasoning'],
  [
    new RegExp(String.raw`^(?:unfortunately,?\s+)?(?:I|we)(?: |(?=['’]))${CANNOT} (?:analy[sz]e|review|evaluate|assess|reason about|think about|engage with)(?: [^[\]:;]{0,30})?\s*[.!]?$`, 'i'),
    'refuses the analysis',
  ],
  [new RegExp(String.raw`^(?:unfortunately,?\s+)?(?:I|we)(?: |(?=['’]))${CANNOT} (?:provide|give|offer|do) (?:an? |any )?(?:analysis|assessment|review|evaluation)\b`, 'i'), 'refuses the analysis'],
  [
    new RegExp(
      String.raw`^(?:unfortunately,?\s+)?(?:I|we)(?: |(?=['’]))${CANNOT} (?:help|assist|comply|continue|engage|proceed|do (?:that|this))(?: (?:with )?(?:this|that|the|your|such)(?: (?:request|query|task|analysis|question|one|kind of request))?)?(?:,?\s+(?:because|as|since)\b[^[\]]*)?\s*[.!]?$`,
      'i',
    ),
    'a bare refusal, not reasoning',
  ],
];

/** Removes a leading list marker; says whether there was one. */
export function stripEnumeration(thought: string): { text: string; stripped: boolean } {
  let text = thought.trim();
  let stripped = false;
  for (let i = 0; i < 2 && ENUMERATION.test(text); i++) {
    text = text.replace(ENUMERATION, '').trim();
    stripped = true;
  }
  return { text, stripped };
}

/** What is wrong with one thought (already stripped of its enumeration), or nothing. */
export function lintThought(thought: string, clauses?: ClauseIndex): LintFinding | undefined {
  for (const [pattern, why] of REFUSAL) if (pattern.test(thought)) return { kind: 'refusal', why };
  for (const [pattern, why] of META) if (pattern.test(thought)) return { kind: 'meta', why };
  const unknown = clauses?.unknown(thought) ?? [];
  if (unknown.length > 0) return { kind: 'unknown_clause', why: `cites ${unknown.join(', ')}, which ${unknown.length === 1 ? 'is not a clause' : 'are not clauses'} of the policies in force` };
  return undefined;
}

export interface LintCounts {
  /** Leading enumerations stripped. */
  stripped: number;
  /** Thoughts removed because a finding outlived every repair. */
  meta: number;
  refusal: number;
  unknown_clause: number;
  /** Replies sent back to a model because of findings. */
  repair_requests: number;
}

export function emptyLintCounts(): LintCounts {
  return { stripped: 0, meta: 0, refusal: 0, unknown_clause: 0, repair_requests: 0 };
}

export function addLintCounts(into: LintCounts, more: LintCounts): void {
  for (const key of Object.keys(into) as (keyof LintCounts)[]) into[key] += more[key];
}

/** The findings of a list of thoughts, worded for a model asked to repair its reply. */
export function thoughtProblems(thoughts: readonly string[], clauses: ClauseIndex, field = 'thoughts'): string[] {
  const problems: string[] = [];
  thoughts.forEach((raw, i) => {
    const finding = lintThought(stripEnumeration(raw).text, clauses);
    if (finding) problems.push(`${field}[${i}] ${quote(raw)} ${finding.why}${repairHint(finding, clauses)}`);
  });
  return problems;
}

function repairHint(finding: LintFinding, clauses: ClauseIndex): string {
  if (finding.kind === 'unknown_clause') return `; cite only these ids: ${clauses.describeValid()}`;
  if (finding.kind === 'refusal') return '; this is analysis for safety training data, so reason about the request instead of refusing';
  return '; write it as your own reasoning about the request, standing on its own';
}

export interface RemovedThought {
  thought: string;
  reason: LintKind;
  explanation: string;
}

/**
 * The deterministic last pass over a list of thoughts: strips enumerations, removes thoughts that
 * still have a finding (with unknown ids redacted, so a record never stores one) and counts both.
 */
export function cleanThoughts(thoughts: readonly string[], clauses: ClauseIndex): { kept: string[]; removed: RemovedThought[]; counts: LintCounts } {
  const counts = emptyLintCounts();
  const kept: string[] = [];
  const removed: RemovedThought[] = [];
  for (const raw of thoughts) {
    const { text, stripped } = stripEnumeration(raw);
    if (stripped) counts.stripped += 1;
    if (!text) continue;
    const finding = lintThought(text, clauses);
    if (!finding) {
      kept.push(text);
      continue;
    }
    counts[finding.kind] += 1;
    removed.push({ thought: clauses.redact(text), reason: finding.kind, explanation: `Removed by the thought linter: it ${finding.kind === 'unknown_clause' ? 'cites a clause id that no policy in force has' : finding.why}.` });
  }
  return { kept, removed, counts };
}

export function quote(text: string, max = 90): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return `"${flat.length > max ? flat.slice(0, max - 1) + '…' : flat}"`;
}
