import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const serverJs = fileURLToPath(new URL('../../dist/server.js', import.meta.url));

export interface RawMessage {
  jsonrpc?: string;
  id?: string | number | null;
  result?: Record<string, unknown>;
  error?: { code: number; message: string };
  method?: string;
}

/** dist/server.js driven byte by byte: lines written as given, every line it prints parsed and kept. */
export class RawStdioServer {
  readonly child: ChildProcess;
  readonly messages: RawMessage[] = [];
  stderr = '';
  exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  private pending = '';
  private waiters: (() => void)[] = [];

  constructor(env: NodeJS.ProcessEnv) {
    this.child = spawn(process.execPath, [serverJs], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stdout?.on('data', (chunk: Buffer) => {
      this.pending += chunk.toString('utf8');
      let i: number;
      while ((i = this.pending.indexOf('\n')) >= 0) {
        const line = this.pending.slice(0, i);
        this.pending = this.pending.slice(i + 1);
        if (line.trim()) this.messages.push(JSON.parse(line) as RawMessage);
      }
      this.wake();
    });
    this.child.stderr?.on('data', (chunk: Buffer) => (this.stderr += chunk.toString('utf8')));
    this.child.on('exit', (code, signal) => {
      this.exit = { code, signal };
      this.wake();
    });
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  write(text: string | Buffer): Promise<void> {
    return new Promise((resolve, reject) => this.child.stdin?.write(text, (error) => (error ? reject(error) : resolve())));
  }

  send(message: unknown): Promise<void> {
    return this.write(JSON.stringify(message) + '\n');
  }

  /** Waits for a message matching `test`, failing when the process exits or time runs out. */
  async waitFor(test: (m: RawMessage) => boolean, timeoutMs = 10_000): Promise<RawMessage> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.messages.find(test);
      if (found) return found;
      if (this.exit) throw new Error(`server exited (${JSON.stringify(this.exit)}); stderr: ${this.stderr.slice(-2000)}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no matching message within ${timeoutMs} ms; stderr: ${this.stderr.slice(-2000)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 250));
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  reply(id: string | number | null, timeoutMs?: number): Promise<RawMessage> {
    return this.waitFor((m) => m.id === id && (m.result !== undefined || m.error !== undefined), timeoutMs);
  }

  async initialize(): Promise<void> {
    await this.send({ jsonrpc: '2.0', id: 'init', method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } });
    await this.reply('init');
    await this.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
  }

  async stop(): Promise<void> {
    if (this.exit) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.kill('SIGTERM');
    await exited;
  }
}
