import { statusLine as line, type BatchStatus } from '../pipeline/batch.js';

/** A live bar on a terminal; on a pipe or in a log, a plain line every `everyMs` and at the end. */
export function progressView(stream: NodeJS.WriteStream, everyMs = 10_000): (status: BatchStatus) => void {
  let lastLine = 0;
  let lastBar = 0;
  return (status) => {
    const finished = status.status !== 'running';
    if (stream.isTTY) {
      const now = Date.now();
      if (!finished && now - lastBar < 100) return; // redraw at most ten times a second
      lastBar = now;
      stream.write(`\r${bar(status, stream.columns || 80)}${finished ? '\n' : ''}`);
      return;
    }
    const now = Date.now();
    if (finished || now - lastLine >= everyMs) {
      lastLine = now;
      stream.write(line(status) + '\n');
    }
  };
}

/** One terminal line: a line longer than the terminal wraps, and `\r` then redraws only its last row. */
export function bar(s: BatchStatus, columns: number): string {
  const room = Math.max(20, columns) - 1; // writing into the last column wraps on some terminals
  const width = room >= 72 ? 24 : 10;
  const filled = s.total ? Math.round((s.done / s.total) * width) : width;
  const text = `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${line(s)}`;
  return `${text.length > room ? text.slice(0, room - 1) + '…' : text}\x1b[K`;
}
