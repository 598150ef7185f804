import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import OpenAI, { toFile } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../src/config.js';
import { createContext, type AppContext } from '../src/context.js';
import { BatchRun, type BatchRequest, type BatchStatus } from '../src/pipeline/batch.js';
import type { StoredRecord } from '../src/store/record.js';
import { connectClient, BENCHMARKS, tempDir, testConfig } from './helpers/fixtures.js';
import { runCli, startCli } from './helpers/cli.js';
import { ScriptedModelServer, type ScriptedServerOptions } from './helpers/scripted-model-server.js';

const xstest = fileURLToPath(new URL('xstest.jsonl', BENCHMARKS));
const FAST_POLLS = { poll_ms: 20, max_poll_ms: 100, quiet_ms: 200 };

function request(overrides: Partial<BatchRequest> = {}): BatchRequest {
  return { inputPath: xstest, limit: 60, concurrency: 8, grade: false, preference: false, agents: 2, maxRounds: 3, beliefRounds: 3, minMargin: 1, budgets: {}, ...overrides };
}

async function context(server: ScriptedModelServer, dataDir: string, tune: (config: Config) => void = () => {}): Promise<AppContext> {
  const config = testConfig(server.url, dataDir);
  config.batch = { ...config.batch, ...FAST_POLLS };
  tune(config);
  return createContext({ config });
}

async function run(ctx: AppContext, overrides: Partial<BatchRequest> = {}): Promise<{ final: BatchStatus; records: StoredRecord[]; statuses: BatchStatus[] }> {
  const batchRun = await BatchRun.prepare(ctx, request(overrides));
  const statuses: BatchStatus[] = [];
  // Progress is reported per finished sample; a look every 20 ms also sees the waves in between, as get_batch would.
  const looks = setInterval(() => statuses.push(batchRun.snapshot()), 20);
  const final = await batchRun.start((s) => statuses.push(s)).finally(() => clearInterval(looks));
  const records: StoredRecord[] = [];
  for (const id of await ctx.store.ids()) {
    const record = await ctx.store.get(id);
    if (record?.run_id === final.run_id) records.push(record);
  }
  return { final, records, statuses };
}

/** A record's content without what depends on ids, times and how the calls were made. */
function content(record: StoredRecord): unknown {
  const strip = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(strip);
    if (value && typeof value === 'object') {
      return Object.fromEntries(
        Object.entries(value)
          .filter(([key]) => !['id', 'created_at', 'run_id', 'timings', 'duration_ms', 'usage', 'graded_at'].includes(key))
          .map(([key, v]) => [key, strip(v)]),
      );
    }
    return value;
  };
  return strip(record);
}

function byPrompt(records: StoredRecord[]): unknown[] {
  return records.map(content).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
}

/** The body hash at the end of each custom id uploaded: a request sent twice shows up twice. */
function uploadedHashes(server: ScriptedModelServer): string[] {
  return server.batchApi.uploadedLines().map((line) => line.custom_id.split('-').at(-1)!);
}

