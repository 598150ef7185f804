import type { Policy } from '../policies/policy.js';

/**
 * A sub-clause of an id ("FD-1.3", "PH-4(b)", "PH-4b"): the policies number clauses, never their
 * parts, so a citation in this form points at text that does not exist, even when its stem does.
 */
const SUB = String.raw`(?:(?:\.\d{1,3})+|\s?\((?:[a-z]|[ivx]{1,4}|\d{1,2})\)|[a-z](?![\w-]))`;
const CITABLE = new RegExp(String.raw`^[A-Za-z][A-Za-z0-9]*-\d+(?:${SUB})?$`);
/** A bracket that holds one or more ids: "[PH-1]", "[PH-1, RH-3]", "[PH-1; PH-2]". */
const BRACKET = /\[([^\]\n]{1,120})\]/g;
const SEPARATOR = /\s*(?:,|;|\/|&|–|—|\band\b|\bto\b)\s*/i;
/**
 * A bare id counts as a citation only after a citing word ("under PH-12", "violates IA-9") and with a
 * policy's prefix, so "AK-47", "COVID-19" or "HHV-8 causes Kaposi sarcoma" are left alone.
 */
const BARE = new RegExp(
  String.raw`(?<=\b(?:clauses?|under|per|violates?|violating|breaks?|breach(?:es)?|see|cf\.?|cites?|citing|rule|policy)\s+)([A-Z][A-Z0-9]{0,7})-(\d{1,4})(${SUB})?(?![\w\]-])`,
  'gi',
);
/**
 * A bare id with a policy's prefix that does what a clause does ("PH-9 forbids…"), or a sub-clause
 * of one anywhere ("FD-1.3"): capitals only, so prose like "ph-7 solution" is left alone.
 */
const BARE_SUBJECT = new RegExp(String.raw`\b([A-Z][A-Z0-9]{0,7})-(\d{1,4})(?:(${SUB})|(?=\s+(?:also\s+)?(?:forbids|prohibits|allows|permits|applies|covers|rules|requires|asks|says|states|bans|bars|governs)\b))(?![\w\]-])`, 'g');

export const UNKNOWN_CLAUSE = '[unknown clause]';

/** The clause ids of the policies in force for one sample: the only ids a stored text may cite. */
export class ClauseIndex {
  private readonly ids: Set<string>;
  private readonly prefixes: Set<string>;

  constructor(policies: readonly Policy[]) {
    this.ids = new Set(policies.flatMap((p) => p.clauses.map((c) => c.id.toUpperCase())));
    this.prefixes = new Set([...this.ids].map((id) => id.slice(0, id.lastIndexOf('-'))));
  }

  has(id: string): boolean {
    return this.ids.has(id.toUpperCase());
  }

  /** Every id the text cites, in brackets or bare with a known prefix, as written. */
  cited(text: string): string[] {
    const found: string[] = [];
    for (const match of text.matchAll(BRACKET)) {
      const parts = (match[1] ?? '').split(SEPARATOR).map((s) => s.trim());
      if (parts.length > 0 && parts.every((p) => CITABLE.test(p))) found.push(...parts);
    }
    const inBrackets = text.replace(BRACKET, (whole) => ' '.repeat(whole.length));
    for (const pattern of [BARE, BARE_SUBJECT]) {
      for (const match of inBrackets.matchAll(pattern)) {
        if (this.prefixes.has((match[1] ?? '').toUpperCase()) && !found.includes(match[0])) found.push(match[0]);
      }
    }
    return found;
  }

  unknown(text: string): string[] {
    return [...new Set(this.cited(text).filter((id) => !this.has(id)))];
  }

  /** For messages that ask a model to fix its citations. */
  describeValid(): string {
    return [...this.ids].join(', ');
  }

  /**
   * Replaces every unknown id by "[unknown clause]", keeping the known ids of a bracket. For text that
   * is stored for audit (reviews, removal notes, grade rationales), never for thoughts: a thought that
   * cites an unknown id is removed instead.
   */
  redact(text: string): string {
    const bracketed = text.replace(BRACKET, (whole, inner: string) => {
      const parts = inner.split(SEPARATOR).map((s) => s.trim());
      if (parts.length === 0 || !parts.every((p) => CITABLE.test(p))) return whole;
      const known = parts.filter((p) => this.has(p));
      return known.length === parts.length ? whole : known.length > 0 ? `[${known.join(', ')}]` : UNKNOWN_CLAUSE;
    });
    const bare = (whole: string, prefix: string) => (this.prefixes.has(prefix.toUpperCase()) && !this.has(whole) ? UNKNOWN_CLAUSE : whole);
    return bracketed.replace(BARE, bare).replace(BARE_SUBJECT, bare);
  }
}
