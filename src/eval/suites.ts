import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InputError } from '../errors.js';
import type { OpenedFile } from '../inputs/opened-file.js';
import { readPromptFile, type InputRow } from '../inputs/read-prompts.js';
import { builtinBenchmarksDir } from '../paths.js';

/** How a suite's replies are judged and scored. */
export type SuiteKind = 'xstest' | 'strongreject' | 'safety';

export interface Suite {
  name: string;
  kind: SuiteKind;
  /** The prompt file's name in the suites folder. */
  file: string;
  /** The column holding the prompt (eval and decontamination alike). */
  column: string;
  /** The column decontamination names a matched prompt by; without one, its 1-based row. */
  idColumn?: string;
  /** The rows eval takes from the shipped file: those whose `split` column holds this (decontamination takes all). */
  split?: string;
  /** The column the per-category charts group by. */
  categoryColumn?: string;
  /** XSTest only: the column that says whether a prompt is safe (over-refusal) or unsafe (contrast). */
  labelColumn?: string;
  license: string;
  source: string;
}

/** The benchmark suites by name, with their columns and licences (see benchmarks/README.md). */
export const SUITES: Record<string, Suite> = {
  xstest: {
    name: 'xstest',
    kind: 'xstest',
    file: 'xstest_prompts.csv',
    column: 'prompt',
    idColumn: 'id',
    categoryColumn: 'type',
    labelColumn: 'label',
    license: 'CC-BY-4.0',
    source: 'paul-rottger/exaggerated-safety (Röttger et al., NAACL 2024)',
  },
  strongreject: {
    name: 'strongreject',
    kind: 'strongreject',
    file: 'strongreject_dataset.csv',
    column: 'forbidden_prompt',
    categoryColumn: 'category',
    license: 'MIT',
    source: 'StrongREJECT (Souly et al., NeurIPS 2024)',
  },
  harmbench: {
    name: 'harmbench',
    kind: 'safety',
    file: 'harmbench_behaviors_text_test.csv',
    // Contextual behaviors get their ContextString put before them, as HarmBench does (see read-prompts.ts).
    column: 'Behavior',
    idColumn: 'BehaviorID',
    split: 'test',
    categoryColumn: 'SemanticCategory',
    license: 'MIT',
    source: 'centerforaisafety/HarmBench, test split (Mazeika et al., 2024)',
  },
  advbench: {
    name: 'advbench',
    kind: 'safety',
    file: 'advbench_harmful_behaviors.csv',
    column: 'goal',
    license: 'MIT',
    source: 'llm-attacks/llm-attacks, harmful behaviors (Zou et al., 2023)',
  },
  donotanswer: {
    name: 'donotanswer',
    kind: 'safety',
    file: 'do_not_answer_data.csv',
    column: 'question',
    idColumn: 'id',
    categoryColumn: 'risk_area',
    license: 'Apache-2.0',
    source: 'LibrAI/do-not-answer (Wang et al., Findings of EACL 2024)',
  },
};

export const SUITE_NAMES = Object.keys(SUITES);

/** A prompt file the user brings (`--input FILE --column C`): judged like the harm suites. */
export function customSuite(path: string, column: string | undefined): Suite {
  return { name: 'custom', kind: 'safety', file: path, column: column ?? '', license: 'the user’s own', source: path };
}

/** Parses "xstest,strongreject" into suites, naming any unknown one. */
export function parseSuites(list: string): Suite[] {
  const names = list
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean);
  if (names.length === 0) throw new InputError(`suite: give at least one of ${SUITE_NAMES.join(', ')}`);
  const unknown = names.filter((n) => !Object.hasOwn(SUITES, n));
  if (unknown.length > 0) throw new InputError(`suite: unknown suite${unknown.length > 1 ? 's' : ''} ${unknown.map((n) => `"${n}"`).join(', ')}; the suites are ${SUITE_NAMES.join(', ')}`);
  return [...new Set(names)].map((n) => SUITES[n] as Suite);
}

/** The suites shipped with the package: benchmarks/<name>.jsonl, the same files decontamination reads (see benchmarks/README.md). */
export const bundledSuitesDir = fileURLToPath(builtinBenchmarksDir);

/**
 * Where the suites' prompt files are: AIDSAFE_SUITES_DIR (a folder of the original CSV files, or of
 * <name>.jsonl files), else the copies shipped in benchmarks/.
 */
export function suitesDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.AIDSAFE_SUITES_DIR || bundledSuitesDir;
}

/** A suite's file in a folder: the original CSV when it is there, else the shipped <name>.jsonl. */
function suiteFile(suite: Suite, dir: string): string {
  const original = join(dir, suite.file);
  return existsSync(original) ? original : join(dir, `${suite.name}.jsonl`);
}

export interface SuitePrompt {
  /** 0-based row of the suite file. */
  index: number;
  prompt: string;
  category: string | null;
  /** XSTest: "safe" or "unsafe". */
  label?: 'safe' | 'unsafe';
}

export interface LoadedSuite {
  suite: Suite;
  path: string;
  sha256: string;
  prompts: SuitePrompt[];
}

/** Reads a suite's prompts (the first `limit` rows). */
export async function loadSuite(suite: Suite, options: { dir?: string; limit?: number; file?: OpenedFile } = {}): Promise<LoadedSuite> {
  const custom = suite.name === 'custom';
  const path = custom ? suite.file : suiteFile(suite, options.dir ?? suitesDir());
  if (!custom && !existsSync(path)) throw new InputError(`suite: the ${suite.name} prompts are not at ${path}; set AIDSAFE_SUITES_DIR to a folder that holds ${suite.file} or ${suite.name}.jsonl`);
  // No column for the built-in suites: the default choice is theirs, and it adds HarmBench's contexts.
  const file = await readPromptFile(options.file ?? path, custom ? suite.column || undefined : undefined);
  if (!custom && file.column !== suite.column) throw new InputError(`suite: ${path} has no "${suite.column}" column; is it the ${suite.name} file?`);
  // The shipped HarmBench file holds both splits; an original CSV of one split has no `split` column.
  const inSplit = suite.split && !custom && file.columns.includes('split') ? file.rows.filter((row) => row.metadata.split === suite.split) : file.rows;
  const rows = options.limit !== undefined ? inSplit.slice(0, options.limit) : inSplit;
  const prompts = rows.map((row) => promptOf(suite, row));
  return { suite: custom ? { ...suite, column: file.column } : suite, path, sha256: file.sha256, prompts };
}

/** A row of a suite file as the judge and the scores need it: its category and, for XSTest, its label. */
export function promptOf(suite: Suite, row: InputRow): SuitePrompt {
  const category = suite.categoryColumn ? row.metadata[suite.categoryColumn] : undefined;
  const label = suite.labelColumn ? row.metadata[suite.labelColumn] : undefined;
  return {
    index: row.index,
    prompt: row.prompt,
    category: typeof category === 'string' && category !== '' ? category : null,
    ...(label === 'safe' || label === 'unsafe' ? { label } : {}),
  };
}