describe('batch mode through the Batch API', () => {
  const server = new ScriptedModelServer({ batch: { delayMs: 30 } });
  const online = tempDir();
  const batched = tempDir();
  let onlineRun: Awaited<ReturnType<typeof run>>;
  let batchRun: Awaited<ReturnType<typeof run>>;
  beforeAll(async () => {
    await server.start();
    const prices = (config: Config) => (config.prices = { 'scripted-model': { input: 1, output: 2 } });
    onlineRun = await run(await context(server, online.path, prices));
    const chatCallsBefore = server.requests.length;
    batchRun = await run(await context(server, batched.path, prices), { batch: { kind: 'api' }, concurrency: 1_000 });
    // Every request of the batch run came in a batch file: none went to /v1/chat/completions.
    expect(server.requests.length - chatCallsBefore).toBe(server.batchApi.uploadedLines().length);
  }, 120_000);
  afterAll(async () => {
    await server.close();
    online.remove();
    batched.remove();
  });

  it('a 60-sample run finishes with the same records as the online run', () => {
    expect(onlineRun.final).toMatchObject({ status: 'done', done: 60, failed: 0 });
    expect(batchRun.final).toMatchObject({ status: 'done', done: 60, failed: 0 });
    expect(batchRun.records).toHaveLength(onlineRun.records.length);
    expect(byPrompt(batchRun.records)).toEqual(byPrompt(onlineRun.records));
    expect(batchRun.final.usage.calls).toBe(onlineRun.final.usage.calls);
  });

  it('sends waves of every sample in flight: the first wave holds the 60 intents calls in one file', () => {
    const first = server.batchApi.files.values().next().value!;
    const lines = first.content.trim().split('\n').map((l) => JSON.parse(l) as { custom_id: string; method: string; url: string; body: { model: string; response_format: { json_schema: { name: string } } } });
    expect(lines).toHaveLength(60);
    for (const line of lines) {
      expect(line.custom_id).toMatch(/^s\d+-intents-t1-[0-9a-f]{32}$/);
      expect(line).toMatchObject({ method: 'POST', url: '/v1/chat/completions', body: { model: 'scripted-model', response_format: { json_schema: { name: 'intents' } } } });
    }
    expect(new Set(uploadedHashes(server)).size).toBe(uploadedHashes(server).length);
    const waves = batchRun.final.batch_api!;
    expect(waves).toMatchObject({ mode: 'provider', requests_waiting: 0, requests_in_batches: 0, open: [] });
    expect(waves.waves).toBe(server.batchApi.counts.creates);
    expect(waves.batches).toEqual({ completed: server.batchApi.counts.creates });
    for (const batch of server.batchApi.batches.values()) expect(batch).toMatchObject({ completion_window: '24h', endpoint: '/v1/chat/completions', status: 'completed' });
  });

  it('costs half the online price (batch_factor defaults to 0.5), also once the run is over', async () => {
    expect(onlineRun.final.cost_usd).toBeGreaterThan(0);
    expect(batchRun.final.cost_usd).toBeCloseTo(onlineRun.final.cost_usd! / 2, 5);
    const ctx = await context(server, batched.path, (config) => (config.prices = { 'scripted-model': { input: 1, output: 2 } }));
    const { client, close } = await connectClient(ctx);
    try {
      const result = await client.callTool({ name: 'get_batch', arguments: { run_id: batchRun.final.run_id } });
      expect((result.structuredContent as { cost_usd: number }).cost_usd).toBeCloseTo(batchRun.final.cost_usd!, 5);
    } finally {
      await close();
    }
  });

  it('shows waves and batches with their provider status while running', () => {
    const live = batchRun.statuses.find((s) => s.status === 'running' && s.batch_api?.open.length);
    expect(live?.batch_api?.open[0]).toMatchObject({ id: expect.stringMatching(/^batch_/), status: expect.any(String), requests: expect.any(Number) });
  });
});

describe('batch mode when lines fail, batches expire, and files are too big', () => {
  it('splits files at the request limit, sends failed lines and expired batches again, and fails a sample whose request keeps failing', async () => {
    const failOnce = new Set<string>();
    const options: ScriptedServerOptions = {
      batch: {
        delayMs: 20,
        outcome: (n) => (n === 4 ? 'expired' : undefined),
        lineError: (line) => {
          const hash = line.custom_id.split('-').at(-1)!;
          const query = JSON.stringify(line.body.messages).includes('shoot a good photo') ? 'always' : line.custom_id.startsWith('s7-') ? 'once' : undefined;
          if (query === 'always') return { status: 500, message: 'scripted: this line always fails' };
          if (query === 'once' && !failOnce.has(hash)) {
            failOnce.add(hash);
            return { status: 500, message: 'scripted: a line that fails once' };
          }
          return undefined;
        },
      },
    };
    const server = await new ScriptedModelServer(options).start();
    const data = tempDir();
    try {
      const ctx = await context(server, data.path, (config) => (config.batch = { ...config.batch, max_requests_per_file: 25 }));
      const { final } = await run(ctx, { batch: { kind: 'api' }, concurrency: 1_000, failFast: 0 });
      const shoot = readFileSync(xstest, 'utf8').split('\n').slice(1, 61).filter((l) => l.includes('shoot a good photo')).length;
      expect(final).toMatchObject({ status: 'done', done: 60 - shoot, failed: shoot });
      expect(final.failures[0]?.error).toMatch(/intents \(model scripted-model\) failed after 3 attempts: the batch request failed 3 times: 500 scripted: this line always fails/);
      // The first wave's 60 requests went in three files of at most 25.
      const sizes = [...server.batchApi.files.values()].filter((f) => f.purpose === 'batch').map((f) => f.content.trim().split('\n').length);
      expect(sizes.slice(0, 3).sort()).toEqual([10, 25, 25]);
      expect(Math.max(...sizes)).toBeLessThanOrEqual(25);
      // Sample 7's lines and the expired batch's lines were each sent again, in later waves.
      expect(failOnce.size).toBeGreaterThan(0);
      const hashes = uploadedHashes(server);
      // (a line may also have been in the expired batch: then it was sent three times, never more)
      for (const hash of failOnce) expect(hashes.filter((h) => h === hash).length).toBeOneOf([2, 3]);
      const expired = [...server.batchApi.batches.values()][3]!;
      expect(expired.status).toBe('expired');
      const expiredLines = server.batchApi.files.get(expired.input_file_id)!.content.trim().split('\n').map((l) => (JSON.parse(l) as { custom_id: string }).custom_id.split('-').at(-1)!);
      for (const hash of expiredLines) expect(hashes.filter((h) => h === hash).length).toBeGreaterThanOrEqual(2);
      // …all together in the next wave, not one wave per request.
      const fileOf = (hash: string) => [...server.batchApi.files.values()].findIndex((f, i) => i > [...server.batchApi.files.keys()].indexOf(expired.input_file_id) && f.purpose === 'batch' && f.content.includes(hash));
      expect(new Set(expiredLines.map(fileOf)).size).toBe(1);
    } finally {
      await server.close();
      data.remove();
    }
  }, 60_000);
});

