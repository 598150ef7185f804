import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { extname } from 'node:path';
import { InputError } from '../errors.js';
import { CsvFormatError, parseCsv } from './csv.js';

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
  const bytes = await readRegularFile(path);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const text = bytes.toString('utf8');
  const isJsonl = ['.jsonl', '.ndjson', '.json'].includes(extname(path).toLowerCase());
  const records = isJsonl ? parseJsonl(text, path) : csvRecords(text, path);
  const columns = records.columns;
  const chosen = column ?? DEFAULT_PROMPT_COLUMNS.find((c) => columns.includes(c)) ?? (columns.length === 1 ? columns[0] : undefined);
  if (!chosen) throw new InputError(`column: ${path} has no column named ${DEFAULT_PROMPT_COLUMNS.join(', ')}; ${describeColumns(columns, records.rows.length, 'choose one of its columns: ')}`);
  if (!columns.includes(chosen)) throw new InputError(`column: ${path} has no column "${chosen}"; ${describeColumns(columns, records.rows.length, 'its columns are: ')}`);
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

/**
 * Opens without following a FIFO into a hang (O_NONBLOCK) and reads only a regular file: a run
 * hashes its input and reads it again to resume, which a pipe or a device cannot give.
 */
async function readRegularFile(path: string): Promise<Buffer> {
  let handle;
  try {
    handle = await open(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  } catch (error) {
    throw new InputError(`input_path: cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  try {
    if (!(await handle.stat()).isFile()) throw new InputError(`input_path: ${path} is not a regular file; give a CSV or JSONL file (a run reads it again to resume)`);
    return await handle.readFile();
  } finally {
    await handle.close();
  }
}

/**
 * The column names, for an error message, only when the file read as a table whose header looks
 * like names: the first line of a file that is no prompt table (a key file, a system file) must
 * never be echoed back to a client.
 */
function describeColumns(columns: readonly string[], rows: number, lead: string): string {
  const NAME = /^[\p{L}\p{N}_][\p{L}\p{N} _.()-]{0,63}$/u;
  if (rows > 0 && columns.length > 0 && columns.length <= 100 && columns.every((c) => c === '' || NAME.test(c))) return `${lead}${columns.join(', ')}`;
  return 'its first line does not look like a header of column names';
}

function csvRecords(text: string, path: string): { columns: string[]; rows: Record<string, unknown>[] } {
  let table: string[][];
  try {
    table = parseCsv(text);
  } catch (error) {
    if (error instanceof CsvFormatError) throw new InputError(`input_path: ${path} ${error.message}`);
    throw error;
  }
  const [header, ...data] = table;
  if (!header || header.length === 0 || header.every((h) => h === '')) throw new InputError(`input_path: ${path} is empty or has no header row`);
  const rows = data.map((r) => Object.fromEntries(header.map((name, i) => [name, r[i] ?? ''])));
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
    } catch {
      // The parser's message quotes the line; the file's content stays out of errors.
      throw new InputError(`input_path: ${path} line ${i + 1} is not valid JSON`);
    }
    if (!value || typeof value !== 'object' || Array.isArray(value)) throw new InputError(`input_path: ${path} line ${i + 1} is not a JSON object`);
    for (const key of Object.keys(value)) columns.add(key);
    rows.push(value as Record<string, unknown>);
  }
  return { columns: [...columns], rows };
}
