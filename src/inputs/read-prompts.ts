import { createHash } from 'node:crypto';
import { constants, type Stats } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { extname } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { InputError } from '../errors.js';
import { csvRecords, CsvFormatError } from './csv.js';
import type { OpenedFile } from './opened-file.js';

/** Tried in order when no column is named: the prompt columns of common safety prompt sets. */
export const DEFAULT_PROMPT_COLUMNS = ['prompt', 'question', 'goal', 'forbidden_prompt', 'Behavior'] as const;

export interface InputRow {
  /** 0-based position among the file's data rows. */
  index: number;
  prompt: string;
  /** The row's other columns. */
  metadata: Record<string, unknown>;
}

/**
 * A prompt file checked once from end to end (hashed, counted, every row parsed) and then read again,
 * as a stream, as often as it is needed: nothing per row stays in memory.
 */
export interface PromptSource {
  path: string;
  column: string;
  columns: string[];
  /** sha256 of the file's bytes: a run remembers it, to refuse resuming on a changed file. */
  sha256: string;
  /** Data rows in the file. */
  count: number;
  /** The rows in file order, read from disk again; throws if the file changed since it was checked. */
  rows(): AsyncGenerator<InputRow>;
}

export interface PromptFile {
  rows: InputRow[];
  column: string;
  columns: string[];
  /** sha256 of the file's bytes: a run remembers it, to refuse resuming on a changed file. */
  sha256: string;
}

/**
 * A prompt file by path (the user's own: the CLI, the shipped suites), or opened and checked already
 * (a file a client named: every read then goes through that descriptor, and its opener closes it).
 */
export type PromptInput = string | OpenedFile;

/** Reads a CSV or JSONL prompt file whole (for small files: suites, benchmark sets). */
export async function readPromptFile(input: PromptInput, column?: string): Promise<PromptFile> {
  const source = await openPromptFile(input, column);
  const rows: InputRow[] = [];
  for await (const row of source.rows()) rows.push(row);
  return { rows, column: source.column, columns: source.columns, sha256: source.sha256 };
}

/** A CSV or JSONL file checked once from end to end, then read again, row by row, as often as needed. */
export interface TableSource {
  path: string;
  columns: string[];
  /** sha256 of the file's bytes. */
  sha256: string;
  /** Data rows in the file. */
  count: number;
  /** Each row's values by column, in file order, read from disk again; throws if the file changed since it was checked. */
  records(): AsyncGenerator<Record<string, unknown>>;
}

/** Checks a CSV or JSONL file (by extension; .json/.jsonl/.ndjson are JSON lines): its columns, rows and hash. */
export async function openTableFile(input: PromptInput): Promise<TableSource> {
  const path = typeof input === 'string' ? input : input.path;
  const isJsonl = ['.jsonl', '.ndjson', '.json'].includes(extname(path).toLowerCase());
  // A path is opened again for each pass (the file stays closed between them); an opened file is read again through its descriptor.
  const reading = async (): Promise<{ stat: () => Promise<Stats>; chunks: AsyncGenerator<Buffer>; unread: () => Promise<void> }> => {
    if (typeof input !== 'string') return { stat: () => input.stat(), chunks: input.chunks(), unread: async () => undefined };
    const handle = await openRegularFile(path);
    return { stat: () => handle.stat(), chunks: chunksOf(handle), unread: () => handle.close() };
  };
  const first = await reading();
  const { size, mtimeMs } = await first.stat();
  const hash = createHash('sha256');
  const columnSet = new Set<string>();
  let columns: string[] = [];
  let count = 0;
  const chunks = hashing(first.chunks, hash);
  if (isJsonl) {
    for await (const value of jsonlObjects(chunks, path)) {
      for (const key in value) columnSet.add(key);
      count++;
    }
    columns = [...columnSet];
  } else {
    for await (const record of csvData(chunks, path)) {
      if (record.header) columns = record.header;
      else count++;
    }
  }
  const sha256 = hash.digest('hex');
  async function* records(): AsyncGenerator<Record<string, unknown>> {
    const again = await reading();
    const now = await again.stat();
    if (now.size !== size || now.mtimeMs !== mtimeMs) {
      await again.unread();
      throw new InputError(`input_path: ${path} changed after it was read; start the run again`);
    }
    if (isJsonl) {
      yield* jsonlObjects(again.chunks, path);
    } else {
      let header: string[] = [];
      for await (const record of csvData(again.chunks, path)) {
        if (record.header) header = record.header;
        else yield Object.fromEntries(header.map((name, i) => [name, record.values[i] ?? '']));
      }
    }
  }
  return { path, columns, sha256, count, records };
}

/** A column the caller named that the file does not have: the error names the columns it has. */
export function missingColumn(table: Pick<TableSource, 'path' | 'columns' | 'count'>, column: string, field = 'column'): InputError {
  return new InputError(`${field}: ${table.path} has no column "${column}"; ${describeColumns(table.columns, table.count, 'its columns are: ')}`);
}

