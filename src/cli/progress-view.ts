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
      stream.write(`\r${bar(status)}${finished ? '\n' : ''}`);
      return;
    }
    const now = Date.now();
    if (finished || now - lastLine >= everyMs) {
      lastLine = now;
      stream.write(line(status) + '\n');
    }
  };
}

function bar(s: BatchStatus): string {
  const width = 24;
  const filled = s.total ? Math.round((s.done / s.total) * width) : width;
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${line(s)}\x1b[K`;
}
