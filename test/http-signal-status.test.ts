import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { describe, expect, it } from 'vitest';
import { startCli } from './helpers/cli.js';
import { tempDir } from './helpers/fixtures.js';
import { manifestOf, slowModelForSignals, until, xstest } from './helpers/signal-runs.js';

const model = slowModelForSignals();

/** Starts `aidsafe-mcp serve --http` on a free loopback port; resolves with its URL once it listens. */
async function serveHttp(env: NodeJS.ProcessEnv) {
  const served = startCli(['serve', '--http', '--port', '0'], env);
  let stderr = '';
  served.child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
  await until(() => /on (http:\/\/\S+\/mcp)/.test(stderr) || served.child.exitCode !== null);
  const url = /on (http:\/\/\S+\/mcp)/.exec(stderr)?.[1];
  if (!url) throw new Error(`serve --http did not start: ${stderr}`);
  return { ...served, url };
}

async function connect(url: string): Promise<Client> {
  const client = new Client({ name: 'http-signal-test', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(url)));
  return client;
}

describe('a run started over HTTP and stopped by a signal is saved as interrupted, and resumes', () => {
  for (const [signal, code] of [['SIGTERM', 143], ['SIGINT', 130]] as const) {
    it(`serve --http, ${signal}`, async () => {
      const data = tempDir();
      mkdirSync(join(data.path, 'inputs'));
      copyFileSync(xstest, join(data.path, 'inputs', 'xstest.jsonl'));
      const env = { OPENAI_BASE_URL: model.url, AIDSAFE_MODEL: 'scripted-model', AIDSAFE_DATA_DIR: data.path };
      const args = { input_path: 'xstest.jsonl', limit: 6, concurrency: 2, run_id: 'served-over-http' };
      try {
        const first = await serveHttp(env);
        const client = await connect(first.url);
        const before = model.requests.length;
        const started = (await client.callTool({ name: 'start_batch', arguments: args })) as CallToolResult;
        expect(started.isError, JSON.stringify(started.content)).toBeFalsy();
        await until(() => model.requests.length > before);
        first.child.kill(signal);
        const stopped = await first.done;
        await client.close().catch(() => undefined);
        expect(stopped.code, stopped.stderr).toBe(code);
        expect(manifestOf(data.path, 'served-over-http')).toMatchObject({ status: 'interrupted', stop_reason: `interrupted: ${signal}` });

        const second = await serveHttp(env);
        try {
          const again = await connect(second.url);
          const resumed = (await again.callTool({ name: 'start_batch', arguments: { ...args, wait: true } }, undefined, { timeout: 30_000 })) as CallToolResult;
          expect(resumed.structuredContent).toMatchObject({ status: 'done', final: { done: 6, total: 6 } });
          await again.close();
        } finally {
          second.child.kill('SIGTERM');
          await second.done;
        }
      } finally {
        data.remove();
      }
    }, 60_000);
  }
});
