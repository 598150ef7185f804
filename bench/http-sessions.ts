// Memory of `aidsafe-mcp serve --http` (the built dist/cli.js, as users run it) after many clients
// initialize a session and never come back: uncapped as before (AIDSAFE_HTTP_MAX_SESSIONS at its
// 10,000 maximum) and with the default cap of 64. Resident memory is read from /proc (Linux).
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const cliJs = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));

export interface SessionFigures {
  max_sessions: number;
  initializes: number;
  rss_mb_start: number;
  rss_mb_end: number;
  seconds: number;
}

const rssMb = (pid: number) => Math.round(Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024);

export async function measure(maxSessions: number, initializes: number): Promise<SessionFigures> {
  const dir = mkdtempSync(join(tmpdir(), 'aidsafe-bench-http-'));
  const child = spawn(process.execPath, [cliJs, 'serve', '--http', '--port', '0'], {
    env: { PATH: process.env.PATH ?? '', OPENAI_BASE_URL: 'http://127.0.0.1:9/v1', AIDSAFE_DATA_DIR: dir, AIDSAFE_HTTP_MAX_SESSIONS: String(maxSessions) },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  try {
    const url = await new Promise<string>((resolve, reject) => {
      let err = '';
      child.stderr.on('data', (c: Buffer) => {
        err += c.toString();
        const m = /on (http:\/\/\S+\/mcp)/.exec(err);
        if (m?.[1]) resolve(m[1]);
      });
      child.once('exit', () => reject(new Error(`server exited: ${err}`)));
    });
    await new Promise((r) => setTimeout(r, 500));
    const start = rssMb(child.pid!);
    const began = Date.now();
    const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'bench', version: '1' } } });
    for (let i = 0; i < initializes; i++) {
      const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, body });
      await res.text();
    }
    const seconds = (Date.now() - began) / 1000;
    await new Promise((r) => setTimeout(r, 1_000));
    return { max_sessions: maxSessions, initializes, rss_mb_start: start, rss_mb_end: rssMb(child.pid!), seconds: Math.round(seconds * 10) / 10 };
  } finally {
    child.kill();
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function benchHttpSessions(initializes: number): Promise<SessionFigures[]> {
  if (!existsSync(cliJs)) throw new Error('dist/cli.js is missing: run `npm run build` first');
  return [await measure(10_000, initializes), await measure(64, initializes)];
}