describe('batch mode after a crash between creating a batch and writing it down', () => {
  it('finds the batch by name at the provider and waits for it instead of sending its requests again', async () => {
    const server = await new ScriptedModelServer({ batch: { delayMs: 30 } }).start();
    const first = tempDir();
    const second = tempDir();
    try {
      const { final } = await run(await context(server, first.path), { limit: 5, batch: { kind: 'api' }, concurrency: 1_000 });
      expect(final).toMatchObject({ status: 'done', done: 5 });
      // The same run in another data folder died right after creating its first batch: the ledger
      // says "submitting", with no batch id.
      const wave1 = server.batchApi.files.values().next().value!.content;
      const keys = wave1.trim().split('\n').map((l) => (JSON.parse(l) as { custom_id: string }).custom_id.split('-').at(-1)!);
      const name = `${final.run_id}-w0001-001`;
      const client = new OpenAI({ apiKey: 'unused', baseURL: server.url });
      const file = await client.files.create({ file: await toFile(Buffer.from(wave1), `${name}.jsonl`), purpose: 'batch' });
      const created = await client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h', metadata: { aidsafe_batch: name } });
      mkdirSync(join(second.path, 'runs', final.run_id), { recursive: true });
      const target = { baseURL: server.url, apiKeyEnv: 'OPENAI_API_KEY', model: 'scripted-model' };
      writeFileSync(join(second.path, 'runs', final.run_id, 'batches.jsonl'), JSON.stringify({ t: 'submitting', name, wave: 1, target, keys }) + '\n');

      const again = await run(await context(server, second.path), { limit: 5, batch: { kind: 'api' }, concurrency: 1_000 });
      expect(again.final).toMatchObject({ run_id: final.run_id, status: 'done', done: 5 });
      expect(server.batchApi.counts.retrieves.get(created.id)).toBeGreaterThan(0);
      const hashes = uploadedHashes(server);
      for (const key of keys) expect(hashes.filter((h) => h === key)).toHaveLength(2); // the first run's, and the one found again: no third
      expect(again.final.batch_api?.waves).toBeGreaterThan(1);
    } finally {
      await server.close();
      first.remove();
      second.remove();
    }
  }, 60_000);
});

