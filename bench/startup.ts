import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const builtServer = fileURLToPath(new URL('../../dist/server.js', import.meta.url));

export interface StartupFigures {
  runs: number;
  /** Spawn of `node dist/server.js` to the `initialize` reply on its stdout. */
  initialize_ms_median: number;
  initialize_ms_min: number;
  initialize_ms_max: number;
  /** CPU time (user + system) the server had used when it answered `initialize`: less moved by other load on the machine. */
  initialize_cpu_ms_median?: number;
  /** Spawn to the reply of a `tools/list` sent right after `initialize`. */
  tools_list_ms_median: number;
}

const INITIALIZE = { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'bench', version: '1' } } };
const INITIALIZED = { jsonrpc: '2.0', method: 'notifications/initialized' };
const TOOLS_LIST = { jsonrpc: '2.0', id: 2, method: 'tools/list' };

/**
 * One start of the stdio server as an MCP client sees it: the request is written at once (a client
 * does not wait for the process to be ready), and the clock stops at each reply line.
 */
async function startOnce(serverJs: string, dataDir: string): Promise<{ initialize: number; toolsList: number; cpu?: number }> {
  const t0 = performance.now();
  const child = spawn(process.execPath, [serverJs], {
    env: { PATH: process.env.PATH ?? '', AIDSAFE_DATA_DIR: dataDir, OPENAI_BASE_URL: 'http://127.0.0.1:9/v1', AIDSAFE_MODEL: 'bench-model', AIDSAFE_LOG_LEVEL: 'warning' },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  child.stdin.write(JSON.stringify(INITIALIZE) + '\n');
  const times: Record<number, number> = {};
  let cpu: number | undefined;
  let pending = '';
  try {
    await new Promise<void>((resolve, reject) => {
      child.on('exit', (code) => reject(new Error(`server exited with ${code} before answering`)));
      child.stdout.on('data', (chunk: Buffer) => {
        pending += chunk.toString('utf8');
        let i: number;
        while ((i = pending.indexOf('\n')) >= 0) {
          const message = JSON.parse(pending.slice(0, i)) as { id?: number };
          pending = pending.slice(i + 1);
          if (message.id === 1 && times[1] === undefined) {
            times[1] = performance.now() - t0;
            cpu = cpuMs(child.pid);
            child.stdin.write(JSON.stringify(INITIALIZED) + '\n' + JSON.stringify(TOOLS_LIST) + '\n');
          } else if (message.id === 2) {
            times[2] = performance.now() - t0;
            resolve();
          }
        }
      });
    });
  } finally {
    child.removeAllListeners('exit');
    child.kill();
  }
  return { initialize: times[1]!, toolsList: times[2]!, cpu };
}

/** User + system CPU of a running process from /proc (Linux), in ms; undefined elsewhere. */
function cpuMs(pid: number | undefined): number | undefined {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime, stime in USER_HZ ticks (100 on Linux)
  } catch {
    return undefined;
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

/** Starts the built server (or another build's, to compare) `runs` times, one after another, on an empty data folder. */
export async function benchStartup(runs: number, serverJs = builtServer): Promise<StartupFigures> {
  if (!existsSync(serverJs)) throw new Error(`${serverJs} is missing: run \`npm run build\` first`);
  const dataDir = mkdtempSync(join(tmpdir(), 'aidsafe-startup-'));
  try {
    await startOnce(serverJs, dataDir); // warms the file system cache, as any second start finds it
    const initialize: number[] = [];
    const toolsList: number[] = [];
    const cpu: number[] = [];
    for (let k = 0; k < runs; k++) {
      const t = await startOnce(serverJs, dataDir);
      initialize.push(t.initialize);
      toolsList.push(t.toolsList);
      if (t.cpu !== undefined) cpu.push(t.cpu);
    }
    return {
      runs,
      initialize_ms_median: Math.round(median(initialize)),
      initialize_ms_min: Math.round(Math.min(...initialize)),
      initialize_ms_max: Math.round(Math.max(...initialize)),
      ...(cpu.length === runs ? { initialize_cpu_ms_median: Math.round(median(cpu)) } : {}),
      tools_list_ms_median: Math.round(median(toolsList)),
    };
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}
