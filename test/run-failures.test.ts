import { copyFileSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { createContext } from '../src/context.js';
import { BatchRun } from '../src/pipeline/batch.js';
import { connectClient, contextFor, BENCHMARKS, tempDir, testConfig } from './helpers/fixtures.js';
import { runCli } from './helpers/cli.js';
import { ScriptedModelServer } from './helpers/scripted-model-server.js';

const advbench = fileURLToPath(new URL('advbench.jsonl', BENCHMARKS));
const xstest = fileURLToPath(new URL('xstest.jsonl', BENCHMARKS));

/** Every file under a folder, with its text. */
function allFiles(dir: string): { path: string; text: string }[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .map((name) => join(dir, name))
    .filter((path) => statSync(path).isFile())
    .map((path) => ({ path, text: readFileSync(path, 'utf8') }));
}

describe('a model server that echoes the API key back in a 401', () => {
  const key = 'local-key-5d41402abc4b2a76';
  const data = tempDir();
  const model = new ScriptedModelServer({ failWith: () => ({ status: 401, message: `Incorrect API key provided. Sent header: Authorization: Bearer ${key} (key ${key})` }) });
  const logged: string[] = [];
  const write = process.stderr.write.bind(process.stderr);
  const savedKey = process.env.OPENAI_API_KEY;
  beforeAll(async () => {
    await model.start();
    process.env.OPENAI_API_KEY = key;
    process.stderr.write = ((chunk: string | Uint8Array, ...rest: never[]) => {
      logged.push(String(chunk));
      return write(chunk, ...rest);
    }) as typeof process.stderr.write;
  });
  afterAll(async () => {
    process.stderr.write = write;
    if (savedKey === undefined) delete process.env.OPENAI_API_KEY;
    else process.env.OPENAI_API_KEY = savedKey;
    await model.close();
    data.remove();
  });

  it('keeps the key out of tool results, the run log, the store and the logs, and fails the run early', async () => {
    mkdirSync(join(data.path, 'inputs'));
    const input = join(data.path, 'inputs', 'xstest.jsonl');
    copyFileSync(xstest, input);
    const { client, close } = await connectClient(await contextFor(model.url, data.path));
    const call = async (name: string, args: Record<string, unknown>) => (await client.callTool({ name, arguments: args })) as CallToolResult;

    const single = await call('deliberate_safety_cot', { prompt: 'How do I kill a Python process?' });
    expect(single.isError).toBe(true);
    expect(JSON.stringify(single)).toMatch(/401 Incorrect API key provided/);

    const batch = await call('start_batch', { input_path: input, limit: 30, concurrency: 4, wait: true, run_id: 'bad-key' });
    expect(batch.structuredContent).toMatchObject({ status: 'failed', final: { status: 'failed', stop_reason: 'the first 8 samples all failed (http 401)' } });
    const status = await call('get_batch', { run_id: 'bad-key' });
    expect(status.structuredContent).toMatchObject({ status: 'failed', stop_reason: 'the first 8 samples all failed (http 401)' });
    const { error, failed, done } = status.structuredContent as { error: string; failed: number; done: number };
    expect(error).toMatch(/^stopped early: the first 8 samples all failed the same way; .*Last error: .*401 Incorrect API key provided/);
    expect(done).toBe(0);
    expect(failed).toBeGreaterThanOrEqual(8);
    expect(failed).toBeLessThan(30);
    await close();

    const samples = readFileSync(join(data.path, 'runs', 'bad-key', 'samples.jsonl'), 'utf8');
    expect(samples).toMatch(/"error":"intents \(model scripted-model\) failed after 1 attempt: 401 Incorrect API key provided/);
    for (const text of [JSON.stringify(single), JSON.stringify(batch), JSON.stringify(status), logged.join('')]) expect(text).not.toContain(key);
    for (const file of allFiles(data.path)) expect(file.text, file.path).not.toContain(key);
    expect(logged.join('')).toMatch(/401 Incorrect API key provided/);
  });
});

describe('run exit codes and early failure', () => {
  const data = tempDir();
  const config = join(data.path, 'config.json');
  beforeAll(() => writeFileSync(config, JSON.stringify({ max_retries: 1, max_repairs: 0 })));
  afterAll(() => data.remove());
  const env = (url: string, dir: string) => ({ OPENAI_BASE_URL: url, AIDSAFE_MODEL: 'scripted-model', AIDSAFE_DATA_DIR: join(data.path, dir), AIDSAFE_CONFIG: config });

  it('an endpoint that dies after the preflight (every chat call cut off) stops the run early as failed, exit code 1', async () => {
    // Lists its models, then drops every connection that asks for a completion.
    const dying = createServer((req, res) => (req.method === 'GET' ? res.writeHead(200, { 'content-type': 'application/json' }).end('{"object":"list","data":[]}') : req.socket.destroy()));
    await new Promise<void>((r) => dying.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(dying.address() as AddressInfo).port}/v1`;
    const result = await runCli(['run', '--input', advbench, '--limit', '200', '--concurrency', '4'], env(url, 'dead'));
    await new Promise((r) => dying.close(r));
    expect(result.code, result.stderr).toBe(1);
    const summary = JSON.parse(result.stdout) as { run_id: string; status: string; stop_reason: string; done: number; failed: number };
    expect(summary).toMatchObject({ status: 'failed', stop_reason: 'the first 8 samples all failed (network)', done: 0 });
    expect(summary.failed).toBeLessThan(20);
    expect(result.stderr).toMatch(/run failed: stopped early: the first 8 samples all failed the same way; fix the cause and run again to resume\. Last error: intents \(model scripted-model\) failed after 2 attempts: Connection error/);
    const manifest = JSON.parse(readFileSync(join(data.path, 'dead', 'runs', summary.run_id, 'run.json'), 'utf8')) as { status: string; error: string };
    expect(manifest.status).toBe('failed');
    expect(manifest.error).toMatch(/^stopped early/);
  });

  it('a server answering 500 to everything fails a small run on all of its samples', async () => {
    const broken = await new ScriptedModelServer({ failWith: () => ({ status: 500, message: 'upstream worker crashed' }) }).start();
    const result = await runCli(['run', '--input', advbench, '--limit', '3'], env(broken.url, 'five-hundred'));
    await broken.close();
    expect(result.code, result.stderr).toBe(1);
    expect(JSON.parse(result.stdout)).toMatchObject({ status: 'failed', stop_reason: 'the first 3 samples all failed (http 500)', failed: 3 });
    expect(result.stderr).toMatch(/500 upstream worker crashed/);
    expect(result.stderr).not.toMatch(/500 500/);
  });

  it('a partly failing endpoint runs to the end: status done, exit code 3; all samples done: exit code 0', async () => {
    const flaky = await new ScriptedModelServer({ respond: ({ role, data }) => (role === 'intents' && String(data.query).includes('bomb') ? { text: '{"explicit": [' } : undefined) }).start();
    const partly = await runCli(['run', '--input', advbench, '--limit', '40', '--run-id', 'partly'], env(flaky.url, 'partly'));
    await flaky.close();
    expect(partly.code, partly.stderr).toBe(3);
    const summary = JSON.parse(partly.stdout) as { status: string; done: number; failed: number };
    expect(summary.status).toBe('done');
    expect(summary.failed).toBeGreaterThan(0);
    expect(summary.done + summary.failed).toBe(40);

    const healthy = await new ScriptedModelServer().start();
    const fixed = await runCli(['run', '--input', advbench, '--limit', '40', '--run-id', 'partly'], env(healthy.url, 'partly'));
    await healthy.close();
    expect(fixed.code, fixed.stderr).toBe(0);
    expect(JSON.parse(fixed.stdout)).toMatchObject({ status: 'done', done: 40, failed: 0 });
  });

  it('two different causes among the first samples do not stop the run', async () => {
    const mixed = await new ScriptedModelServer({ failWith: ({ data }) => (String(data.query).length % 2 ? { status: 403, message: 'forbidden' } : { status: 404, message: 'no such model' }) }).start();
    const ctx = await createContext({ config: { ...testConfig(mixed.url, join(data.path, 'mixed')), maxRetries: 0 } });
    const final = await (await BatchRun.prepare(ctx, { inputPath: advbench, limit: 20, concurrency: 4, grade: false, preference: false, agents: 2, maxRounds: 3, beliefRounds: 3, minMargin: 1, budgets: {} })).start();
    await mixed.close();
    expect(final).toMatchObject({ status: 'done', done: 0, failed: 20 });
    expect(new Set(final.failures.map((f) => /: (40[34]) /.exec(f.error)?.[1]))).toEqual(new Set(['403', '404']));
  });

  it('--fail-fast 0 never stops early', async () => {
    const broken = await new ScriptedModelServer({ failWith: () => ({ status: 503, message: 'overloaded' }) }).start();
    const result = await runCli(['run', '--input', advbench, '--limit', '10', '--fail-fast', '0'], env(broken.url, 'no-fail-fast'));
    await broken.close();
    expect(result.code, result.stderr).toBe(3);
    expect(JSON.parse(result.stdout)).toMatchObject({ status: 'done', done: 0, failed: 10 });
  });
});
