import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startCli, runCli } from './helpers/cli.js';
import { tempDir } from './helpers/fixtures.js';
import { RawStdioServer } from './helpers/raw-stdio.js';
import { manifestOf, slowModelForSignals, until, xstest } from './helpers/signal-runs.js';

const model = slowModelForSignals();

describe('a run stopped by a signal is interrupted, in the CLI and in the stdio server alike, and resumes', () => {
  it('aidsafe-mcp run, SIGTERM', async () => {
    const data = tempDir();
    try {
      const env = { OPENAI_BASE_URL: model.url, AIDSAFE_MODEL: 'scripted-model', AIDSAFE_DATA_DIR: data.path };
      const args = ['run', '--input', xstest, '--limit', '6', '--concurrency', '2', '--run-id', 'by-signal'];
      const before = model.requests.length;
      const { child, done } = startCli(args, env);
      await until(() => model.requests.length > before);
      child.kill('SIGTERM');
      const stopped = await done;
      expect(stopped.code, stopped.stderr).toBe(130);
      expect(JSON.parse(stopped.stdout)).toMatchObject({ run_id: 'by-signal', status: 'interrupted', stop_reason: 'interrupted: SIGTERM' });
      expect(stopped.stderr).toContain('run by-signal is interrupted');
      expect(manifestOf(data.path, 'by-signal')).toMatchObject({ status: 'interrupted', stop_reason: 'interrupted: SIGTERM' });

      const again = await runCli(args, env);
      expect(again.code, again.stderr).toBe(0);
      expect(JSON.parse(again.stdout)).toMatchObject({ run_id: 'by-signal', status: 'done', done: 6, failed: 0 });
    } finally {
      data.remove();
    }
  }, 60_000);

  it('the stdio server, SIGTERM', async () => {
    const data = tempDir();
    mkdirSync(join(data.path, 'inputs'));
    copyFileSync(xstest, join(data.path, 'inputs', 'xstest.jsonl'));
    const env = { OPENAI_BASE_URL: model.url, AIDSAFE_MODEL: 'scripted-model', AIDSAFE_DATA_DIR: data.path };
    const start = async () => {
      const server = new RawStdioServer(env);
      await server.initialize();
      return server;
    };
    try {
      const first = await start();
      const before = model.requests.length;
      await first.send({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'start_batch', arguments: { input_path: 'xstest.jsonl', limit: 6, concurrency: 2, run_id: 'served' } } });
      await first.reply(1);
      await until(() => model.requests.length > before);
      await first.stop(); // SIGTERM
      expect(manifestOf(data.path, 'served')).toMatchObject({ status: 'interrupted', stop_reason: 'interrupted: SIGTERM' });

      const second = await start();
      try {
        await second.send({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'start_batch', arguments: { input_path: 'xstest.jsonl', limit: 6, concurrency: 2, run_id: 'served', wait: true } } });
        const resumed = await second.reply(2, 30_000);
        expect(resumed.result?.structuredContent).toMatchObject({ status: 'done', final: { done: 6, total: 6 } });
      } finally {
        await second.stop();
      }
    } finally {
      data.remove();
    }
  }, 60_000);
});
