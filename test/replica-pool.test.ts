import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { endpointFor, loadConfig } from '../src/config.js';
import { createContext } from '../src/context.js';
import { ModelError, type ChatModel, type CompletionRequest, type CompletionResult } from '../src/llm/chat-model.js';
import { ReplicaPool } from '../src/llm/replica-pool.js';
import { requestKey } from '../src/llm/request-cache.js';
import { defaultRetryPolicy } from '../src/llm/retry.js';
import { BatchRun, type BatchRequest } from '../src/pipeline/batch.js';
import { configHash } from '../src/pipeline/run-identity.js';
import { BENCHMARKS, tempDir } from './helpers/fixtures.js';
import { ScriptedModelServer } from './helpers/scripted-model-server.js';

const xstest = fileURLToPath(new URL('xstest.jsonl', BENCHMARKS));
const request = (overrides: Partial<BatchRequest> = {}): BatchRequest => ({ inputPath: xstest, limit: 12, concurrency: 4, grade: false, preference: false, agents: 2, maxRounds: 3, beliefRounds: 3, minMargin: 1, budgets: {}, ...overrides });

/** A config file whose every role is served by these replicas, and the environment that reads it. */
function poolEnv(dir: string, name: string, urls: string[]): NodeJS.ProcessEnv {
  const path = join(dir, `${name}.json`);
  writeFileSync(path, JSON.stringify({ default: { model: 'scripted-model', base_url: urls.length === 1 ? urls[0] : urls }, max_retries: 4 }));
  return { AIDSAFE_CONFIG: path, AIDSAFE_DATA_DIR: dir };
}

function stderrLines(): { lines: string[]; restore: () => void } {
  const lines: string[] = [];
  const spy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    lines.push(String(chunk));
    return true;
  });
  return { lines, restore: () => spy.mockRestore() };
}

describe('a pool of three replicas, one of them failing', () => {
  const data = tempDir();
  afterAll(() => data.remove());
  afterEach(() => vi.restoreAllMocks());

  for (const failure of ['answers 500', 'is closed'] as const) {
    it(`finishes a run on the healthy two when one ${failure}, and rests the failing one with a log line`, async () => {
      const healthy = [await new ScriptedModelServer().start(), await new ScriptedModelServer().start()];
      const failing = await new ScriptedModelServer({ failWith: () => ({ status: 500, message: 'backend crashed' }) }).start();
      if (failure === 'is closed') await failing.close();
      const dir = join(data.path, failure.replace(' ', '-'));
      const config = loadConfig(poolEnv(data.path, `pool-${failure.replace(' ', '-')}`, [failing.url, healthy[0]!.url, healthy[1]!.url]));
      config.dataDir = dir;
      const ctx = await createContext({ config });
      const stderr = stderrLines();
      const status = await (await BatchRun.prepare(ctx, request())).start();
      stderr.restore();
      expect(status).toMatchObject({ status: 'done', done: 12, failed: 0 });
      const served = healthy.map((s) => s.requests.length);
      const total = served[0]! + served[1]!;
      expect(total).toBeGreaterThan(50);
      // Fewest outstanding first: the two share the work about evenly.
      for (const n of served) expect(n / total).toBeGreaterThan(0.35);
      // Rested after 3 failures in a row (plus what was already in flight), for the rest of the run.
      if (failure === 'answers 500') expect(failing.requests.length).toBeGreaterThanOrEqual(3);
      expect(failing.requests.length).toBeLessThanOrEqual(3 + 4);
      const rested = stderr.lines.filter((l) => l.includes(`replica ${failing.url} failed 3 times in a row; resting it for 30 s, then trying it again`));
      expect(rested).toHaveLength(1);
      await ctx.close();
      for (const s of [...healthy, failing]) await s.close();
    });
  }

  it('does not make the run id or the request cache depend on which replica, or how many, served a request', async () => {
    const replicas = [await new ScriptedModelServer().start(), await new ScriptedModelServer().start()];
    const pooled = loadConfig(poolEnv(data.path, 'two', replicas.map((r) => r.url)));
    const single = loadConfig(poolEnv(data.path, 'one', ['http://127.0.0.1:9/v1']));
    expect(configHash(pooled)).toBe(configHash(single));
    const probe = { role: 'intents' as const, schemaName: 'x', schema: z.object({ a: z.string() }), messages: [{ role: 'user' as const, content: 'hi' }] };
    expect(requestKey(endpointFor(pooled, 'intents'), probe)).toBe(requestKey(endpointFor(single, 'intents'), probe));
    pooled.dataDir = single.dataDir = join(data.path, 'identity');
    const ctx = await createContext({ config: pooled });
    const first = await BatchRun.prepare(ctx, request({ limit: 4 }));
    await first.start();
    await ctx.close();
    // The same job against one server elsewhere: the same run id, and every call answered from the cache.
    const elsewhere = await new ScriptedModelServer().start();
    const alone = loadConfig(poolEnv(data.path, 'alone', [elsewhere.url]));
    alone.dataDir = pooled.dataDir;
    const ctx2 = await createContext({ config: alone });
    const again = await BatchRun.prepare(ctx2, request({ limit: 4, runId: 'again' }));
    expect((await BatchRun.prepare(ctx2, request({ limit: 4 }))).runId).toBe(first.runId);
    expect(await again.start()).toMatchObject({ status: 'done', done: 4 });
    expect(elsewhere.requests).toHaveLength(0);
    await ctx2.close();
    for (const s of [...replicas, elsewhere]) await s.close();
  });
});