/** Checks a CSV or JSONL prompt file (by extension; .json/.jsonl/.ndjson are JSON lines) and chooses its prompt column. */
export async function openPromptFile(input: PromptInput, column?: string): Promise<PromptSource> {
  const table = await openTableFile(input);
  const { path, columns, count, sha256 } = table;
  // A one-column CSV whose first line is no known prompt column may have no header at all: taking that
  // line as the header would silently lose the first prompt, so the caller is asked which it is.
  const isCsv = !['.jsonl', '.ndjson', '.json'].includes(extname(path).toLowerCase());
  if (isCsv && column === undefined && columns.length === 1 && !DEFAULT_PROMPT_COLUMNS.some((c) => columns.includes(c))) {
    throw new InputError(`column: ${path} has a single column whose first line is not one of ${DEFAULT_PROMPT_COLUMNS.join(', ')}: if the file has no header, add one (for example "prompt") as its first line; if that line is the header, name it as the column (--column)`);
  }
  const chosen = column ?? DEFAULT_PROMPT_COLUMNS.find((c) => columns.includes(c)) ?? (columns.length === 1 ? columns[0] : undefined);
  if (!chosen) throw new InputError(`column: ${path} has no column named ${DEFAULT_PROMPT_COLUMNS.join(', ')}; ${describeColumns(columns, count, 'choose one of its columns: ')}`);
  if (!columns.includes(chosen)) throw missingColumn(table, chosen);
  // HarmBench's contextual behaviors only make sense with their context: the same Behavior text
  // recurs with different ContextStrings. As HarmBench itself does, the context goes first.
  const withContext = column === undefined && chosen === 'Behavior' && columns.includes('ContextString');
  const toRow = (values: Record<string, unknown>, index: number): InputRow => {
    const { [chosen]: value, ...metadata } = values;
    let prompt = typeof value === 'string' ? value : value === undefined || value === null ? '' : JSON.stringify(value);
    const context = metadata.ContextString;
    if (withContext && typeof context === 'string' && context.trim()) prompt = `${context}\n\n---\n\n${prompt}`;
    return { index, prompt, metadata };
  };
  async function* rows(): AsyncGenerator<InputRow> {
    let index = 0;
    for await (const values of table.records()) yield toRow(values, index++);
  }
  return { path, column: chosen, columns, sha256, count, rows };
}

/**
 * Opens without following a FIFO into a hang (O_NONBLOCK) and only a regular file: a run hashes its
 * input and reads it again to resume, which a pipe or a device cannot give.
 */
async function openRegularFile(path: string): Promise<FileHandle> {
  let handle;
  try {
    handle = await open(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  } catch (error) {
    throw new InputError(`input_path: cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  if (!(await handle.stat()).isFile()) {
    await handle.close();
    throw new InputError(`input_path: ${path} is not a regular file; give a CSV or JSONL file (a run reads it again to resume)`);
  }
  return handle;
}

const CHUNK = 1 << 20;

/** The file's bytes in chunks; the handle is closed at the end, or when the reader stops early. */
async function* chunksOf(handle: FileHandle): AsyncGenerator<Buffer> {
  try {
    for (;;) {
      const buffer = Buffer.allocUnsafe(CHUNK);
      const { bytesRead } = await handle.read(buffer, 0, CHUNK, null);
      if (bytesRead === 0) return;
      yield buffer.subarray(0, bytesRead);
    }
  } finally {
    await handle.close();
  }
}

async function* hashing(chunks: AsyncIterable<Buffer>, hash: ReturnType<typeof createHash>): AsyncGenerator<Buffer> {
  for await (const chunk of chunks) {
    hash.update(chunk);
    yield chunk;
  }
}

/**
 * The column names, for an error message, only when the file read as a table whose header looks
 * like names: the first line of a file that is no prompt table (a key file, a system file) must
 * never be echoed back to a client.
 */
export function describeColumns(columns: readonly string[], rows: number, lead: string): string {
  const NAME = /^[\p{L}\p{N}_][\p{L}\p{N} _.()-]{0,63}$/u;
  if (rows > 0 && columns.length > 0 && columns.length <= 100 && columns.every((c) => c === '' || NAME.test(c))) return `${lead}${columns.join(', ')}`;
  return 'its first line does not look like a header of column names';
}

/** The header record, then each data record. */
async function* csvData(chunks: AsyncIterable<Buffer>, path: string): AsyncGenerator<{ header: string[] } | { header?: undefined; values: string[] }> {
  let first = true;
  try {
    for await (const record of csvRecords(chunks)) {
      if (first) {
        first = false;
        if (record.length === 0 || record.every((h) => h === '')) throw new InputError(`input_path: ${path} is empty or has no header row`);
        yield { header: record };
      } else yield { values: record };
    }
  } catch (error) {
    if (error instanceof CsvFormatError) throw new InputError(`input_path: ${path} ${error.message}`);
    throw error;
  }
  if (first) throw new InputError(`input_path: ${path} is empty or has no header row`);
}

/** Each non-blank line as a JSON object; a line that is not one is an error naming its number. */
async function* jsonlObjects(chunks: AsyncIterable<Buffer>, path: string): AsyncGenerator<Record<string, unknown>> {
  const decoder = new StringDecoder('utf8');
  let rest = '';
  let lineNo = 0;
  const parse = (line: string): Record<string, unknown> | undefined => {
    lineNo++;
    if (line.endsWith('\r')) line = line.slice(0, -1);
    if (!line.trim()) return undefined;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      // The parser's message quotes the line; the file's content stays out of errors.
      throw new InputError(`input_path: ${path} line ${lineNo} is not valid JSON`);
    }
    if (!value || typeof value !== 'object' || Array.isArray(value)) throw new InputError(`input_path: ${path} line ${lineNo} is not a JSON object`);
    return value as Record<string, unknown>;
  };
  for await (const chunk of chunks) {
    const lines = (rest + decoder.write(chunk)).split('\n');
    rest = lines.pop()!;
    for (const line of lines) {
      const value = parse(line);
      if (value) yield value;
    }
  }
  const value = parse(rest + decoder.end());
  if (value) yield value;
}