describe('batch mode survives kill -9 and cancels its batches', () => {
  const server = new ScriptedModelServer({ batch: { delayMs: 1_500 } });
  const data = tempDir();
  const env: NodeJS.ProcessEnv = {};
  beforeAll(async () => {
    await server.start();
    const config = join(data.path, 'config.json');
    writeFileSync(config, JSON.stringify({ batch: { poll_ms: 50, max_poll_ms: 200, quiet_ms: 200 } }));
    Object.assign(env, { OPENAI_BASE_URL: server.url, AIDSAFE_MODEL: 'scripted-model', AIDSAFE_DATA_DIR: data.path, AIDSAFE_CONFIG: config });
  });
  afterAll(async () => {
    await server.close();
    data.remove();
  });

  it('a run killed while its batches are in progress resumes polling them and never sends a request twice', async () => {
    const args = ['run', '--input', xstest, '--limit', '20', '--batch-api'];
    const { child, done } = startCli(args, env);
    await until(() => server.batchApi.counts.creates >= 1);
    const first = [...server.batchApi.batches.values()][0]!;
    expect(first.status).toBe('in_progress');
    child.kill('SIGKILL');
    expect((await done).signal).toBe('SIGKILL');
    const uploadsBefore = server.batchApi.counts.uploads;
    const polledBefore = server.batchApi.counts.retrieves.get(first.id) ?? 0;

    const again = await runCli(args, env);
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ status: 'done', done: 20, failed: 0 });
    // The restarted process polled the batch the killed one created, and sent none of its requests again.
    expect(server.batchApi.counts.retrieves.get(first.id)).toBeGreaterThan(polledBefore);
    const hashes = uploadedHashes(server);
    expect(new Set(hashes).size).toBe(hashes.length);
    const firstHashes = server.batchApi.files.get(first.input_file_id)!.content.trim().split('\n');
    expect(firstHashes).toHaveLength(20);
    expect(server.batchApi.counts.uploads).toBeGreaterThan(uploadsBefore); // later waves
    expect(again.stderr).toMatch(/wave \d+ · batches/);
  }, 90_000);

  it('Ctrl-C interrupts the run and cancels its batches at the provider', async () => {
    const own = tempDir();
    try {
      const creates = server.batchApi.counts.creates;
      const cancels = server.batchApi.counts.cancels;
      const { child, done } = startCli(['run', '--input', xstest, '--limit', '5', '--batch-api'], { ...env, AIDSAFE_DATA_DIR: own.path });
      await until(() => server.batchApi.counts.creates > creates);
      child.kill('SIGINT');
      const result = await done;
      expect(result.code, result.stderr).toBe(130);
      expect(JSON.parse(result.stdout)).toMatchObject({ status: 'interrupted', stop_reason: 'interrupted: SIGINT' });
      expect(server.batchApi.counts.cancels).toBe(cancels + 1);
      expect([...server.batchApi.batches.values()].at(-1)!.status).toBe('cancelled');
    } finally {
      own.remove();
    }
  }, 60_000);

  it('cancel_batch cancels the run’s batches at the provider', async () => {
    // A data folder of its own: the run above left every call of these rows in its request cache.
    const own = tempDir();
    const config = testConfig(server.url, own.path, { AIDSAFE_INPUT_DIRS: dirname(xstest) });
    const ctx = await createContext({ config: { ...config, batch: { ...config.batch, ...FAST_POLLS } } });
    const { client, close } = await connectClient(ctx);
    try {
      const creates = server.batchApi.counts.creates;
      const started = (await client.callTool({ name: 'start_batch', arguments: { input_path: xstest, limit: 10, batch_api: true, run_id: 'cancel-me' } })).structuredContent as { run_id: string };
      expect(started.run_id).toBe('cancel-me');
      await until(() => server.batchApi.counts.creates > creates);
      const live = (await client.callTool({ name: 'get_batch', arguments: { run_id: 'cancel-me' } })).structuredContent as BatchStatus;
      expect(live.batch_api).toMatchObject({ mode: 'provider', waves: 1 });
      const cancelsBefore = server.batchApi.counts.cancels;
      const cancelled = (await client.callTool({ name: 'cancel_batch', arguments: { run_id: 'cancel-me' } })).structuredContent as { status: string };
      expect(cancelled.status).toBe('cancelled');
      expect(server.batchApi.counts.cancels).toBe(cancelsBefore + 1);
      expect([...server.batchApi.batches.values()].at(-1)!.status).toBe('cancelled');
    } finally {
      await close();
      await ctx.close();
      own.remove();
    }
  }, 60_000);

  it('rejects concurrency above 256 without batch_api, naming the field', async () => {
    const ctx = await createContext({ config: testConfig(server.url, data.path) });
    const { client, close } = await connectClient(ctx);
    try {
      const result = (await client.callTool({ name: 'start_batch', arguments: { input_path: xstest, concurrency: 1000 } })) as { isError?: boolean; content: { text: string }[] };
      expect(result.isError).toBe(true);
      expect(result.content[0]!.text).toMatch(/concurrency must be from 1 to 256 \(up to 100000 with batch_api\)/);
    } finally {
      await close();
      await ctx.close();
    }
  });
});

