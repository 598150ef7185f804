import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { ListRootsRequestSchema, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { createServer } from '../src/server.js';
import { connectClient, contextFor, BENCHMARKS, tempDir } from './helpers/fixtures.js';
import { ScriptedModelServer } from './helpers/scripted-model-server.js';

const data = tempDir();
const project = tempDir();
const rootDir = tempDir();
const model = new ScriptedModelServer({ latencyMs: 1 });
const xstest = fileURLToPath(new URL('xstest.jsonl', BENCHMARKS));
const SECRET = 'sk-input-access-secret-0123456789';
const closers: (() => Promise<void>)[] = [];

beforeAll(async () => {
  await model.start();
  mkdirSync(join(data.path, 'inputs'));
  copyFileSync(xstest, join(data.path, 'inputs', 'xstest.jsonl'));
  copyFileSync(xstest, join(rootDir.path, 'prompts.jsonl'));
  writeFileSync(join(project.path, '.env'), `OPENAI_API_KEY=${SECRET}\nOTHER=1\n`);
  copyFileSync(xstest, join(project.path, 'prompts.jsonl'));
});
afterEach(async () => {
  while (closers.length) await closers.pop()?.();
});
afterAll(async () => {
  await model.close();
  for (const dir of [data, project, rootDir]) dir.remove();
});

/** A real MCP client; with `roots`, it offers the roots capability and lists these folders. */
async function connect(roots?: string[]): Promise<Client> {
  const ctx = await contextFor(model.url, data.path, { OPENAI_API_KEY: SECRET });
  if (!roots) {
    const { client, close } = await connectClient(ctx);
    closers.push(close);
    return client;
  }
  const server = createServer(ctx);
  const [clientTransport, serverTransport] = InMemoryTransport.createLinkedPair();
  await server.connect(serverTransport);
  const client = new Client({ name: 'roots-client', version: '1.0.0' }, { capabilities: { roots: {} } });
  client.setRequestHandler(ListRootsRequestSchema, () => ({ roots: roots.map((dir) => ({ uri: pathToFileURL(dir).href, name: dir })) }));
  await client.connect(clientTransport);
  closers.push(async () => {
    await client.close();
    await server.close();
  });
  return client;
}

async function startBatch(client: Client, args: Record<string, unknown>): Promise<{ isError: boolean; text: string; result: CallToolResult }> {
  const result = (await client.callTool({ name: 'start_batch', arguments: args })) as CallToolResult;
  const text = result.content.map((c) => (c.type === 'text' ? c.text : '')).join('');
  return { isError: result.isError === true, text, result };
}

describe('start_batch reads prompt files only from allowed folders', () => {
  it('refuses /proc/self/environ, and never quotes it, even with a column that does not exist or a root of /', async () => {
    for (const client of [await connect(), await connect(['/'])]) {
      const refused = await startBatch(client, { input_path: '/proc/self/environ', column: 'zzz' });
      expect(refused.isError).toBe(true);
      expect(refused.text).toMatch(/^input_path: /);
      expect(refused.text).not.toContain('PATH=');
      expect(refused.text).not.toContain(SECRET);
    }
    const viaRoot = await startBatch(await connect(['/']), { input_path: '/proc/self/environ', column: 'zzz' });
    expect(viaRoot.text).toMatch(/is under \/proc, \/sys or \/dev, which are never read/);
  });

  it('refuses /etc/passwd to a server started in /, and sends nothing to the model', async () => {
    const before = model.requests.length;
    const cwd = process.cwd();
    process.chdir('/');
    const refused = await startBatch(await connect(), { input_path: '/etc/passwd', wait: true }).finally(() => process.chdir(cwd));
    expect(refused.isError).toBe(true);
    expect(refused.text).toMatch(/input_path: "\/etc\/passwd" is outside the allowed folders/);
    expect(refused.text).not.toContain('root:');
    expect(model.requests.length).toBe(before);
  });

  it('does not read from the working folder: a project .env stays unread', async () => {
    const cwd = process.cwd();
    process.chdir(project.path);
    try {
      const client = await connect();
      for (const path of ['.env', join(project.path, '.env'), 'prompts.jsonl', join(project.path, 'prompts.jsonl')]) {
        const refused = await startBatch(client, { input_path: path, column: 'zzz', wait: true });
        expect(refused.isError, path).toBe(true);
        // a relative path is looked for in the data folder's inputs/, not in the working folder
        expect(refused.text).toMatch(path.startsWith('/') ? /is outside the allowed folders/ : /does not exist/);
        expect(refused.text).not.toContain(SECRET);
      }
    } finally {
      process.chdir(cwd);
    }
  });

  it('refuses a link from an allowed folder to a system file, and anything that is not a regular file', async () => {
    const link = join(rootDir.path, 'environ.csv');
    symlinkSync('/proc/self/environ', link);
    const fifo = join(rootDir.path, 'pipe.csv');
    execFileSync('mkfifo', [fifo]);
    mkdirSync(join(rootDir.path, 'folder.csv'));
    const client = await connect([rootDir.path]);
    expect((await startBatch(client, { input_path: link })).text).toMatch(/is outside the allowed folders/);
    expect((await startBatch(client, { input_path: fifo })).text).toMatch(/is not a regular file/);
    expect((await startBatch(client, { input_path: join(rootDir.path, 'folder.csv') })).text).toMatch(/is not a regular file/);
  });

  it('reads a file in the data folder’s inputs/ and in a folder the client declared as a root', async () => {
    const inInputs = await startBatch(await connect(), { input_path: join(data.path, 'inputs', 'xstest.jsonl'), limit: 2, wait: true });
    expect(inInputs.isError, inInputs.text).toBe(false);
    expect(inInputs.result.structuredContent).toMatchObject({ status: 'done', final: { done: 2, total: 2 } });
    const relative = await startBatch(await connect(), { input_path: 'xstest.jsonl', limit: 2, wait: true });
    expect(relative.result.structuredContent).toMatchObject({ run_id: (inInputs.result.structuredContent as { run_id: string }).run_id, status: 'done' });
    const client = await connect([rootDir.path]);
    const inRoot = await startBatch(client, { input_path: join(rootDir.path, 'prompts.jsonl'), limit: 2, wait: true, run_id: 'from-root' });
    expect(inRoot.isError, inRoot.text).toBe(false);
    expect(inRoot.result.structuredContent).toMatchObject({ status: 'done', final: { done: 2, total: 2 } });
    // the same file is refused to a client that declared no roots
    expect((await startBatch(await connect(), { input_path: join(rootDir.path, 'prompts.jsonl'), limit: 2 })).text).toMatch(/is outside the allowed folders/);
  });
});
