import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { loadConfig } from '../src/config.js';
import { preflight, rolesOfRun, serversOf } from '../src/llm/preflight.js';
import { runCli } from './helpers/cli.js';
import { BENCHMARKS, connectClient, contextFor, tempDir } from './helpers/fixtures.js';
import { ScriptedModelServer } from './helpers/scripted-model-server.js';

const xstest = fileURLToPath(new URL('xstest.jsonl', BENCHMARKS));
const data = tempDir();
const model = new ScriptedModelServer();
/** A web server that is no model server: 404 to every path, as a wrong path on a real host answers. */
let notFound: Server;
let notFoundUrl = '';
const WRONG_PORT = 'http://127.0.0.1:1/v1';

beforeAll(async () => {
  await model.start();
  notFound = createServer((_req, res) => res.writeHead(404, { 'content-type': 'text/plain' }).end('404 page not found'));
  await new Promise<void>((r) => notFound.listen(0, '127.0.0.1', r));
  notFoundUrl = `http://127.0.0.1:${(notFound.address() as AddressInfo).port}/api`;
});
afterAll(async () => {
  await model.close();
  await new Promise((r) => notFound.close(r));
  data.remove();
});

const runsIn = (dir: string) => (existsSync(join(dir, 'runs')) ? readdirSync(join(dir, 'runs')) : []);

describe('endpoint preflight before a run is created', () => {
  it('run: a wrong port fails in seconds, naming the URL and OPENAI_BASE_URL, and creates no run', async () => {
    const dir = join(data.path, 'wrong-port');
    const started = Date.now();
    const result = await runCli(['run', '--input', xstest, '--limit', '5'], { OPENAI_BASE_URL: WRONG_PORT, AIDSAFE_MODEL: 'm', AIDSAFE_DATA_DIR: dir });
    expect(Date.now() - started).toBeLessThan(8_000);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain(`cannot reach ${WRONG_PORT} (set by OPENAI_BASE_URL)`);
    expect(result.stderr).toContain('is the model server running and the URL right');
    expect(result.stdout).toBe('');
    expect(runsIn(dir)).toEqual([]);
  });

  it('run: a closed port gives the system\'s reason', async () => {
    const gone = await new ScriptedModelServer().start();
    await gone.close();
    const dir = join(data.path, 'closed-port');
    const result = await runCli(['run', '--input', xstest, '--limit', '5'], { OPENAI_BASE_URL: gone.url, AIDSAFE_MODEL: 'm', AIDSAFE_DATA_DIR: dir });
    expect(result.stderr).toContain(`cannot reach ${gone.url} (set by OPENAI_BASE_URL) for intents, initial_cot, deliberator 1, deliberator 2, refiner, responder (model m): ECONNREFUSED`);
    expect(runsIn(dir)).toEqual([]);
  });

  it('run: a wrong path says the server answers 404 there, with its answer', async () => {
    const dir = join(data.path, 'wrong-path');
    const result = await runCli(['run', '--input', xstest, '--limit', '5'], { OPENAI_BASE_URL: notFoundUrl, AIDSAFE_MODEL: 'm', AIDSAFE_DATA_DIR: dir });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain(`endpoint: ${notFoundUrl} (set by OPENAI_BASE_URL) answers 404 to ${notFoundUrl}/models and ${notFoundUrl}/chat/completions ("404 page not found"); the path looks wrong`);
    expect(runsIn(dir)).toEqual([]);
  });

  it('run: a config file key that set the URL is named, with the file', async () => {
    const dir = join(data.path, 'config-key');
    mkdirSync(dir, { recursive: true });
    const config = join(dir, 'config.json');
    writeFileSync(config, JSON.stringify({ roles: { grader: { base_url: WRONG_PORT } } }));
    const result = await runCli(['run', '--input', xstest, '--limit', '2', '--grade'], { OPENAI_BASE_URL: model.url, AIDSAFE_MODEL: 'm', AIDSAFE_DATA_DIR: dir, AIDSAFE_CONFIG: config });
    expect(result.stderr).toContain(`cannot reach ${WRONG_PORT} (set by roles.grader.base_url in ${config}) for grader (model m)`);
    expect(runsIn(dir)).toEqual([]);
  });

  it('run with no model server at all names what the CLI can use, not MCP sampling', async () => {
    const dir = join(data.path, 'none');
    const result = await runCli(['run', '--input', xstest, '--limit', '2'], { AIDSAFE_DATA_DIR: dir });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/endpoint: no model server is configured: set OPENAI_API_KEY for OpenAI, or OPENAI_BASE_URL .* or point AIDSAFE_CONFIG at a config file\n/);
    expect(result.stderr).not.toMatch(/sampling|attempts/);
    expect(runsIn(dir)).toEqual([]);
  });

  it('start_batch: a wrong port is a named isError, and no run is created', async () => {
    const dir = join(data.path, 'mcp');
    mkdirSync(join(dir, 'inputs'), { recursive: true });
    writeFileSync(join(dir, 'inputs', 'p.jsonl'), '{"prompt":"How do I bake bread?"}\n');
    const ctx = await contextFor(WRONG_PORT, dir);
    const { client, close } = await connectClient(ctx);
    try {
      const result = (await client.callTool({ name: 'start_batch', arguments: { input_path: 'p.jsonl', wait: true } })) as CallToolResult;
      expect(result.isError).toBe(true);
      expect(JSON.stringify(result.content)).toContain(`cannot reach ${WRONG_PORT} (set by OPENAI_BASE_URL)`);
      expect(runsIn(dir)).toEqual([]);
    } finally {
      await close();
      await ctx.close();
    }
  });

  it('asks each distinct server once, and passes a server that answers', async () => {
    const config = loadConfig({ OPENAI_BASE_URL: model.url, AIDSAFE_MODEL: 'm' });
    const servers = serversOf(config, rolesOfRun({ agents: 3, grade: true }));
    expect(servers).toHaveLength(1);
    expect(servers[0]).toMatchObject({ url: model.url, setBy: 'OPENAI_BASE_URL', roles: ['intents', 'initial_cot', 'deliberator 1', 'deliberator 2', 'deliberator 3', 'refiner', 'responder', 'grader'] });
    await expect(preflight({ config }, rolesOfRun({}))).resolves.toBeUndefined();
    // A connection whose models are the client's (MCP sampling) has nothing to check.
    await expect(preflight({ config: loadConfig({}), modelsFromClient: true }, rolesOfRun({}))).resolves.toBeUndefined();
  });
});

describe('endpoint preflight of a replica pool', () => {
  it('passes while one replica answers, and fails naming each replica when none does', async () => {
    const gone = await new ScriptedModelServer().start();
    await gone.close();
    const dir = join(data.path, 'pool');
    mkdirSync(dir, { recursive: true });
    const path = join(dir, 'pool.json');
    writeFileSync(path, JSON.stringify({ default: { model: 'm', base_url: [gone.url, model.url] } }));
    await expect(preflight({ config: loadConfig({ AIDSAFE_CONFIG: path }) }, rolesOfRun({}))).resolves.toBeUndefined();
    writeFileSync(path, JSON.stringify({ default: { model: 'm', base_url: [gone.url, WRONG_PORT] } }));
    const failed = preflight({ config: loadConfig({ AIDSAFE_CONFIG: path }) }, rolesOfRun({}));
    await expect(failed).rejects.toThrow(`cannot reach ${gone.url} (set by default.base_url in ${path})`);
    await expect(failed).rejects.toThrow(`cannot reach ${WRONG_PORT} (set by default.base_url in ${path})`);
  });
});
