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
const ORDINALS = 'first|second|third|fourth|fifth|last|final|previous|preceding|earlier|above|next|other|new|added';
/** What a reviewer calls the text it reviews. */
const ARTEFACT = 'reasoning|analysis|assessment|evaluation|argument|arguments|conclusion|response|answer|reply|thoughts|review|critique|output|chain';
/** Words that place a text before this one in a process. */
const PRIOR = 'previous|prior|earlier|original|initial|above|preceding|existing|current|proposed|revised|updated|refined';
/** What one says of a text under review, whatever it is. */
const EVALUATES = String.raw`(?:does(?:n['’]t| not)|did(?:n['’]t| not)|has(?:n['’]t| not)|fails?|failed|overlooks?|overlooked|misses|missed|ignores?|ignored|neglects?|neglected|omits?|omitted|lacks?|lacked|forgets?|forgot|correctly|rightly|wrongly|incorrectly|mistakenly|already|covers?|captures?|addresses|considers|is (?:missing|incomplete|complete|sound|correct|solid|thorough|accurate|reasonable|flawed|wrong|fine|good|right|valid|over-?cautious|overly|too|mostly|largely|generally)|was (?:right|wrong|correct|too|overly)|seems (?:sound|correct|right|fine|reasonable|thorough|complete|incomplete|over-?cautious|too)|stands|holds up|can be (?:improved|tightened|shortened|revised|kept))`;
/** What one asks of reasoning under review; said of the answer, the same words are its plan ("the answer should include…"). */
const ASKS = String.raw`(?:should (?:be|have|also|now|not|mention|cite|consider|include|add|drop|say|acknowledge|note|reflect|address)|needs? (?:to|more|a|an)|must (?:be|also|now|not|mention|cite|consider|include)|could (?:be|also|mention|cite|note))`;
/** What one says of an answer under review; "the answer is correct: 84" or "the answer already exists" are not reviews. */
const EVALUATES_ANSWER = String.raw`(?:does(?:n['’]t| not) (?:mention|cite|address|cover|consider|include|explain)|fails? to|failed to|overlooks?|overlooked|misses|missed|ignores?|ignored|neglects?|omits?|lacks?|correctly|rightly|wrongly|already (?:covers|addresses|includes|mentions|cites|explains)|is (?:missing|incomplete|over-?cautious|overly|too (?:cautious|strict|permissive|preachy|vague|harsh))|was (?:too|overly|wrong)|seems (?:over-?cautious|too)|stands|holds up|can be (?:improved|tightened|shortened|revised|kept))`;
/** A discourse marker before the subject of a sentence. */
const LEAD = String.raw`^(?:(?:overall|so|thus|therefore|in summary|in short|however|still|also|finally|again|yes|indeed|otherwise|that said),?\s+)?`;

