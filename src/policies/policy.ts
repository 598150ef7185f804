import { createHash } from 'node:crypto';
import { z } from 'zod';
import { parseYaml } from '../yaml.js';

export const POLICY_ID_PATTERN = /^[a-z][a-z0-9_-]{1,63}$/;
const CLAUSE_LINE = /^\s*(\d+)\.\s+\[([A-Za-z][A-Za-z0-9]*-\d+)\]\s+(.+)$/;

export const policyFrontMatterSchema = z
  .object({
    id: z.string().regex(POLICY_ID_PATTERN, 'id must be 2–64 characters: lowercase letters, digits, "_" or "-", starting with a letter'),
    title: z.string().trim().min(1, 'title must not be empty'),
    version: z.union([z.string().min(1), z.number()]).transform(String),
    summary: z.string().trim().min(1).optional(),
  })
  .loose();

export interface PolicyClause {
  id: string;
  text: string;
}

export interface Policy {
  id: string;
  title: string;
  version: string;
  summary: string;
  /** The prose before the clauses: what the policy covers and what it allows. Rendered into every prompt. */
  intro: string;
  /** sha256 of the file's text with line endings normalised, so a copy on Windows hashes the same. */
  hash: string;
  clauses: PolicyClause[];
  /** The whole document, front matter included, as served by policy://{id}. */
  text: string;
  source: 'builtin' | 'user';
  path: string;
}

/** What a record stores about the policies it was made under: their ids and content hashes. */
export function policyStamp(policies: readonly Policy[]): { policy_ids: string[]; policy_hashes: Record<string, string> } {
  return { policy_ids: policies.map((p) => p.id), policy_hashes: Object.fromEntries(policies.map((p) => [p.id, p.hash])) };
}

export class PolicyFormatError extends Error {
  override name = 'PolicyFormatError';
}

/** Parses one policy document: YAML front matter, then prose, then numbered clauses `1. [ID-1] text`. */
export function parsePolicy(rawText: string, path: string, source: Policy['source']): Policy {
  const text = rawText.replace(/\r\n?/g, '\n');
  const match = /^---\n([\s\S]*?)\n---\n?([\s\S]*)$/.exec(text);
  if (!match) throw new PolicyFormatError(`${path}: missing front matter (a block between "---" lines at the top with id, title, version)`);
  let front: unknown;
  try {
    front = parseYaml(match[1] ?? '');
  } catch (error) {
    throw new PolicyFormatError(`${path}: front matter is not valid YAML: ${(error as Error).message}`);
  }
  const parsed = policyFrontMatterSchema.safeParse(front ?? {});
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || 'front matter'}: ${i.message}`).join('; ');
    throw new PolicyFormatError(`${path}: ${problems}`);
  }
  const body = match[2] ?? '';
  const clauses = parseClauses(body, path);
  if (clauses.length === 0) throw new PolicyFormatError(`${path}: no clauses found; write them as numbered lines like "1. [ABC-1] Do not …"`);
  const summary = parsed.data.summary ?? firstParagraph(body) ?? parsed.data.title;
  return {
    id: parsed.data.id,
    title: parsed.data.title,
    version: parsed.data.version,
    summary,
    intro: introOf(body),
    hash: 'sha256:' + createHash('sha256').update(text).digest('hex'),
    clauses,
    text,
    source,
    path,
  };
}

function parseClauses(body: string, path: string): PolicyClause[] {
  const clauses: PolicyClause[] = [];
  let current: PolicyClause | undefined;
  for (const line of body.split('\n')) {
    const m = CLAUSE_LINE.exec(line);
    if (m) {
      current = { id: m[2] ?? '', text: (m[3] ?? '').trim() };
      if (clauses.some((c) => c.id === current?.id)) throw new PolicyFormatError(`${path}: clause id ${current.id} is used twice`);
      clauses.push(current);
    } else if (current && /^\s{2,}\S/.test(line)) {
      current.text += ' ' + line.trim(); // an indented line continues the clause above it
    } else if (line.trim() === '') {
      current = undefined;
    }
  }
  return clauses;
}

function introOf(body: string): string {
  const lines: string[] = [];
  for (const line of body.split('\n')) {
    if (CLAUSE_LINE.test(line)) break;
    if (!line.trim().startsWith('#')) lines.push(line);
  }
  return lines.join(' ').replace(/\s+/g, ' ').trim();
}

function firstParagraph(body: string): string | undefined {
  const para = body
    .split(/\n\s*\n/)
    .map((p) => p.trim())
    .find((p) => p && !CLAUSE_LINE.test(p.split('\n')[0] ?? '') && !p.startsWith('#'));
  return para?.replace(/\s+/g, ' ');
}
