import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createContext } from '../src/context.js';
import { BatchRun, type BatchRequest } from '../src/pipeline/batch.js';
import { AppendLog } from '../src/store/append-log.js';
import { BENCHMARKS, tempDir, testConfig } from './helpers/fixtures.js';
import { ScriptedModelServer } from './helpers/scripted-model-server.js';

/**
 * A full disk, injected where the product meets the file system: once `fault.full` says so for a path,
 * writing to it puts a few bytes on disk (as a real ENOSPC mid-write does) and then fails.
 */
const fault = vi.hoisted(() => ({ full: (_path: string): boolean => false }));
vi.mock('node:fs/promises', async (importOriginal) => (await import('./helpers/disk-full.js')).fullDisk(await importOriginal(), fault, { handles: true }));

const xstest = fileURLToPath(new URL('xstest.jsonl', BENCHMARKS));
const model = new ScriptedModelServer({ latencyMs: 2 });
const data = tempDir();

beforeAll(() => model.start());
afterEach(() => {
  fault.full = () => false;
});
afterAll(async () => {
  await model.close();
  data.remove();
});

function request(overrides: Partial<BatchRequest>): BatchRequest {
  return { inputPath: xstest, concurrency: 2, grade: false, preference: false, agents: 1, maxRounds: 1, beliefRounds: 3, minMargin: 1, budgets: {}, ...overrides };
}

/** Every file under the data folder whose name says it is a leftover temp file. */
function tempFiles(): string[] {
  const found: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (/\.tmp$|\.filled$/.test(entry.name)) found.push(relative(data.path, path));
    }
  };
  walk(data.path);
  return found;
}

const manifestOf = (runId: string) => JSON.parse(readFileSync(join(data.path, 'runs', runId, 'run.json'), 'utf8')) as { status: string; error?: string };

describe('a full disk during a run', () => {
  it('when records cannot be written, the run is marked failed with the reason and leaves no temp files', async () => {
    const ctx = await createContext({ config: testConfig(model.url, data.path) });
    let records = 0;
    fault.full = (path) => path.includes(`${join(data.path, 'records')}/`) && ++records > 3;
    const run = await BatchRun.prepare(ctx, request({ limit: 12, runId: 'records-full' }));
    const final = await run.start();
    expect(final.status).toBe('failed');
    expect(final.error).toMatch(/ENOSPC/);
    expect(manifestOf('records-full')).toMatchObject({ status: 'failed', error: expect.stringMatching(/ENOSPC/) as unknown });
    expect(tempFiles()).toEqual([]);
    expect(await ctx.runs.lockHolder('records-full')).toBeUndefined();
    await ctx.close();
  });

  it('when nothing can be written, the run ends, is not left running, and resumes to the end once there is room', async () => {
    const ctx = await createContext({ config: testConfig(model.url, data.path) });
    let writes = 0;
    const runDir = join(data.path, 'runs', 'all-full');
    fault.full = (path) => (path.startsWith(`${join(data.path, 'records')}/`) || path.startsWith(`${runDir}/`) || path.startsWith(join(data.path, 'cache'))) && ++writes > 12;
    const first = await (await BatchRun.prepare(ctx, request({ limit: 12, runId: 'all-full' }))).start();
    expect(first.status).toBe('failed');
    expect(first.error).toMatch(/ENOSPC/);
    expect(tempFiles()).toEqual([]);
    expect(await ctx.runs.lockHolder('all-full')).toBeUndefined();
    // The manifest could not be rewritten: a reader sees a run no process holds, i.e. interrupted.
    expect(['failed', 'running']).toContain(manifestOf('all-full').status);

    fault.full = () => false;
    const second = await (await BatchRun.prepare(ctx, request({ limit: 12, runId: 'all-full' }))).start();
    expect(second).toMatchObject({ status: 'done', done: 12, failed: 0, total: 12 });
    expect(manifestOf('all-full').status).toBe('done');
    const progress = await ctx.runs.progress('all-full');
    expect(progress.done).toBe(12);
    expect(tempFiles()).toEqual([]);
    await ctx.close();
  });

  it('a log line cut short by a full disk does not swallow the lines after it, and offsets stay right', async () => {
    const path = join(data.path, 'log.jsonl');
    const log = new AppendLog(path);
    expect(await log.append('{"n":1}')).toBe(0);
    fault.full = (p) => p === path;
    await expect(log.append('{"n":2}')).rejects.toThrow(/ENOSPC/);
    fault.full = () => false;
    const offset = await log.append('{"n":3}');
    await log.close();
    const text = readFileSync(path, 'utf8');
    expect(text.slice(offset, offset + 7)).toBe('{"n":3}');
    // a new log on the same file (a resumed run) starts on a line of its own too
    fault.full = (p) => p === path;
    const again = new AppendLog(path);
    await expect(again.append('{"n":4}')).rejects.toThrow(/ENOSPC/);
    await again.close();
    fault.full = () => false;
    const fresh = new AppendLog(path);
    await fresh.append('{"n":5}');
    await fresh.close();
    const lines = readFileSync(path, 'utf8').split('\n').filter(Boolean);
    const parsed = lines.flatMap((line) => {
      try {
        return [JSON.parse(line) as { n: number }];
      } catch {
        return [];
      }
    });
    expect(parsed.map((p) => p.n)).toEqual([1, 3, 5]);
  });
});
