import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createContext } from '../src/context.js';
import { openPromptFile, readPromptFile } from '../src/inputs/read-prompts.js';
import { BatchRun, type BatchRequest } from '../src/pipeline/batch.js';
import { runPool } from '../src/pipeline/sample-pool.js';
import { LISTED_FAILURES, SampleStates } from '../src/pipeline/sample-states.js';
import { RunStore, type SampleEvent } from '../src/store/run-store.js';
import { seededRandom } from '../src/stats/bootstrap.js';
import { tempDir, testConfig } from './helpers/fixtures.js';
import { ScriptedModelServer } from './helpers/scripted-model-server.js';

const dir = tempDir();
afterAll(() => dir.remove());

function request(inputPath: string, overrides: Partial<BatchRequest> = {}): BatchRequest {
  return { inputPath, concurrency: 4, grade: false, preference: false, agents: 2, maxRounds: 3, beliefRounds: 3, minMargin: 1, budgets: {}, ...overrides };
}

describe('the sample pool', () => {
  it('takes items from a stream only as slots free, and stops reading it (closing it) when a budget stops the pool', async () => {
    let pulled = 0;
    let closed = false;
    async function* endless(): AsyncGenerator<number> {
      try {
        for (let i = 0; ; i++) {
          pulled++;
          yield i;
        }
      } finally {
        closed = true;
      }
    }
    let started = 0;
    let maxActive = 0;
    let active = 0;
    await runPool(endless(), {
      limit: () => 3,
      canStart: () => started < 10,
      start: async () => {
        started++;
        maxActive = Math.max(maxActive, ++active);
        await new Promise((r) => setTimeout(r, 2));
        active--;
      },
      onSettled: () => undefined,
    });
    expect(started).toBe(10);
    expect(maxActive).toBe(3);
    // The eleventh item is read to learn that the budget is spent; none after it.
    expect(pulled).toBe(11);
    expect(closed).toBe(true);
  });

  it('waits for what it started before reporting that the stream failed', async () => {
    let finished = 0;
    async function* failing(): AsyncGenerator<number> {
      yield 1;
      yield 2;
      throw new Error('the input changed');
    }
    const pool = runPool(failing(), {
      limit: () => 4,
      canStart: () => true,
      start: async () => {
        await new Promise((r) => setTimeout(r, 20));
        finished++;
      },
      onSettled: () => undefined,
    });
    await expect(pool).rejects.toThrow('the input changed');
    expect(finished).toBe(2);
  });
});

describe('prompt files read as streams', () => {
  it('parses JSONL whose lines cross the read size, with multi-byte text, exactly as they were written', async () => {
    const path = join(dir.path, 'wide.jsonl');
    const prompts = Array.from({ length: 300 }, (_, i) => `${'日本語のテキスト'.repeat((i * 7919) % 1_500)} #${i}`);
    writeFileSync(path, prompts.map((prompt, i) => JSON.stringify({ prompt, n: i })).join('\r\n'));
    const file = await readPromptFile(path);
    expect(file.rows).toHaveLength(300);
    expect(file.rows.map((r) => r.prompt)).toEqual(prompts);
    expect(file.rows[299]?.metadata).toEqual({ n: 299 });
  });

  it('counts and hashes without keeping rows, and reads them again on demand, stopping early when asked', async () => {
    const path = join(dir.path, 'many.csv');
    writeFileSync(path, 'prompt,id\n' + Array.from({ length: 5_000 }, (_, i) => `"row, ${i}",${i}`).join('\n') + '\n');
    const source = await openPromptFile(path);
    expect(source.count).toBe(5_000);
    expect(source.column).toBe('prompt');
    const firstThree = [];
    for await (const row of source.rows()) {
      firstThree.push(row);
      if (firstThree.length === 3) break;
    }
    expect(firstThree.map((r) => r.prompt)).toEqual(['row, 0', 'row, 1', 'row, 2']);
    let n = 0;
    for await (const row of source.rows()) expect(row.index).toBe(n++);
    expect(n).toBe(5_000);
  });

  it('refuses to read rows from a file that changed after it was checked', async () => {
    const path = join(dir.path, 'changing.jsonl');
    writeFileSync(path, '{"prompt":"a"}\n{"prompt":"b"}\n');
    const source = await openPromptFile(path);
    appendFileSync(path, '{"prompt":"c"}\n');
    await expect(source.rows().next()).rejects.toThrow(/changed after it was read/);
  });
});

