import { createRequire } from 'node:module';
import type * as CsvParse from 'csv-parse';
import type * as CsvParseSync from 'csv-parse/sync';

// csv-parse is loaded by the first CSV read, not by every module that may read one (the server at start).
const require = createRequire(import.meta.url);
const csvParse = () => require('csv-parse') as typeof CsvParse;
type CsvError = CsvParse.CsvError;

/** A CSV file that is not well formed; `line` is 1-based. The message never quotes the file. */
export class CsvFormatError extends Error {
  constructor(
    readonly line: number,
    what: string,
  ) {
    super(`line ${line}: ${what}`);
    this.name = 'CsvFormatError';
  }
}

/**
 * RFC 4180 CSV through csv-parse: quoted fields may hold commas, doubled quotes and newlines; records
 * end in CRLF or LF; blank lines and a leading byte-order mark are dropped. Every record must have as
 * many fields as the first, and a quote left open is an error: both would otherwise shift or merge
 * rows silently.
 */
export function parseCsv(text: string): string[][] {
  const state = new CsvState();
  try {
    return (require('csv-parse/sync') as typeof CsvParseSync).parse(text, state.options) as string[][];
  } catch (error) {
    throw state.formatError(error);
  }
}

/** The records of a CSV file given as a stream of chunks, with the same rules and errors as `parseCsv`, never holding more than a record. */
export async function* csvRecords(chunks: AsyncIterable<Buffer>): AsyncGenerator<string[]> {
  const state = new CsvState();
  const parser = csvParse().parse(state.options);
  // Feeds the parser without waiting for it to be read: backpressure comes from `for await` below
  // through the parser's buffer (the feeding pauses when `write` says the buffer is full).
  const feeding = (async () => {
    try {
      for await (const chunk of chunks) {
        if (parser.destroyed) break;
        // A reader that stops early destroys the parser: 'close' ends the wait for a drain that never comes.
        if (!parser.write(chunk)) await new Promise<void>((r) => parser.once('drain', r).once('close', r));
      }
      if (!parser.destroyed) parser.end();
    } catch (error) {
      parser.destroy(error as Error);
    }
  })();
  try {
    for await (const record of parser) yield record as string[];
  } catch (error) {
    throw state.formatError(error);
  } finally {
    parser.destroy();
    await feeding;
  }
}

/** Where parsing has got to, for error messages that name a line. */
class CsvState {
  // csv-parse reports an unclosed quote at the end of the file; the record it opened began after
  // the last complete one.
  private lastComplete = 0;
  private width = 0;

  readonly options: CsvParse.Options = {
    bom: true,
    skip_empty_lines: true,
    on_record: (record: string[], context: { lines: number }) => {
      this.lastComplete = context.lines;
      this.width ||= record.length;
      return record;
    },
  };

  formatError(error: unknown): unknown {
    // By its code, not its class: csv-parse's stream and sync builds each carry their own CsvError.
    if (!isCsvError(error)) return error;
    // csv-parse's own messages can quote the field they stopped at; ours name only the place.
    const line = (error as CsvError & { lines?: number }).lines ?? 0;
    switch (error.code) {
      case 'CSV_QUOTE_NOT_CLOSED':
        return new CsvFormatError(this.lastComplete + 1, 'a quoted field is never closed (a missing " merges the rows after it)');
      case 'CSV_RECORD_INCONSISTENT_FIELDS_LENGTH':
      case 'CSV_RECORD_INCONSISTENT_COLUMNS': {
        const { record } = error as CsvError & { record?: unknown[] };
        const got = Array.isArray(record) ? `${record.length} fields` : 'another number of fields';
        return new CsvFormatError(line, `the row has ${got}, the header has ${this.width}`);
      }
      case 'CSV_INVALID_CLOSING_QUOTE':
        return new CsvFormatError(line, 'a quoted field is followed by more text before the next comma (write a quote inside a quoted field as "")');
      default:
        return new CsvFormatError(line, `not valid CSV (${error.code})`);
    }
  }
}

function isCsvError(error: unknown): error is CsvError {
  const code = (error as { code?: unknown } | null)?.code;
  return error instanceof Error && typeof code === 'string' && code.startsWith('CSV_');
}
