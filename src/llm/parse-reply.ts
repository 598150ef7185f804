import type { z } from 'zod';

export type ParseOutcome<T> = { ok: true; value: T } | { ok: false; problem: string };

/**
 * Turns a reply into the role's value. Servers that ignore response_format wrap JSON in prose or
 * code fences, so the outermost object is cut out before parsing; anything else is a problem to
 * send back to the model.
 */
export function parseReply<T>(content: string | null | undefined, schema: z.ZodType<T>): ParseOutcome<T> {
  const text = (content ?? '').trim();
  if (!text) return { ok: false, problem: 'the reply was empty' };
  const json = extractJsonObject(text);
  if (json === undefined) return { ok: false, problem: 'the reply contained no JSON object' };
  let data: unknown;
  try {
    data = JSON.parse(json);
  } catch (error) {
    return { ok: false, problem: `the reply was not valid JSON (${(error as Error).message})` };
  }
  const parsed = schema.safeParse(data);
  if (!parsed.success) {
    const issues = parsed.error.issues.slice(0, 5).map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    return { ok: false, problem: `the JSON did not match the schema (${issues.join('; ')})` };
  }
  return { ok: true, value: parsed.data };
}

function extractJsonObject(text: string): string | undefined {
  const fenced = /```(?:json)?\s*\n([\s\S]*?)```/i.exec(text);
  const candidate = fenced?.[1]?.trim() ?? text;
  const start = candidate.indexOf('{');
  if (start < 0) return undefined;
  const end = candidate.lastIndexOf('}');
  // A reply cut off mid-object has no closing brace: hand the tail to JSON.parse so the error says so.
  return end > start ? candidate.slice(start, end + 1) : candidate.slice(start);
}

const REFUSAL = /^(i['’]m sorry|i am sorry|sorry,|i can(?:['’]|no)t (?:help|assist|comply|provide)|i cannot (?:help|assist|comply|provide)|i won['’]t|as an ai)/i;

/** A plain-text refusal instead of the requested JSON: a guarded model declining the analysis task. */
export function looksLikeRefusal(content: string | null | undefined): boolean {
  const text = (content ?? '').trim();
  return text.length > 0 && !text.includes('{') && REFUSAL.test(text);
}
