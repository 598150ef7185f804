import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { ListRootsRequestSchema, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { ConfigError, loadConfig } from '../src/config.js';
import { createContext } from '../src/context.js';
import { startHttpServer } from '../src/transports/http.js';
import { tempDir } from './helpers/fixtures.js';
import { serverJs } from './helpers/raw-stdio.js';
import { ScriptedModelServer } from './helpers/scripted-model-server.js';

const model = new ScriptedModelServer({ latencyMs: 1 });
const outside = tempDir('aidsafe-outside-');
const secretFile = join(outside.path, 'secret.csv');
const SECRET_ROW = 'prompt\nthe-service-account-token-8c1f\n';
const cleanups: (() => Promise<void> | void)[] = [];

beforeAll(async () => {
  await model.start();
  writeFileSync(secretFile, SECRET_ROW);
});
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.();
});
afterAll(async () => {
  await model.close();
  outside.remove();
});

/** A real client that offers roots and answers roots/list with file:/// — a folder on its own machine, whatever the server makes of it. */
async function clientWithRootOfEverything(transport: Transport): Promise<Client> {
  const client = new Client({ name: 'roots-everywhere', version: '1.0.0' }, { capabilities: { roots: {} } });
  client.setRequestHandler(ListRootsRequestSchema, () => ({ roots: [{ uri: 'file:///', name: 'everything' }] }));
  await client.connect(transport);
  cleanups.push(() => client.close());
  return client;
}

async function overHttp(env: NodeJS.ProcessEnv = {}): Promise<{ client: Client; dataDir: string }> {
  const data = tempDir();
  const ctx = await createContext({ config: loadConfig({ OPENAI_BASE_URL: model.url, AIDSAFE_MODEL: 'scripted-model', AIDSAFE_DATA_DIR: data.path, ...env }) });
  const http = await startHttpServer(ctx, { host: '127.0.0.1', port: 0 });
  cleanups.push(async () => {
    await http.close();
    await ctx.close();
    data.remove();
  });
  return { client: await clientWithRootOfEverything(new StreamableHTTPClientTransport(new URL(http.url))), dataDir: data.path };
}

const startBatch = (client: Client) => client.callTool({ name: 'start_batch', arguments: { input_path: secretFile, wait: true } }) as Promise<CallToolResult>;
const textOf = (result: CallToolResult) => result.content.map((c) => (c.type === 'text' ? c.text : '')).join('');

describe('client roots over serve --http', () => {
  it('are ignored: a file outside the allowed folders is refused, the refusal says why, and nothing of it is stored', async () => {
    const { client } = await overHttp();
    const refused = await startBatch(client);
    expect(refused.isError).toBe(true);
    const text = textOf(refused);
    expect(text).toMatch(/^input_path: ".*secret\.csv" is outside the allowed folders; allowed folders: /);
    expect(text).toContain('over HTTP the roots a client declares are not used as folders of this server unless it is started with AIDSAFE_HTTP_TRUST_ROOTS=1');
    expect(text).not.toContain('service-account-token');
    const records = (await client.callTool({ name: 'list_records', arguments: {} })) as CallToolResult;
    expect(JSON.stringify(records)).not.toContain('service-account-token');
    // /etc/passwd is refused the same way.
    const passwd = (await client.callTool({ name: 'start_batch', arguments: { input_path: '/etc/passwd', column: 'x' } })) as CallToolResult;
    expect(textOf(passwd)).toMatch(/^input_path: "\/etc\/passwd" is outside the allowed folders/);
  });

  it('are used when the operator trusts them with AIDSAFE_HTTP_TRUST_ROOTS=1', async () => {
    const { client } = await overHttp({ AIDSAFE_HTTP_TRUST_ROOTS: '1' });
    const started = await startBatch(client);
    expect(started.isError, textOf(started)).toBeFalsy();
    expect(started.structuredContent).toMatchObject({ status: 'done', final: { done: 1, total: 1 } });
  });

  it('AIDSAFE_HTTP_TRUST_ROOTS takes 1 or 0 only', () => {
    expect(loadConfig({ AIDSAFE_HTTP_TRUST_ROOTS: '0' }).httpTrustRoots).toBe(false);
    expect(loadConfig({}).httpTrustRoots).toBe(false);
    expect(() => loadConfig({ AIDSAFE_HTTP_TRUST_ROOTS: 'yes' })).toThrow(ConfigError);
    expect(() => loadConfig({ AIDSAFE_HTTP_TRUST_ROOTS: 'yes' })).toThrow('AIDSAFE_HTTP_TRUST_ROOTS must be 1 (on) or 0 (off, the default); got "yes"');
  });
});

describe('client roots over stdio', () => {
  it('are still folders the client may read: client and server share a machine and a user', async () => {
    if (!existsSync(serverJs)) throw new Error('dist/server.js is missing: run `npm run build` first (npm test does it)');
    const data = tempDir();
    cleanups.push(() => data.remove());
    const client = await clientWithRootOfEverything(
      new StdioClientTransport({ command: process.execPath, args: [serverJs], env: { PATH: process.env.PATH ?? '', OPENAI_BASE_URL: model.url, AIDSAFE_MODEL: 'scripted-model', AIDSAFE_DATA_DIR: data.path }, stderr: 'pipe' }),
    );
    const started = await startBatch(client);
    expect(started.isError, textOf(started)).toBeFalsy();
    expect(started.structuredContent).toMatchObject({ status: 'done', final: { done: 1, total: 1 } });
  });
});
