import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { log } from '../log.js';
import { parsePolicy, type Policy } from './policy.js';

export interface PolicyLoadProblem {
  path: string;
  message: string;
}

/**
 * The policies in force: the built-in ones, then each extra folder in order, a later file with the
 * same id replacing an earlier one. A malformed file is reported and skipped; the rest still load.
 */
export class PolicySet {
  private byId = new Map<string, Policy>();
  private layered = new Map<string, Policy[]>();
  private found: PolicyLoadProblem[] = [];
  private loaded = false;

  /** The files are read at first use: parsing them is among the slowest steps of a server's start. */
  constructor(private readonly sources: { dir: string; source: Policy['source'] }[]) {}

  static load(builtinDir: string | URL, extraDirs: string[]): PolicySet {
    const builtin = typeof builtinDir === 'string' ? builtinDir : fileURLToPath(builtinDir);
    return new PolicySet([{ dir: builtin, source: 'builtin' }, ...extraDirs.map((dir) => ({ dir, source: 'user' as const }))]);
  }

  private loadOnce(): void {
    if (!this.loaded) this.reload();
  }

  get problems(): PolicyLoadProblem[] {
    this.loadOnce();
    return this.found;
  }

  reload(): void {
    this.loaded = true;
    this.byId.clear();
    this.layered.clear();
    this.found = [];
    for (const { dir, source } of this.sources) {
      let names: string[];
      try {
        names = readdirSync(dir).filter((n) => n.endsWith('.md')).sort();
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') this.report(dir, (error as Error).message);
        continue;
      }
      for (const name of names) {
        const path = join(dir, name);
        try {
          const policy = parsePolicy(readFileSync(path, 'utf8'), path, source);
          this.byId.set(policy.id, policy);
          this.layered.set(policy.id, [...(this.layered.get(policy.id) ?? []), policy]);
        } catch (error) {
          this.report(path, (error as Error).message);
        }
      }
    }
  }

  private report(path: string, message: string): void {
    this.found.push({ path, message });
    log('warning', `policy not loaded: ${message}`);
  }

  all(): Policy[] {
    this.loadOnce();
    return [...this.byId.values()].sort((a, b) => a.id.localeCompare(b.id));
  }

  get(id: string): Policy | undefined {
    this.loadOnce();
    return this.byId.get(id);
  }

  ids(): string[] {
    return this.all().map((p) => p.id);
  }

  /** Every loaded file for an id, in load order (a built-in, then the files that override it). */
  layers(id: string): Policy[] {
    this.loadOnce();
    return this.layered.get(id) ?? [];
  }

  /** The policies for a request, sorted by id so the prompt prefix is the same whatever order the caller used. */
  select(ids?: readonly string[]): Policy[] {
    this.loadOnce();
    if (!ids || ids.length === 0) return this.all();
    // Another process sharing the data folder may have added a policy since we loaded.
    if (ids.some((id) => !this.byId.has(id))) this.reload();
    const unknown = ids.filter((id) => !this.byId.has(id));
    if (unknown.length > 0) throw new UnknownPolicyError(unknown, this.ids());
    return [...new Set(ids)].sort().map((id) => this.byId.get(id) as Policy);
  }
}

export class UnknownPolicyError extends Error {
  override name = 'UnknownPolicyError';
  constructor(
    readonly unknown: string[],
    readonly known: string[],
  ) {
    super(`policy_ids: unknown policy ${unknown.map((id) => `"${id}"`).join(', ')}; known policies: ${known.join(', ')}`);
  }
}