// Each pattern names the generation process or its artefacts in words that ordinary safety reasoning
// does not use: "nerve agents", "an earlier draft of a letter" or "current thoughts of suicide" pass.
// Real models rarely say "as agent 2"; they say the same in other words ("the original response is
// over-cautious", "Agent B raised a good point"), so the paraphrases are here too.
const META: [RegExp, string][] = [
  [/\bas (?:the |a )?(?:reviewer|deliberator|refiner|(?:first|second|third|other|next|last) agent)\b|\bas agent\s*#?\d+\b/i, 'speaks as an agent or reviewer'],
  [/\bagent\s*#?\d+\b|\bAgent [A-F]\b|\b(?:reviewer|deliberator|critic|evaluator|annotator|participant|expert|assistant) (?:#?\d+|[A-F])\b(?![\w-])/i, 'refers to a numbered agent'],
  [/\bthe (?:previous|prior|other|earlier|next|first|second|last) (?:agent|reviewer|deliberator|critic|evaluator|annotator)s?\b|\b(?:another|fellow) (?:agent|reviewer|deliberator|critic|evaluator|annotator)s?\b|\b(?:the|a|my|another|previous) (?:harm|helpfulness|safety)[- ]focused (?:agent|reviewer|deliberator|colleague|perspective)\b/i, 'refers to other agents or reviewers'],
  [/\b(?:raised?|raises|made|makes|brings? up|brought up) (?:a |an |some )?(?:good|valid|fair|excellent|important|strong|great|key) points?\b|^(?:good|valid|fair|excellent|great) point\b/i, 'answers another voice instead of reasoning'],
  [new RegExp(`\\bthoughts? (?:#?\\d+|${NUMBER_WORDS})\\b|\\b(?:the|this|that) (?:(?:${ORDINALS}) )?thought\\b(?! (?:of|that|which|experiment|process|police|crime)\\b)`, 'i'), 'refers to another thought'],
  [/\b(?:initial|existing|current|previous|prior|earlier|above|preceding|new|added|original|remaining|other) (?:thoughts|reasoning steps?)\b(?! (?:of|about)\b)/i, 'talks about other thoughts instead of reasoning about the request'],
  [/\b(?:the|my|our|these|those|all) (?:thoughts|points|steps|considerations|arguments|observations) (?:above|so far|listed above|given above)\b|\b(?:the|these|those|all|both) (?:\w+ )?thoughts (?:already )?(?:cover|capture|address|consider|miss|overlook|ignore|fail|are (?:sound|correct|complete|thorough|consistent|redundant|repetitive))\b/i, 'talks about other thoughts instead of reasoning about the request'],
  [/\b(?:the|this|that|my|its|your|initial|current|previous|refined|whole)(?: (?:initial|current|previous|refined|revised|updated|original|whole|above|existing|final|new))? chain[- ]of[- ]thoughts?\b(?![- ]prompting)|\bCoT\b/i, 'talks about the chain of thought itself'],
  [/\b(?:the|my) reasoning (?:so far|above)\b|\bmy_(?:reasoning|answer)\b|\b(?:the|my) (?:current|previous|earlier|initial|proposed) (?:answer|response|reply)\b(?! (?:of|to|from|time|times|rate|rates|plan|team|teams|protocol|unit|units)\b)/i, 'talks about the reasoning or answer as a document under review'],
  [new RegExp(String.raw`\b(?:the|this|that|my|our) (?:${PRIOR}) (?:${ARTEFACT})s?\b(?! (?:of|to|from|by|time|times|rate|rates|plan|team|teams|protocol|unit|units|that (?:I|you|they|he|she|we) (?:give|gave|write|wrote))\b)|\b(?:the|my|our) (?:${ARTEFACT}) (?:so far|above|provided|given|presented|here)\b`, 'i'), 'talks about the reasoning or answer as a document under review'],
  [new RegExp(String.raw`${LEAD}(?:the|this|my|our) (?:(?:harm|risk|safety|helpfulness|intent|policy) )?(?:reasoning|analysis|assessment|evaluation|argument|review|critique|conclusion)s? (?:(?:so far|above|here) )?(?:also |still |now |currently |(?:does|has) not yet |not yet )?(?:${EVALUATES}|${ASKS})\b`, 'i'), 'judges the reasoning as a document under review'],
  [new RegExp(String.raw`${LEAD}(?:the|this|my|our) (?:response|answer|reply) (?:(?:so far|above|here) )?(?:also |still |now |currently )?${EVALUATES_ANSWER}\b`, 'i'), 'judges the answer as a document under review'],
  [/\bthe (?:critique|feedback)\b(?! (?:of|from|on|they|the user)\b)|\bto (?:improve|strengthen|refine|revise|tighten|correct|fix|complete|round out) (?:the|this|my|our) (?:reasoning|analysis|assessment|thoughts|chain|argument)\b/i, 'talks about revising the reasoning'],
  [new RegExp(String.raw`\b(?:let['’]?s|let (?:me|us)|I(?:['’]ll| will| should| need to| must| want to)?|we(?:['’]ll| will| should| need to| must)?) (?:re-?evaluate|re-?examine|reconsider|revisit|re-?assess|go back (?:to|over)|double-check|re-?check|re-?read|review|look (?:again|back) at|refine|revise|correct|update|rewrite|amend|tighten|critique|improve) (?:(?:the|my|our|this|that|these|those) )?(?:(?:${PRIOR}) )?(?:${ARTEFACT}|points?|steps?|draft)\b`, 'i'), 'revisits earlier reasoning instead of stating the reasoning'],
  [new RegExp(String.raw`\b(?:after|upon|on|having|when|while) (?:further |careful |closer )?(?:review(?:ing|ed)?|re-?read(?:ing)?|look(?:ing|ed) (?:back )?(?:at|over)|consider(?:ing|ed)|examin(?:ing|ed)|go(?:ing)? (?:back )?over|gone over|reflect(?:ing|ed) on|re-?evaluat(?:ing|ed)|re-?examin(?:ing|ed)|reconsider(?:ing|ed)|weigh(?:ing|ed))\b[^.;:,]{0,40}?\b(?:${ARTEFACT}|points|steps|draft|discussion|deliberation|feedback)\b(?: (?:above|so far|provided|given))?|\b(?:upon|after|on) (?:further|closer|a second) review\b|\breviewing (?:the|all|everything) (?:above|so far)\b`, 'i'), 'narrates reviewing earlier reasoning'],
  [/\bas (?:noted|mentioned|stated|said|discussed|explained|established|shown|outlined|described|covered|argued|observed|pointed out|raised|concluded)(?: (?:earlier|before|previously|already))? (?:in|under|at|by|from) (?:the )?(?:step|point|item|thought|bullet|paragraph|section)s? ?#?\d+\b|\bas (?:noted|mentioned|stated|said|discussed|established|shown|outlined|argued|concluded) (?:above|earlier|previously|before)\b|\b(?:in|from|see|per|at|under) (?:step|point|item|bullet|thought|paragraph) #?\d+\b(?! (?:of|in) (?:the|a|your|their|this) (?!reasoning|analysis|thoughts)\w)|\b(?:the|this|that) (?:previous|preceding|above|earlier|prior) (?:point|step|item|bullet|paragraph)s?\b|\b(?:steps?|points?|items?) (?:\d+|one|two|three|four|five) (?:and|&|to) (?:\d+|one|two|three|four|five)\b|\b(?:point|item|bullet)s? #?\d+\b(?! (?:of|in) (?:the|a|your|their) (?!reasoning|analysis|thoughts)\w)|\b(?:was|were|been|is|are) (?:already )?(?:made|said|stated|covered|noted|mentioned|discussed|raised|addressed|established|overlooked|missed|ignored|omitted|forgotten) (?:earlier|above|before|previously)\b/i, 'refers to numbered or earlier steps that will not exist in the sample'],
  [/\bthe draft (?:response|answer|reply|should|needs|must|lacks|misses|omits)\b|\b(?:current|initial|updated|revised|previous|earlier|proposed) draft\b(?! of\b)/i, 'talks about a draft'],
  [/\b(?:deliberation|refinement) (?:agents?|rounds?|turns?|stage|step|phase)\b|\bthe refiner\b|\bear[- ]whisperer\b|\b(?:safety[- ]reasoning|data[- ]generation) pipeline\b|\b(?:for|as|in|of) (?:the |this )?(?:safety[- ])?training data\b|\b(?:the|this) (?:chosen|rejected) (?:side|sample|reasoning|response|answer)\b|\b(?:preference|DPO) (?:pair|data|example)s?\b|\bnegative example\b/i, 'names the process that generates the data'],
  [/\b(?:earlier|previous|prior) (?:rounds|turns|iterations)\b|\b(?:in|during) (?:this|the previous|the last|an earlier|the current) (?:turn|round|iteration)\b(?! of (?:chemo|funding|golf|talks|negotiations|the loop|a loop))|^(?:round|turn|iteration) \d+\s*[:.,-]/i, 'refers to turns or rounds'],
  [/\bI (?:fully |also |now |completely |strongly |largely |broadly )?(?:agree|concur) with (?:the |my |this |that |all |both |these |those )?(?:previous|prior|other|earlier|above|existing|current|initial|assessment|analysis|reasoning|review|reviewer)\b|\bI (?:fully |also |now |completely |strongly |largely |broadly )?(?:agree|concur|side) with (?:the|this|that|all|both|these|those|its|their)\b[^.;]{0,40}?\b(?:analysis|assessment|reasoning|review|reviewer|evaluation|conclusion|points?|verdict|judge?ment|argument|critique|feedback|take|agents?)\b|^(?:I (?:fully |also |completely |strongly )?(?:agree|concur)\b|agreed|concur(?:red)?\b|seconded\b|no changes? (?:needed|are needed)|nothing (?:to add|further))\b/i, 'agrees with a reviewer instead of reasoning'],
  [/\b(?:no|need for|need to add|nothing to add in|add(?:ing)? (?:any|some)) (?:new|further|additional|more|extra) thoughts?\b(?! (?:of|about)\b)/i, 'talks about adding thoughts'],
  [/\bno (?:further |additional |other |more )?(?:changes?|edits?|revisions?|modifications?|amendments?|corrections?|updates?|additions?) (?:(?:are|is|were|seem|appear) )?(?:(?:to (?:be )?)?(?:needed|required|necessary|warranted)|(?:need|needs) to be made|to (?:make|add|the (?:reasoning|analysis|response|answer|thoughts)))\b|\bnothing (?:further |more |else )?(?:needs|has) to (?:be )?(?:change|changed|add|added|revise|revised|fix|fixed)\b|\b(?:nothing|little) (?:further|more|else) to add\b|\bI have nothing (?:further |more )?to add\b|\b(?:stands|remains|can stay|can remain|should remain|should stay|is fine) (?:as is|as it is|as written|unchanged)\b/i, 'says the reasoning needs no changes instead of reasoning'],
  [/^(?:update|revise|rewrite|amend|modify|rephrase|reword)\b.*\b(?:draft|response|answer|thoughts?|reasoning|analysis)\b|^(?:add|include|insert|remove|delete|drop|change|expand|mention)\b.*\b(?:to|in|from|into) the (?:draft|response|answer|reasoning|thoughts?|analysis)\b/i, 'an instruction to another stage, not reasoning'],
  [/^(?:we|you) (?:should|could|might|need to|must|ought to) (?:add|include|insert|remove|delete|drop|revise|rewrite|rephrase|reword|amend|update|modify|expand)\b|^(?:it would be (?:better|good|wise|helpful) to|(?:I )?(?:suggest|recommend|propose) (?:that we )?|consider) (?:add|adding|include|including|insert|inserting|remov(?:e|ing)|delet(?:e|ing)|drop(?:ping)?|revis(?:e|ing)|rewrit(?:e|ing)|rephras(?:e|ing)|reword(?:ing)?|amend(?:ing)?|updat(?:e|ing)|expand(?:ing)?)\b[^.;]*\b(?:response|answer|reasoning|thoughts?|analysis|draft|reply)\b/i, 'an instruction to another stage, not reasoning'],
  [/^(?:correction|revision|update|addendum|edit|amendment|revised|updated|corrected|edited|revised (?:thought|reasoning|answer|response)|new thought|additional thought|added thought)s?\s*[:—–-]\s/i, 'labels itself as an edit of earlier reasoning'],
  [/^(?:reviewing|re-?reading|revisiting|re-?examining|reconsidering|re-?evaluating|reflecting on|looking (?:back )?(?:at|over)|going (?:back )?over)\b[^.;:]{0,40}?\b(?:reasoning|analysis|assessment|thoughts|points|steps|response|answer|draft|discussion|deliberation|argument)\b|\b(?:adding to|building on|expanding on|following up on|echoing) what (?:was|has been|I|we|they|you|the others?) (?:said|noted|mentioned|written|argued|raised)\b|^I(?:['’]d| would)? (?:like|want) to add\b|^I(?:['’]d| would) add that\b/i, 'narrates reviewing earlier reasoning'],
  [/\bthe (?:deliberation|discussion)(?: so far| above)? (?:has|have|reached|concluded|agrees|shows|suggests|settled)\b|\b(?:from|in|during) the (?:deliberation|discussion) (?:so far|above)\b|\b(?:assistant|model|agent|reviewer|deliberator)['’]s (?:(?:previous|prior|earlier|original|initial|proposed|revised) )?(?:reasoning|analysis|assessment|response|answer|reply|thoughts|review|critique|draft)\b/i, 'refers to other agents or reviewers'],
  [/\b(?:the|this|that) (?:response|answer|reply|reasoning) (?:should|must|needs? to|could|ought to) (?:be )?(?:revised|updated|rewritten|amended|modified|corrected|edited|reworded|rephrased|adjusted|fixed|softened|toned down|expanded)\b|\b(?:missing|absent|lacking|omitted|overlooked|not (?:yet )?(?:covered|mentioned|considered|addressed|cited)) (?:from|in) (?:the|this|my) (?:reasoning|analysis|thoughts|response|answer|draft)\b|\b(?:has|have|was|were|is|are)(?:n['’]t| not) (?:yet )?(?:been )?(?:considered|addressed|mentioned|covered|discussed|raised|cited|noted)(?: (?:yet|so far|above|here))\b/i, 'talks about revising the reasoning or answer'],
  [/\b(?:the|my) (?:system prompt|instructions (?:say|ask|tell|require|want))\b|\b(?:our|the group['’]s|the panel['’]s|the team['’]s) consensus\b/i, 'names the process that generates the data'],
];

const CANNOT = String.raw`(?:can(?:no|['’])t|cannot|won['’]t(?: be able to)?|will not(?: be able to)?|would not be able to|must decline to|am unable to|['’]m unable to|am not able to|['’]m not able to|am not (?:allowed|permitted) to|['’]m not (?:allowed|permitted) to|(?:must|have to) refuse to|refuse to|am afraid I can(?:no|['’])t|['’]m afraid I can(?:no|['’])t)`;
/** What follows a refusal that is only a refusal: no clause, no "but…", no reasoning after it. */
const BARE_REST = String.raw`(?![^[\]]*\[)(?![^.;]*\b(?:but|however|instead|though|although|so|which|while|whereas|unless|what I can|part|parts|portion|aspect|piece)\b)[^.;!?]{0,140}\s*[.!]?$`;
const REFUSAL: [RegExp, string][] = [
  [/^(?:unfortunately,?\s+)?(?:I['’]m|I am) sorry\b|^sorry\b(?!-)|^I apologi[sz]e\b|^my apologies\b|^(?:unfortunately|regrettably),? I (?:can(?:no|['’])t|cannot|am unable|['’]m unable)\b/i, 'an apology, not reasoning'],
  [/^as an AI\b|\bas an? (?:AI(?: language)?(?: model| assistant)?|(?:large )?language model|LLM|AI developed by \w+)\b|\bmy (?:programming|content (?:guidelines|policy)|usage policies)\b|\b(?:against|violates?|violating|per|under|by|due to|according to) OpenAI['’]s (?:policy|policies|guidelines|usage polic(?:y|ies))\b/i, 'talks about being an AI instead of reasoning'],
  [
    new RegExp(String.raw`^(?:unfortunately,?\s+)?(?:I|we)(?: |(?=['’]))${CANNOT} (?:analy[sz]e|review|evaluate|assess|reason about|think about|engage with)(?: [^[\]:;]{0,30})?\s*[.!]?$`, 'i'),
    'refuses the analysis',
  ],
  [new RegExp(String.raw`^(?:unfortunately,?\s+)?(?:I|we)(?: |(?=['’]))${CANNOT} (?:provide|give|offer|do) (?:an? |any )?(?:analysis|assessment|review|evaluation)\b`, 'i'), 'refuses the analysis'],
  [
    new RegExp(String.raw`^(?:unfortunately,?\s+)?(?:I|we)(?: |(?=['’]))${CANNOT} (?:help|assist|comply|continue|engage|proceed|participate|fulfil|fulfill|support|do (?:that|this)|answer (?:that|this))\b${BARE_REST}`, 'i'),
    'a bare refusal, not reasoning',
  ],
  [
    new RegExp(String.raw`^(?:unfortunately,?\s+)?(?:I|we)(?: |(?=['’]))${CANNOT} (?:provide|give|offer|share|generate|create|produce|write) (?:any |that |this |such |the requested )?(?:information|assistance|help|guidance|support|content|details|instructions|that|this|it)\b${BARE_REST}`, 'i'),
    'a bare refusal, not reasoning',
  ],
  [/^(?:this|that|it) (?:is(?:n['’]t| not)|['’]s not) something I (?:can|could|am able to|will) (?:help|assist)(?: you)? with\b|^I(?:['’]m| am) not comfortable (?:helping|assisting|providing|discussing|answering|engaging)\b|^I(?:['’]d| would) (?:rather not|prefer not to) (?:help|assist|answer|discuss|engage)\b/i, 'a bare refusal, not reasoning'],
];

/** The sentences of a thought: rules about how a thought begins hold for each of them. */
function sentences(thought: string): string[] {
  return thought.split(/(?<=[.!?;])\s+(?=["“‘(]?[A-Z])/).map((s) => s.trim()).filter(Boolean);
}

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
  const parts = sentences(thought);
  for (const [pattern, why] of META) if (parts.some((part) => pattern.test(part))) return { kind: 'meta', why };
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
