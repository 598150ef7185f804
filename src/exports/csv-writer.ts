/** One RFC 4180 CSV line: fields with a comma, quote, CR or LF are quoted, quotes doubled; CRLF ends it. */
export function csvLine(fields: readonly string[]): string {
  return fields.map((f) => (/[",\r\n]/.test(f) ? `"${f.replace(/"/g, '""')}"` : f)).join(',') + '\r\n';
}
