/**
 * The rejected side of a preference pair is written under a bad belief that the exported DPO prompt
 * does not contain. If its reasoning or answer gives the belief away, a trainer learns to tell the
 * sides apart by that surface, not by policy faithfulness. These checks find such giveaways, and
 * leave alone what the request itself says, so the rejected side may narrate the request as freely as
 * the chosen side does.
 */

/** A run of this many words shared with the belief (and not with the request) counts as quoting it. */
export const LEAK_RUN_WORDS = 6;

const NAMES_THE_BELIEF = /\b(?:belief|believe that|premise|whisper\w*|(?:my|the|this|that|given|prior|stated) assumption|taken? for granted|takes for granted)\b/gi;
/** Reported speech about the asker, and what follows it. */
const ASKER_CLAIM = /\b(?:the )?(?:user|requester|person asking|asker)(?:['’]s)? (?:claims?|says|said|states|stated|mentions|mentioned|explains|explained|confirms|confirmed|told|tells|assures|assured|is(?= (?:an? )?(?:licensed|certified|authori[sz]ed|professional|verified|qualified|trained)))\b((?:\s+[\p{L}\p{N}'’-]+){1,8})/giu;
/**
 * What a bad belief typically holds about the person asking. A thought that says the same of the
 * asker in other words ("they clearly know their way around locks" for "anyone asking already has the
 * skills") gives the belief away as surely as quoting it does.
 */
