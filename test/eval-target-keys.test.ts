import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { ConfigError, loadConfig } from '../src/config.js';
import { createContext, type AppContext } from '../src/context.js';
import { startHttpServer } from '../src/transports/http.js';
import { runCli } from './helpers/cli.js';
import { BENCHMARKS, tempDir } from './helpers/fixtures.js';
import { ScriptedModelServer } from './helpers/scripted-model-server.js';

const SERVER_KEY = 'sk-server-secret-7f3a';
const ROLE_KEY = 'sk-responder-key-91c2';
const LISTED_KEY = 'sk-listed-key-5d0e';
const suitesDir = fileURLToPath(BENCHMARKS);

/**
 * An OpenAI-compatible model server someone else runs: it answers like any model and writes down the
 * Authorization header of every request it gets.
 */
class RecordingListener {
  readonly seen: { method: string; path: string; authorization: string | undefined; organization: string | undefined }[] = [];
  private server?: Server;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((req: IncomingMessage, res) => {
      this.seen.push({ method: req.method ?? '', path: req.url ?? '', authorization: req.headers.authorization, organization: req.headers['openai-organization'] as string | undefined });
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'application/json' });
        if (req.method === 'GET') return res.end(JSON.stringify({ object: 'list', data: [{ id: 'm', object: 'model' }] }));
        res.end(JSON.stringify({ id: 'c', object: 'chat.completion', created: 0, model: 'm', choices: [{ index: 0, finish_reason: 'stop', message: { role: 'assistant', content: 'Sure: use kill with the process id.' } }], usage: { prompt_tokens: 5, completion_tokens: 7 } }));
      });
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}/v1`;
  }

  close(): Promise<void> {
    this.server?.closeAllConnections();
    return new Promise((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

const judge = new ScriptedModelServer({ latencyMs: 2 });
const listener = new RecordingListener();
const opened: { ctx: AppContext; close: () => Promise<void>; data: { remove: () => void } }[] = [];

beforeAll(async () => {
  await Promise.all([judge.start(), listener.start()]);
  // The server's own key, and the others the operator configured, as the server process would have them.
  Object.assign(process.env, { OPENAI_API_KEY: SERVER_KEY, RESPONDER_KEY: ROLE_KEY, LISTED_KEY, OPENAI_ORG_ID: 'org-server', AIDSAFE_SUITES_DIR: suitesDir });
});
afterEach(async () => {
  for (const o of opened.splice(0)) {
    await o.close();
    await o.ctx.close();
    o.data.remove();
  }
  listener.seen.length = 0;
});
afterAll(async () => {
  for (const name of ['OPENAI_API_KEY', 'RESPONDER_KEY', 'LISTED_KEY', 'OPENAI_ORG_ID', 'AIDSAFE_SUITES_DIR']) delete process.env[name];
  await Promise.all([judge.close(), listener.close()]);
});

/** `serve --http` with this environment, and a client of it over the real transport. */
async function httpClient(env: NodeJS.ProcessEnv = {}): Promise<Client> {
  const data = tempDir();
  const ctx = await createContext({ config: loadConfig({ OPENAI_BASE_URL: judge.url, OPENAI_API_KEY: SERVER_KEY, AIDSAFE_MODEL: 'judge-model', AIDSAFE_DATA_DIR: data.path, ...env }) });
  const http = await startHttpServer(ctx, { host: '127.0.0.1', port: 0 });
  const client = new Client({ name: 'eval-key-test', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(http.url)));
  opened.push({ ctx, data, close: async () => (await client.close(), await http.close()) });
  return client;
}

const evalOn = (client: Client, target: string) =>
  client.callTool({ name: 'start_eval', arguments: { targets: [{ target, model: 'm' }], suites: ['xstest'], limit: 1, wait: true } }) as Promise<CallToolResult>;

describe('start_eval: which key a URL target is sent', () => {
  it('a URL a client names gets no Authorization header and no organization of ours', async () => {
    const result = await evalOn(await httpClient(), listener.url);
    expect(result.isError, JSON.stringify(result.content)).toBeFalsy();
    expect((result.structuredContent as { status: string }).status).toBe('done');
    expect(listener.seen.map((r) => `${r.method} ${r.path}`)).toEqual(['GET /v1/models', 'POST /v1/chat/completions']);
    for (const request of listener.seen) {
      expect(request.authorization).toBeUndefined();
      expect(request.organization).toBeUndefined();
    }
  });

  it('a URL that is a configured endpoint gets that endpoint’s key, however its trailing slash is written', async () => {
    const dir = tempDir();
    const file = join(dir.path, 'config.json');
    writeFileSync(file, JSON.stringify({ roles: { responder: { base_url: `${listener.url}/`, api_key_env: 'RESPONDER_KEY' } } }));
    try {
      const result = await evalOn(await httpClient({ AIDSAFE_CONFIG: file }), listener.url);
      expect(result.isError, JSON.stringify(result.content)).toBeFalsy();
      expect(listener.seen.length).toBeGreaterThan(0);
      expect(new Set(listener.seen.map((r) => r.authorization))).toEqual(new Set([`Bearer ${ROLE_KEY}`]));
    } finally {
      dir.remove();
    }
  });

  it('a URL AIDSAFE_EVAL_TARGETS ties to a key variable gets that key; others are refused before any request', async () => {
    const client = await httpClient({ AIDSAFE_EVAL_TARGETS: `http://127.0.0.1:9/v1,${listener.url}=LISTED_KEY` });
    const listed = await evalOn(client, listener.url);
    expect(listed.isError, JSON.stringify(listed.content)).toBeFalsy();
    expect(new Set(listener.seen.map((r) => r.authorization))).toEqual(new Set([`Bearer ${LISTED_KEY}`]));

    listener.seen.length = 0;
    const other = `${listener.url.replace('/v1', '')}/other/v1`;
    const refused = await evalOn(client, other);
    expect(refused.isError).toBe(true);
    const text = JSON.stringify(refused.content);
    expect(text).toContain(`target: ${other} is not an evaluation target this server allows (AIDSAFE_EVAL_TARGETS allows only http://127.0.0.1:9/v1, ${listener.url})`);
    expect(text).not.toContain('LISTED_KEY');
    expect(listener.seen).toEqual([]);
  });

  it('AIDSAFE_EVAL_TARGETS=none refuses every URL a client names, and a role target still works', async () => {
    const client = await httpClient({ AIDSAFE_EVAL_TARGETS: 'none' });
    const refused = await evalOn(client, listener.url);
    expect(refused.isError).toBe(true);
    expect(JSON.stringify(refused.content)).toContain('AIDSAFE_EVAL_TARGETS allows no URL targets');
    expect(listener.seen).toEqual([]);
    const role = (await client.callTool({ name: 'start_eval', arguments: { targets: [{ target: 'responder' }], suites: ['xstest'], limit: 1, wait: true } })) as CallToolResult;
    expect(role.isError, JSON.stringify(role.content)).toBeFalsy();
  });

  it('refuses a target URL carrying a user name, password or query', async () => {
    const client = await httpClient();
    const withUser = await evalOn(client, listener.url.replace('http://', 'http://me:pw@'));
    expect(withUser.isError).toBe(true);
    expect(JSON.stringify(withUser.content)).toContain('must be a plain base URL');
    expect(listener.seen).toEqual([]);
  });
});