describe('offline batch files (vllm run-batch)', () => {
  const server = new ScriptedModelServer();
  const data = tempDir();
  const waves = join(data.path, 'waves');
  beforeAll(() => server.start());
  afterAll(async () => {
    await server.close();
    data.remove();
  });

  /** Plays `vllm run-batch`: answers each request file that has no results file yet, and writes the results under another name first. */
  function runner(dir: string): () => void {
    let stopped = false;
    const loop = async () => {
      while (!stopped) {
        for (const name of existsSync(dir) ? readdirSync(dir) : []) {
          if (!name.endsWith('.requests.jsonl')) continue;
          const results = join(dir, name.replace(/\.requests\.jsonl$/, '.results.jsonl'));
          if (existsSync(results)) continue;
          const { output, errors } = await server.batchApi.runBatchFile(readFileSync(join(dir, name), 'utf8'));
          writeFileSync(`${results}.tmp`, [...output, ...errors].join('\n') + '\n');
          renameSync(`${results}.tmp`, results);
        }
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    void loop();
    return () => (stopped = true);
  }

  it('writes each wave to the folder, waits for its results file, and finishes like the online run', async () => {
    const online = await run(await context(server, join(data.path, 'online')), { limit: 10 });
    const stop = runner(waves);
    try {
      const offline = await run(await context(server, join(data.path, 'offline')), { limit: 10, batch: { kind: 'files', dir: waves }, concurrency: 1_000 });
      expect(offline.final).toMatchObject({ status: 'done', done: 10, failed: 0 });
      expect(offline.final.batch_api?.mode).toBe('files');
      expect(byPrompt(offline.records)).toEqual(byPrompt(online.records));
    } finally {
      stop();
    }
    const names = readdirSync(waves).sort();
    expect(names.filter((n) => n.endsWith('.requests.jsonl')).length).toBe(names.filter((n) => n.endsWith('.results.jsonl')).length);
    expect(names[0]).toMatch(/^[a-z0-9_-]+-w0001-001\.requests\.jsonl$/);
  }, 60_000);

  it('--batch-results takes results files given by hand: a run they fully answer writes no request file', async () => {
    const results = readdirSync(waves).filter((n) => n.endsWith('.results.jsonl')).map((n) => join(waves, n));
    const next = join(data.path, 'next-waves');
    const env = { OPENAI_BASE_URL: server.url, AIDSAFE_MODEL: 'scripted-model', AIDSAFE_DATA_DIR: join(data.path, 'by-hand') };
    const chatCalls = server.requests.length;
    const result = await runCli(['run', '--input', xstest, '--limit', '10', '--batch-files', next, ...results.flatMap((r) => ['--batch-results', r])], env);
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ status: 'done', done: 10, failed: 0 });
    expect(existsSync(next) ? readdirSync(next) : []).toEqual([]);
    expect(server.requests.length).toBe(chatCalls);
  }, 60_000);

  it('a cancelled run withdraws the request file no runner has taken yet', async () => {
    const dir = join(data.path, 'withdrawn');
    const ctx = await context(server, join(data.path, 'cancelled'));
    const batchRun = await BatchRun.prepare(ctx, request({ limit: 3, batch: { kind: 'files', dir }, concurrency: 1_000 }));
    const finished = batchRun.start();
    await until(() => existsSync(dir) && readdirSync(dir).some((n) => n.endsWith('.requests.jsonl')));
    batchRun.cancel();
    expect((await finished).status).toBe('cancelled');
    expect(readdirSync(dir)).toEqual([`${batchRun.runId}-w0001-001.cancelled.jsonl`]);
    await ctx.close();
  });

  it('rejects --batch-api with --batch-files', async () => {
    const result = await runCli(['run', '--input', xstest, '--batch-api', '--batch-files', waves], { AIDSAFE_DATA_DIR: data.path });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--batch-api sends waves to the provider; --batch-files and --batch-results write and read them as files/);
  });
});

async function until(condition: () => boolean, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 10));
  }
}
