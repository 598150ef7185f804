import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { InputError } from '../errors.js';
import { parseCsv } from './csv.js';

/** Tried in order when no column is named: the prompt columns of common safety prompt sets. */
export const DEFAULT_PROMPT_COLUMNS = ['prompt', 'question', 'goal', 'forbidden_prompt', 'Behavior'] as const;

export interface InputRow {
  /** 0-based position among the file's data rows. */
  index: number;
  prompt: string;
  /** The row's other columns. */
  metadata: Record<string, unknown>;
}

export interface PromptFile {
  rows: InputRow[];
  column: string;
  columns: string[];
  /** sha256 of the file's bytes: a run remembers it, to refuse resuming on a changed file. */
  sha256: string;
}


/** Reads a CSV or JSONL prompt file (by extension; .json/.jsonl/.ndjson are JSON lines). */
export async function readPromptFile(path: string, column?: string): Promise<PromptFile> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (error) {
    throw new InputError(`input_path: cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const text = bytes.toString('utf8');
  const isJsonl = ['.jsonl', '.ndjson', '.json'].includes(extname(path).toLowerCase());
  const records = isJsonl ? parseJsonl(text, path) : csvRecords(text, path);
  const columns = records.columns;
  const chosen = column ?? DEFAULT_PROMPT_COLUMNS.find((c) => columns.includes(c)) ?? (columns.length === 1 ? columns[0] : undefined);
  if (!chosen) throw new InputError(`column: ${path} has no column named ${DEFAULT_PROMPT_COLUMNS.join(', ')}; choose one of its columns: ${columns.join(', ')}`);
  if (!columns.includes(chosen)) throw new InputError(`column: ${path} has no column "${chosen}"; its columns are: ${columns.join(', ')}`);
  // HarmBench's contextual behaviors only make sense with their context: the same Behavior text
  // recurs with different ContextStrings. As HarmBench itself does, the context goes first.
  const withContext = column === undefined && chosen === 'Behavior' && columns.includes('ContextString');
  const rows = records.rows.map((values, index) => {
    const { [chosen]: value, ...metadata } = values;
    let prompt = typeof value === 'string' ? value : value === undefined || value === null ? '' : JSON.stringify(value);
    const context = metadata.ContextString;
    if (withContext && typeof context === 'string' && context.trim()) prompt = `${context}\n\n---\n\n${prompt}`;
    return { index, prompt, metadata };
  });
  return { rows, column: chosen, columns, sha256 };
}

function csvRecords(text: string, path: string): { columns: string[]; rows: Record<string, unknown>[] } {
  const [header, ...data] = parseCsv(text);
  if (!header || header.length === 0 || header.every((h) => h === '')) throw new InputError(`input_path: ${path} is empty or has no header row`);
  const rows = data
    .filter((r) => !(r.length === 1 && r[0] === '')) // blank lines
    .map((r) => Object.fromEntries(header.map((name, i) => [name, r[i] ?? ''])));
  return { columns: header, rows };
}

function parseJsonl(text: string, path: string): { columns: string[]; rows: Record<string, unknown>[] } {
  const rows: Record<string, unknown>[] = [];
  const columns = new Set<string>();
  const lines = text.split(/\r?\n/);
  for (const [i, line] of lines.entries()) {
    if (!line.trim()) continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (error) {
      throw new InputError(`input_path: ${path} line ${i + 1} is not valid JSON: ${(error as Error).message}`);
    }
    if (!value || typeof value !== 'object' || Array.isArray(value)) throw new InputError(`input_path: ${path} line ${i + 1} is not a JSON object`);
    for (const key of Object.keys(value)) columns.add(key);
    rows.push(value as Record<string, unknown>);
  }
  return { columns: [...columns], rows };
}
