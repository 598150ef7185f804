import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { parsePolicy, POLICY_ID_PATTERN, type Policy } from '../policies/policy.js';
import { writeFileAtomic } from './write-file.js';

/** Where policies added from chat live: the data folder's policies/, loaded after every other source. */
export function userPoliciesDir(dataDir: string): string {
  return join(dataDir, 'policies');
}

export interface NewPolicy {
  id: string;
  title: string;
  version: string;
  summary?: string;
  /** The body: a paragraph or two, then numbered clauses `1. [ID-1] …`. */
  text: string;
}

/** The policy document for a new policy: front matter, then the body as given. */
export function policyDocument(policy: NewPolicy): string {
  const front = [
    '---',
    `id: ${policy.id}`,
    `title: ${JSON.stringify(policy.title)}`,
    `version: ${JSON.stringify(policy.version)}`,
    ...(policy.summary ? [`summary: ${JSON.stringify(policy.summary)}`] : []),
    '---',
  ].join('\n');
  return `${front}\n${policy.text.replace(/\r\n?/g, '\n').trim()}\n`;
}

/** Parses (so a malformed policy is refused with the parser's own message) and writes atomically. */
export async function writeUserPolicy(dataDir: string, policy: NewPolicy): Promise<Policy> {
  if (!POLICY_ID_PATTERN.test(policy.id)) throw new Error(`invalid policy id "${policy.id}"`);
  const dir = userPoliciesDir(dataDir);
  const path = join(dir, `${policy.id}.md`);
  const document = policyDocument(policy);
  const parsed = parsePolicy(document, path, 'user');
  await writeFileAtomic(path, document);
  return parsed;
}

export async function removeUserPolicy(dataDir: string, id: string): Promise<void> {
  if (!POLICY_ID_PATTERN.test(id)) throw new Error(`invalid policy id "${id}"`);
  await rm(join(userPoliciesDir(dataDir), `${id}.md`));
}
