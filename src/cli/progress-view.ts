import type { BatchStatus } from '../pipeline/batch.js';

/** A live bar on a terminal; on a pipe or in a log, a plain line every `everyMs` and at the end. */
export function progressView(stream: NodeJS.WriteStream, everyMs = 10_000): (status: BatchStatus) => void {
  let lastLine = 0;
  return (status) => {
    const finished = status.status !== 'running';
    if (stream.isTTY) {
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

export function line(s: BatchStatus): string {
  const tokens = s.usage.prompt_tokens + s.usage.completion_tokens;
  const parts = [
    `${s.done}/${s.total} done`,
    `${s.failed} failed`,
    `${s.rate_per_s.toFixed(2)}/s`,
    s.eta_s !== undefined ? `ETA ${duration(s.eta_s)}` : undefined,
    `${compact(tokens)} tokens`,
    s.cost_usd !== undefined ? `$${s.cost_usd.toFixed(4)}` : undefined,
    `concurrency ${s.concurrency}`,
    s.status !== 'running' ? `${s.status}${s.stop_reason && s.stop_reason !== s.status ? ` (${s.stop_reason})` : ''}` : undefined,
  ];
  return parts.filter(Boolean).join(' · ');
}

function duration(seconds: number): string {
  if (seconds < 60) return `${seconds}s`;
  const m = Math.floor(seconds / 60);
  return m < 60 ? `${m}m${String(seconds % 60).padStart(2, '0')}s` : `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

function compact(n: number): string {
  return n >= 1e6 ? `${(n / 1e6).toFixed(1)}M` : n >= 1e3 ? `${(n / 1e3).toFixed(1)}k` : String(n);
}
