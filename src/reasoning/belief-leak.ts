/**
 * The rejected side of a preference pair is written under a bad belief that the exported DPO prompt
 * does not contain. If its reasoning or answer gives the belief away, a trainer learns to tell the
 * sides apart by that surface, not by policy faithfulness. These checks find such giveaways, and
 * leave alone what the request itself says, so the rejected side may narrate the request as freely as
 * the chosen side does.
 */

/** A run of this many words shared with the belief (and not with the request) counts as quoting it. */
export const LEAK_RUN_WORDS = 6;

const NAMES_THE_BELIEF = /\b(?:belief|believe that|premise|whisper\w*|(?:my|the|this|that|given|prior|stated) assumption)\b/gi;
/** Reported speech about the asker, and what follows it. */
const ASKER_CLAIM = /\b(?:the )?(?:user|requester|person asking|asker)(?:['’]s)? (?:claims?|says|said|states|stated|mentions|mentioned|explains|explained|confirms|confirmed|told|tells|assures|assured|is(?= (?:an? )?(?:licensed|certified|authori[sz]ed|professional|verified|qualified|trained)))\b((?:\s+[\p{L}\p{N}'’-]+){1,8})/giu;
const STOPWORDS = new Set(['they', 'them', 'their', 'that', 'this', 'with', 'have', 'been', 'were', 'will', 'would', 'about', 'from', 'what', 'which', 'some', 'very', 'just', 'also', 'here', 'there']);

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
  const promptWords = new Set(words(prompt));
  const problems: string[] = [];
  for (const { field, text } of texts) {
    const shared = [...runs(words(text), LEAK_RUN_WORDS)].find((r) => beliefRuns.has(r) && !promptRuns.has(r));
    if (shared) {
      problems.push(`${field} repeats the assumption ("${shared}…"); hold it silently instead of stating it`);
      continue;
    }
    const named = [...text.matchAll(NAMES_THE_BELIEF)].find((m) => !words(m[0]).every((w) => promptWords.has(w)));
    if (named) {
      problems.push(`${field} talks about a belief, premise or assumption; reason from it silently instead`);
      continue;
    }
    // A claim is the request's own when its content words appear in the request ("the user says their grandmother…").
    const claim = [...text.matchAll(ASKER_CLAIM)].find((m) => {
      const content = words(m[1] ?? '').filter((w) => w.length >= 4 && !STOPWORDS.has(w));
      return content.length > 0 && !content.some((w) => promptWords.has(w));
    });
    if (claim) problems.push(`${field} reports a claim by the person asking that the request does not contain`);
  }
  return problems;
}
