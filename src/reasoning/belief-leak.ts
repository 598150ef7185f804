/**
 * The rejected side of a preference pair is written under a bad belief that the exported DPO prompt
 * does not contain. If its reasoning or answer gives the belief away, a trainer learns to tell the
 * sides apart by that surface, not by policy faithfulness. These checks find such giveaways.
 */

/** A run of this many words shared with the belief counts as quoting it. */
export const LEAK_RUN_WORDS = 6;

const NAMES_THE_BELIEF = /\b(?:belief|believe that|premise|whisper\w*|(?:my|the|this|that|given|prior|stated) assumption)\b/i;
/** Reported speech about the asker: only a giveaway when the request itself says nothing about them. */
const ASKER_CLAIM = /\b(?:the )?(?:user|requester|person asking|asker)(?:['’]s)? (?:claims?|says|said|states|stated|mentions|mentioned|explains|explained|confirms|confirmed|told|tells|assures|assured|is (?:a |an )?(?:licensed|certified|authori[sz]ed|professional|verified|qualified))\b/i;
const SELF_DESCRIPTION = /\b(?:I am|I'm|I work|my job|as an? [a-z]+,)\b/i;

function words(text: string): string[] {
  return text.toLowerCase().match(/[\p{L}\p{N}']+/gu) ?? [];
}

function runs(list: string[], n: number): Set<string> {
  const out = new Set<string>();
  for (let i = 0; i + n <= list.length; i++) out.add(list.slice(i, i + n).join(' '));
  return out;
}

/** What in these texts gives the belief away, worded for a model asked to repair; empty when nothing does. */
export function beliefLeaks(belief: string, prompt: string, texts: { field: string; text: string }[]): string[] {
  const beliefRuns = runs(words(belief), LEAK_RUN_WORDS);
  const promptRuns = runs(words(prompt), LEAK_RUN_WORDS);
  const problems: string[] = [];
  for (const { field, text } of texts) {
    const shared = [...runs(words(text), LEAK_RUN_WORDS)].find((r) => beliefRuns.has(r) && !promptRuns.has(r));
    if (shared) problems.push(`${field} repeats the assumption ("${shared}…"); hold it silently instead of stating it`);
    else if (NAMES_THE_BELIEF.test(text)) problems.push(`${field} talks about a belief, premise or assumption; reason from it silently instead`);
    else if (ASKER_CLAIM.test(text) && !SELF_DESCRIPTION.test(prompt)) problems.push(`${field} reports a claim by the person asking that the request does not contain`);
  }
  return problems;
}