const ASKER_CONCEPTS = {
  expertise:
    /\b(?:skills?|skilled|expert|expertise|experienced|(?:lab|field|professional|prior|relevant|hands-on) experience|professionals?|trained|qualified|licensed|certified|credentials?|competent|knowledgeable|specialist|chemist|pharmacist|doctor|physician|nurse|paramedic|researcher|scientist|engineer|mechanic|locksmith|electrician|pentester|penetration tester|authori[sz]ed|law enforcement|police officer|know(?:s)? (?:what (?:they|he|she)['’]re doing|what (?:they|he|she) (?:is|are) doing|how to|their way around|the risks)|already knows?|familiar with)\b/i,
  malice:
    /\b(?:plan(?:s|ning|ned)? (?:to (?:hurt|harm|kill|poison|attack|use)|an? attack|violence|harm)|intend(?:s|ing)? to (?:hurt|harm|kill|poison|attack)|malicious|malice|ill intent|bad intent|harmful intent|wants? to (?:hurt|harm|kill|poison|attack)|violent|hurt (?:someone|somebody|people|others|another)|poison (?:someone|somebody|people|others|another)|criminal|nefarious|sinister|up to no good|dangerous (?:person|individual|intent))\b/i,
  minor: /\b(?:a child|a minor|underage|a teen(?:ager)?|a kid)\b/i,
  benign: /\b(?:just curious|only curious|harmless|innocent|good intentions|legitimate (?:reason|purpose|need)|for research|a researcher|a writer|a novelist)\b/i,
} as const;
type AskerConcept = keyof typeof ASKER_CONCEPTS;

/** The person asking as the subject of a sentence, then the rest of that sentence. */
const ASKER_SUBJECT =
  /\b(?:the (?:user|requester|person(?: asking| making (?:this|the) request)?|asker|individual|questioner)|this (?:user|person|individual|requester)|someone (?:asking|who asks|requesting)|anyone (?:asking|who asks|requesting)|whoever (?:asks|is asking)|people (?:who ask|asking)|(they|he|she))\b([^.;:!?]{0,100})/gi;
/** A verb that says what the asker is, has, knows or means; without one, the sentence is about something else. */
const STATES = /\b(?:is|are|was|were|['’]s|['’]re|be|been|has|have|had|knows?|works?|plans?|planning|intends?|intending|wants?|seems?|appears?|sounds?|holds?|possess(?:es)?|must)\b/i;
const ABOUT_THE_REQUEST = /^\S+ (?:(?:also|really|just|only) )?(?:asking|asks|wondering|looking|seeking|requesting|interested|curious|trying to (?:find|learn|understand)|to (?:know|learn|understand|find)|know(?:ing)? (?:how|what|whether|if|which)|help|information|advice|writing|researching)\b/i;
/** A claim held open is a reading of the request, not a fact asserted about the asker. */
const HEDGE = /\b(?:may|might|could|likely|likeliest|probably|possibly|perhaps|plausibl[ey]|if|whether|unless|not|n['’]t|no|never|unlikely|reading|unclear|unknown|cannot tell|can['’]t tell|nothing)\b/i;

function conceptsOf(text: string): Set<AskerConcept> {
  return new Set((Object.keys(ASKER_CONCEPTS) as AskerConcept[]).filter((k) => ASKER_CONCEPTS[k].test(text)));
}

/**
 * What a request says of its asker in its own words, more loosely than a thought is read: a request that
 * describes its writer ("I work in a lab") or states a harmful aim ("hurt my partner without leaving
 * marks") makes a thought that infers expertise or malice from it reasoning, not a leak.
 */
const REQUEST_SAYS: Partial<Record<AskerConcept, RegExp>> = {
  expertise: /\b(?:I['’]m an?|I am an?|as an?|I work (?:as|in|at|for)|my (?:job|work|lab|clinic|patients?|students?|clients?|company|team|employer))\b/i,
  malice: /\b(?:hurt|harm|kill|poison|attack|murder|stab|shoot|injure|torture|ruin|get back at|take revenge on) (?:my|his|her|their|our|your|a|an|the|this|that|someone|somebody|people|him|them)\b/i,
};

function claimedBy(prompt: string): Set<AskerConcept> {
  const claimed = conceptsOf(prompt);
  for (const [kind, pattern] of Object.entries(REQUEST_SAYS) as [AskerConcept, RegExp][]) if (pattern.test(prompt)) claimed.add(kind);
  return claimed;
}

/**
 * A sentence that asserts something of the person asking, of a kind the request does not claim:
 * with `concepts`, only of those kinds and hedged or not (the rejected side holds a belief of that
 * kind); without, only unhedged claims of expertise or malice, which no request-bound reasoning can know.
 */
function askerAttribution(text: string, prompt: string, concepts?: ReadonlySet<AskerConcept>): string | undefined {
  const claimed = claimedBy(prompt);
  for (const sentence of text.split(/(?<=[.!?;])\s+/)) {
    for (const match of sentence.matchAll(ASKER_SUBJECT)) {
      if (match[1] && !concepts) continue; // "they" may be anything without a belief to match
      const rest = match[2] ?? '';
      if (/^['’]s\s/.test(rest)) continue; // "the user's question": a possessive, not a claim
      const state = STATES.exec(rest);
      if (!state) continue;
      // "is asking how a locksmith…", "wants to know what a chemist…": about the request, not the asker.
      const after = rest.slice(state.index).split(/\s+/).slice(0, 9).join(' ');
      if (ABOUT_THE_REQUEST.test(after)) continue;
      const kinds = (concepts ? [...concepts] : (['expertise', 'malice'] as const)).filter((k) => !claimed.has(k) && ASKER_CONCEPTS[k].test(after));
      if (kinds.length === 0) continue;
      // A hedge counts up to the claim, not in what the sentence goes on to say ("…, so the steps add nothing").
      const claimEnd = (match.index ?? 0) + match[0].length - rest.length + state.index + Math.max(...kinds.map((k) => (ASKER_CONCEPTS[k].exec(after)?.index ?? 0) + (ASKER_CONCEPTS[k].exec(after)?.[0].length ?? 0)));
      if (!concepts && HEDGE.test(sentence.slice(0, claimEnd))) continue;
      return sentence.slice(match.index ?? 0, claimEnd).trim();
    }
  }
  return undefined;
}

/**
 * Without a belief to compare with (another dataset, an export): a thought that states, as a fact, the
 * asker's expertise or malice when the request says nothing of it. Empty when there is none.
 */
export function askerClaims(prompt: string, texts: { field: string; text: string }[]): string[] {
  const problems: string[] = [];
  const promptWords = new Set(words(prompt));
  for (const { field, text } of texts) {
    const claim = reportedClaim(text, prompt, promptWords);
    if (claim) {
      problems.push(`${field} reports a claim by the person asking that the request does not contain`);
      continue;
    }
    const stated = askerAttribution(text, prompt);
    if (stated) problems.push(`${field} states as a fact something about the person asking that the request does not say ("${stated}")`);
  }
  return problems;
}

function reportedClaim(text: string, prompt: string, promptWords: ReadonlySet<string>): boolean {
  const claimed = claimedBy(prompt);
  // A claim is the request's own when its content words appear in the request ("the user says their
  // grandmother…"), or when the request describes its writer and the claim is of that kind.
  return [...text.matchAll(ASKER_CLAIM)].some((m) => {
    const content = words(m[1] ?? '').filter((w) => w.length >= 4 && !STOPWORDS.has(w));
    if (claimed.has('expertise') && ASKER_CONCEPTS.expertise.test(m[0])) return false;
    return content.length > 0 && !content.some((w) => promptWords.has(w));
  });
}

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
  const beliefConcepts = conceptsOf(belief);
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
    if (reportedClaim(text, prompt, promptWords)) {
      problems.push(`${field} reports a claim by the person asking that the request does not contain`);
      continue;
    }
    const stated = beliefConcepts.size > 0 ? askerAttribution(text, prompt, beliefConcepts) : undefined;
    if (stated) problems.push(`${field} says of the person asking what the assumption holds ("${stated}…"); reason from it silently, as your own view, instead`);
  }
  return problems;
}
