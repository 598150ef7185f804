import { createRequire } from 'node:module';
import type * as CsvParse from 'csv-parse/sync';

// csv-parse is loaded by the first CSV read, not by every module that may read one (the server at start).
const require = createRequire(import.meta.url);

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
  // csv-parse reports an unclosed quote at the end of the file; the record it opened began after
  // the last complete one.
  let lastComplete = 0;
  let width = 0;
  const { CsvError, parse } = require('csv-parse/sync') as typeof CsvParse;
  try {
    return parse(text, {
      bom: true,
      skip_empty_lines: true,
      on_record: (record: string[], context: { lines: number }) => {
        lastComplete = context.lines;
        width ||= record.length;
        return record;
      },
    }) as string[][];
  } catch (error) {
    if (!(error instanceof CsvError)) throw error;
    // csv-parse's own messages can quote the field they stopped at; ours name only the place.
    const line = (error as CsvParse.CsvError & { lines?: number }).lines ?? 0;
    switch (error.code) {
      case 'CSV_QUOTE_NOT_CLOSED':
        throw new CsvFormatError(lastComplete + 1, 'a quoted field is never closed (a missing " merges the rows after it)');
      case 'CSV_RECORD_INCONSISTENT_FIELDS_LENGTH':
      case 'CSV_RECORD_INCONSISTENT_COLUMNS': {
        const { record } = error as CsvParse.CsvError & { record?: unknown[] };
        const got = Array.isArray(record) ? `${record.length} fields` : 'another number of fields';
        throw new CsvFormatError(line, `the row has ${got}, the header has ${width}`);
      }
      case 'CSV_INVALID_CLOSING_QUOTE':
        throw new CsvFormatError(line, 'a quoted field is followed by more text before the next comma (write a quote inside a quoted field as "")');
      default:
        throw new CsvFormatError(line, `not valid CSV (${error.code})`);
    }
  }
}
