import { mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Low } from 'lowdb';
import type { SuiteKind } from '../eval/suites.js';
import { InputError } from '../errors.js';
import { JsonFile } from './json-file.js';

export const EVAL_ID_PATTERN = /^eval-[a-z0-9_-]{3,59}$/;

/**
 * An evaluation: which targets, which suites, and the run (one per target and suite) that holds each
 * pair's samples. The runs are ordinary runs of the run engine, so they resume, and they are listed
 * by `aidsafe-mcp runs` like any other.
 */
export interface EvalManifest {
  id: string;
  created_at: string;
  updated_at: string;
  /** Where each target is served is kept for the reader; it is not part of any id, and no key ever is. */
  targets: { label: string; model: string; base_url?: string; role?: string; temperature: number }[];
  suites: { name: string; kind: SuiteKind; path: string; sha256: string; column: string; prompts: number; license: string; source: string }[];
  limit?: number;
  /** The judge role's model when the evaluation was (last) started; every sample records the model that judged it. */
  judge_model: string;
  templates: string;
  runs: { run_id: string; target: string; suite: string }[];
}

/** Evaluation manifests on disk: evals/<id>.json. */
export class EvalStore {
  readonly dir: string;

  constructor(dataDir: string) {
    this.dir = join(dataDir, 'evals');
  }

  private file(id: string): string {
    if (!EVAL_ID_PATTERN.test(id)) throw new InputError(`eval_id: "${id}" is not an evaluation id (they look like eval-1a2b3c4d5e6f)`);
    return join(this.dir, `${id}.json`);
  }

  async read(id: string): Promise<EvalManifest | undefined> {
    if (!EVAL_ID_PATTERN.test(id)) return undefined;
    const db = new Low<EvalManifest | null>(new JsonFile(this.file(id)), null);
    await db.read();
    return db.data ?? undefined;
  }

  async write(manifest: EvalManifest): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    await new Low<EvalManifest>(new JsonFile(this.file(manifest.id)), manifest).write();
  }

  async list(): Promise<EvalManifest[]> {
    const names = await readdir(this.dir).catch(() => [] as string[]);
    const ids = names.filter((n) => n.endsWith('.json')).map((n) => n.slice(0, -5));
    const manifests = await Promise.all(ids.map((id) => this.read(id)));
    return manifests.filter((m): m is EvalManifest => m !== undefined).sort((a, b) => b.created_at.localeCompare(a.created_at));
  }
}