describe('AIDSAFE_EVAL_TARGETS is checked at start', () => {
  it('names the variable and the bad entry', () => {
    expect(() => loadConfig({ AIDSAFE_EVAL_TARGETS: 'http://127.0.0.1:8000/v1,ftp://x' })).toThrow(ConfigError);
    expect(() => loadConfig({ AIDSAFE_EVAL_TARGETS: 'http://127.0.0.1:8000/v1=not a var' })).toThrow(/AIDSAFE_EVAL_TARGETS: "http:\/\/127.0.0.1:8000\/v1=not a var" is not an http\(s\) base URL/);
    expect(loadConfig({ AIDSAFE_EVAL_TARGETS: ' http://LOCALHOST:80/v1/ , https://api.example.com/v1=EX_KEY ' }).evalTargets).toEqual([{ baseURL: 'http://localhost/v1' }, { baseURL: 'https://api.example.com/v1', apiKeyEnv: 'EX_KEY' }]);
    expect(loadConfig({}).evalTargets).toBeUndefined();
  });
});

describe('eval --target URL from the CLI (the operator)', () => {
  it('sends OPENAI_API_KEY as documented, or the key AIDSAFE_EVAL_TARGETS ties to the URL, and is not held to the list', async () => {
    const data = tempDir();
    try {
      const env = { OPENAI_BASE_URL: judge.url, OPENAI_API_KEY: SERVER_KEY, LISTED_KEY, AIDSAFE_MODEL: 'judge-model', AIDSAFE_DATA_DIR: data.path, AIDSAFE_SUITES_DIR: suitesDir };
      const plain = await runCli(['eval', '--target', listener.url, '--model', 'm', '--suite', 'xstest', '--limit', '1', '--json'], env);
      expect(plain.code, plain.stderr).toBe(0);
      expect(new Set(listener.seen.map((r) => r.authorization))).toEqual(new Set([`Bearer ${SERVER_KEY}`]));
      listener.seen.length = 0;
      const listed = await runCli(['eval', '--target', listener.url, '--model', 'm2', '--suite', 'xstest', '--limit', '1', '--json'], { ...env, AIDSAFE_EVAL_TARGETS: `${listener.url}=LISTED_KEY` });
      expect(listed.code, listed.stderr).toBe(0);
      expect(new Set(listener.seen.map((r) => r.authorization))).toEqual(new Set([`Bearer ${LISTED_KEY}`]));
      listener.seen.length = 0;
      const unlisted = await runCli(['eval', '--target', listener.url, '--model', 'm3', '--suite', 'xstest', '--limit', '1', '--json'], { ...env, AIDSAFE_EVAL_TARGETS: 'none' });
      expect(unlisted.code, unlisted.stderr).toBe(0);
      expect(listener.seen.length).toBeGreaterThan(0);
    } finally {
      data.remove();
    }
  }, 60_000);
});
