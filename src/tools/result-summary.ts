/**
 * The text block of a tool result. The result itself is `structuredContent`; a chat host puts the text
 * into the conversation as well, so sending the same JSON there would carry every result twice. The
 * text is a short summary instead: the facts a reader acts on, and where the rest is.
 */
const MAX_SUMMARY_CHARS = 700;
const MAX_VALUE_CHARS = 100;

type Json = Record<string, unknown>;

export function summaryOf(value: object): string {
  const v = value as Json;
  if (v.kind === 'cot' && typeof v.id === 'string') return cotSummary(v);
  if (v.kind === 'preference' && typeof v.id === 'string') return preferenceSummary(v);
  return cap(`${facts(v)}. The full result is in structuredContent.`);
}

/** A CoT record: what it decided, how it got there, and where the rest is. */
function cotSummary(r: Json): string {
  const turns = Array.isArray(r.deliberation) ? r.deliberation.length : 0;
  const thoughts = Array.isArray(r.refined_thoughts) ? r.refined_thoughts.length : 0;
  const removed = Array.isArray(r.removed) ? r.removed.length : 0;
  const usage = (r.usage ?? {}) as Json;
  const stored = r.saved === false ? 'not saved' : 'saved';
  const head = `Record ${String(r.id)} (${stored}; recipe ${String(r.recipe ?? 'aidsafe')}): ${turns} turn${turns === 1 ? '' : 's'}, stopped on ${String(r.stop_reason)}; ${thoughts} refined thoughts, ${removed} removed; ${Number(usage.calls ?? 0)} model calls, ${Number(usage.prompt_tokens ?? 0) + Number(usage.completion_tokens ?? 0)} tokens.`;
  const where = r.saved === false ? 'Every field is in structuredContent.' : 'Every field (intents, turns, removals): structuredContent or get_record.';
  return `${head}\nResponse: ${cut(String(r.response ?? ''), 300)}\n${where}`;
}

/** A preference pair, with the warning that its rejected side is unsafe on purpose. */
function preferenceSummary(r: Json): string {
  const kept = r.kept === true ? 'kept' : `not kept (${String(r.drop_reason ?? 'dropped')}: ${cut(String(r.kept_reason ?? ''), 120)})`;
  const margin = typeof r.margin === 'number' ? `margin ${r.margin}, ` : '';
  const notice = typeof r.notice === 'string' ? `\n${r.notice}` : '';
  return `Preference pair ${String(r.id)} from ${String(r.source_record_id)}: ${margin}${kept}. Both sides and every belief attempt: structuredContent or get_record.${notice}`;
}

/** Top-level scalars as they are, lists by their length, small objects by their scalars. */
function facts(v: Json): string {
  const parts: string[] = [];
  for (const [key, value] of Object.entries(v)) {
    if (value === undefined || value === null) continue;
    if (Array.isArray(value)) parts.push(`${key}: ${value.length}${idsOf(value)}`);
    else if (typeof value === 'object') {
      const inner = Object.entries(value as Json).filter(([, x]) => typeof x === 'number' || typeof x === 'boolean' || (typeof x === 'string' && x.length <= 40));
      if (inner.length > 0) parts.push(`${key}: ${inner.map(([k, x]) => `${k} ${String(x)}`).join(', ')}`);
    } else parts.push(`${key}: ${typeof value === 'string' ? cut(value, MAX_VALUE_CHARS) : String(value)}`);
  }
  return parts.join('; ');
}

/** The ids of a list of records, policies or runs, so a reader can name one in the next call. */
function idsOf(items: unknown[]): string {
  const ids = items.map((item) => (item && typeof item === 'object' ? ((item as Json).id ?? (item as Json).run_id) : undefined)).filter((id): id is string => typeof id === 'string');
  if (ids.length === 0) return '';
  return ` (${ids.slice(0, 12).join(', ')}${ids.length > 12 ? ', …' : ''})`;
}

function cut(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

function cap(text: string): string {
  return text.length > MAX_SUMMARY_CHARS ? `${text.slice(0, MAX_SUMMARY_CHARS - 40)}… The full result is in structuredContent.` : text;
}