/** A replica that answers, fails with a status, or waits to be told, as the test says. */
class FakeReplica implements ChatModel {
  readonly model = 'm';
  calls = 0;
  status: number | 'ok' | 'network' = 'ok';
  hold: Promise<void> | undefined;
  async complete<T>(request: CompletionRequest<T>): Promise<CompletionResult<T>> {
    this.calls++;
    if (this.hold) await this.hold;
    if (this.status === 'network') throw new ModelError('network', request.role, 'm', 1, 'connect ECONNREFUSED');
    if (this.status !== 'ok') throw new ModelError('http', request.role, 'm', 1, `${this.status} failed`, undefined, this.status);
    return { value: { a: 'x' } as T, raw: '{}', model: 'm', usage: { prompt_tokens: 1, completion_tokens: 1 }, calls: 1 };
  }
}

describe('ReplicaPool', () => {
  const ask = { role: 'intents' as const, schemaName: 'x', schema: z.object({ a: z.string() }), messages: [] };
  const retry = { ...defaultRetryPolicy, baseDelayMs: 1, maxDelayMs: 2, maxRetries: 3 };

  it('sends a request to the replica with the fewest outstanding, taking ties in turn', async () => {
    const [a, b, c] = [new FakeReplica(), new FakeReplica(), new FakeReplica()];
    const pool = new ReplicaPool([{ url: 'a', model: a }, { url: 'b', model: b }, { url: 'c', model: c }], { retry });
    let release = () => {};
    a.hold = new Promise((r) => (release = r));
    const slow = pool.complete(ask); // a is busy from now on
    for (let i = 0; i < 4; i++) await pool.complete(ask);
    expect([a.calls, b.calls, c.calls]).toEqual([1, 2, 2]);
    release();
    await slow;
  });

  it('rests a replica after three failures in a row, tries it again after 30 s, and doubles the rest when it fails again', async () => {
    let now = 0;
    const [bad, good] = [new FakeReplica(), new FakeReplica()];
    bad.status = 503;
    const pool = new ReplicaPool([{ url: 'bad', model: bad }, { url: 'good', model: good }], { retry, now: () => now });
    const stderr = stderrLines();
    for (let i = 0; i < 10; i++) await pool.complete(ask);
    expect(bad.calls).toBe(3);
    now += 29_000;
    for (let i = 0; i < 4; i++) await pool.complete(ask);
    expect(bad.calls).toBe(3);
    now += 1_000; // the rest is over: one more failure rests it again, for twice as long
    for (let i = 0; i < 4; i++) await pool.complete(ask);
    expect(bad.calls).toBe(4);
    now += 59_999;
    for (let i = 0; i < 4; i++) await pool.complete(ask);
    expect(bad.calls).toBe(4);
    now += 1;
    bad.status = 'ok';
    for (let i = 0; i < 4; i++) await pool.complete(ask);
    expect(bad.calls).toBe(6);
    stderr.restore();
    const text = stderr.lines.join('');
    expect(text).toMatch(/replica bad failed 3 times in a row; resting it for 30 s, then trying it again .*"error":"503 failed"/);
    expect(text).toMatch(/replica bad failed 1 time in a row after a rest; resting it for 60 s/);
    expect(text).toMatch(/replica bad answers again; back in the pool/);
  });

  it('does not move a request the server rejected (4xx) to another replica, nor hold it against the replica', async () => {
    const [a, b] = [new FakeReplica(), new FakeReplica()];
    a.status = 400;
    b.status = 400;
    const pool = new ReplicaPool([{ url: 'a', model: a }, { url: 'b', model: b }], { retry });
    for (let i = 0; i < 6; i++) await expect(pool.complete(ask)).rejects.toThrow(/400 failed/);
    expect([a.calls, b.calls]).toEqual([3, 3]);
  });

  it('gives up after the retries, naming the last replica tried', async () => {
    const [a, b] = [new FakeReplica(), new FakeReplica()];
    a.status = b.status = 'network';
    const pool = new ReplicaPool([{ url: 'http://a/v1', model: a }, { url: 'http://b/v1', model: b }], { retry });
    const stderr = stderrLines();
    await expect(pool.complete(ask)).rejects.toThrow(/intents \(model m\) failed after 4 attempts: connect ECONNREFUSED \(last tried on replica http:\/\/[ab]\/v1\)/);
    stderr.restore();
    expect(a.calls + b.calls).toBe(4);
  });
});

describe('base_url as a list in the config file', () => {
  const dir = tempDir();
  afterAll(() => dir.remove());
  const load = (baseUrl: unknown) => {
    const path = join(dir.path, 'config.json');
    writeFileSync(path, JSON.stringify({ roles: { refiner: { base_url: baseUrl } } }));
    return loadConfig({ AIDSAFE_CONFIG: path, OPENAI_BASE_URL: 'http://127.0.0.1:7000/v1' });
  };

  it('gives the role a pool of its replicas, and a list of one is a single server', () => {
    expect(endpointFor(load(['http://a:8000/v1', 'http://b:8000/v1']), 'refiner')).toMatchObject({ baseURL: 'http://a:8000/v1', replicas: ['http://a:8000/v1', 'http://b:8000/v1'] });
    expect(endpointFor(load(['http://a:8000/v1']), 'refiner')).toEqual({ model: 'gpt-4o-mini', baseURL: 'http://a:8000/v1', apiKeyEnv: 'OPENAI_API_KEY', temperature: undefined });
    expect(endpointFor(load(['http://a:8000/v1', 'http://b:8000/v1']), 'intents')).not.toHaveProperty('replicas');
  });

  it('names the field when the list is empty or holds something that is not a URL', () => {
    expect(() => load([])).toThrow(/roles\.refiner\.base_url: /);
    expect(() => load(['http://a:8000/v1', 'not a url'])).toThrow(/roles\.refiner\.base_url/);
  });
});