describe('sample states replayed from a log', () => {
  it('agree with the full replay on counts, usage, open samples and the first failures, for a log of many sessions', async () => {
    const runs = new RunStore(join(dir.path, 'states'));
    mkdirSync(join(runs.dir, 'many-sessions'), { recursive: true });
    const random = seededRandom(7);
    const int = (below: number) => Math.floor(random() * below);
    const events: SampleEvent[] = [];
    for (let n = 0; n < 4_000; n++) {
      const i = int(1_500);
      const s = (['started', 'done', 'failed'] as const)[int(3)]!;
      // Failed events carry long raw output, so the log is read over several chunks.
      events.push({ i, s, record_id: `rec-${i}`, at: 'x', ...(s === 'failed' ? { error: `boom ${n}`, raw: 'r'.repeat(int(3_000)) } : {}), ...(s !== 'started' ? { usage: { calls: 1, cached_calls: 0, prompt_tokens: 2, completion_tokens: 3, by_role: { intents: { calls: 1, prompt_tokens: 2, completion_tokens: 3 } }, by_model: { m: { calls: 1, prompt_tokens: 2, completion_tokens: 3 } } } } : {}) });
    }
    for (const event of events) await runs.append('many-sessions', event);
    await runs.release('many-sessions');
    const full = await runs.progress('many-sessions');
    const states = await SampleStates.fromLog(runs, 'many-sessions', 1_500);
    expect(states.done).toBe(full.done);
    expect(states.failed).toBe(full.failed);
    expect(states.usage).toEqual(full.usage);
    // Failures still standing, in the order they happened (their last event's place in the log).
    const lastAt = new Map(events.map((e, n) => [e.i, n]));
    const failures = [...full.samples.values()].filter((e) => e.s === 'failed').sort((a, b) => lastAt.get(a.i)! - lastAt.get(b.i)!);
    expect(states.failures).toEqual(failures.slice(0, LISTED_FAILURES).map((e) => ({ index: e.i, error: e.error })));
    for (let i = 0; i < 1_500; i++) {
      const last = full.samples.get(i);
      expect(states.isDone(i)).toBe(last?.s === 'done');
      expect(states.openSample(i)?.record_id).toBe(last && last.s !== 'done' ? last.record_id : undefined);
    }
  });

  it('keep the failure list at the first failures still standing as samples succeed and fail', () => {
    const states = new SampleStates(100);
    for (let i = 0; i < 30; i++) states.failedWith(i, `e${i}`);
    expect(states.failed).toBe(30);
    expect(states.failures.map((f) => f.index)).toEqual(Array.from({ length: LISTED_FAILURES }, (_, i) => i));
    states.succeeded(40);
    expect(states.done).toBe(1);
    expect(states.isDone(40)).toBe(true);
    expect(states.isDone(41)).toBe(false);
  });
});

describe('a run over a large input', () => {
  const server = new ScriptedModelServer();
  beforeAll(() => server.start());
  afterAll(() => server.close());

  it('stops after max_samples of a 100,000-row file with the whole file counted, and resumes where it stopped', async () => {
    const path = join(dir.path, 'large.jsonl');
    writeFileSync(path, Array.from({ length: 100_000 }, (_, i) => JSON.stringify({ prompt: `How do I keep my houseplant number ${i} alive?` })).join('\n') + '\n');
    const data = join(dir.path, 'large-data');
    const ctx = await createContext({ config: testConfig(server.url, data) });
    const run = await BatchRun.prepare(ctx, request(path, { budgets: { maxSamples: 6 } }));
    expect(run.estimate.samples).toBe(100_000);
    const first = await run.start();
    expect(first).toMatchObject({ status: 'stopped', total: 100_000, done: 6, failed: 0, pending: 99_994 });
    const resumed = await (await BatchRun.prepare(ctx, request(path, { budgets: { maxSamples: 10 } }))).start();
    expect(resumed).toMatchObject({ status: 'stopped', done: 10 });
    const progress = await ctx.runs.progress(resumed.run_id);
    expect([...progress.samples.values()].filter((e) => e.s === 'done').map((e) => e.i).sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    await ctx.close();
  });

  it('fails the run, naming the file, when the input changes between start and the rows it reads', async () => {
    const path = join(dir.path, 'edited.jsonl');
    writeFileSync(path, Array.from({ length: 20 }, (_, i) => JSON.stringify({ prompt: `Question ${i}?` })).join('\n') + '\n');
    const ctx = await createContext({ config: testConfig(server.url, join(dir.path, 'edited-data')) });
    const run = await BatchRun.prepare(ctx, request(path));
    appendFileSync(path, JSON.stringify({ prompt: 'one more' }) + '\n');
    const status = await run.start();
    expect(status.status).toBe('failed');
    expect(status.error).toMatch(/edited\.jsonl changed after it was read/);
    await ctx.close();
  });
});
