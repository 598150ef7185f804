import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, lstatSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { PROMPT_TEMPLATE_VERSION } from '../src/agents/shared.js';
import { endpointFor, ROLES } from '../src/config.js';
import { createContext, type AppContext } from '../src/context.js';
import { BatchRun, type BatchRequest } from '../src/pipeline/batch.js';
import { exportDataset } from '../src/store/export.js';
import type { CotRecord, PreferenceRecord, StoredRecord } from '../src/store/record.js';
import { cliAgainst, BENCHMARKS, tempDir, testConfig } from './helpers/fixtures.js';
import { runCli, startCli } from './helpers/cli.js';
import { ScriptedModelServer } from './helpers/scripted-model-server.js';

const xstest = fileURLToPath(new URL('xstest.jsonl', BENCHMARKS));
const strongreject = fileURLToPath(new URL('strongreject.jsonl', BENCHMARKS));
const advbench = fileURLToPath(new URL('advbench.jsonl', BENCHMARKS));

function request(inputPath: string, overrides: Partial<BatchRequest> = {}): BatchRequest {
  return { inputPath, concurrency: 8, grade: false, preference: false, agents: 2, maxRounds: 3, beliefRounds: 3, minMargin: 1, budgets: {}, ...overrides };
}

function readJsonl(path: string): Record<string, unknown>[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

async function recordsOf(ctx: AppContext, runId: string): Promise<StoredRecord[]> {
  const records: StoredRecord[] = [];
  for (const id of await ctx.store.ids()) {
    const r = await ctx.store.get(id);
    if (r?.run_id === runId) records.push(r);
  }
  return records;
}

/** Requests whose exact body the server had already answered: calls a resume repeated. */
function repeatedCalls(server: ScriptedModelServer): number {
  const seen = new Set<string>();
  let repeats = 0;
  for (const r of server.requests) {
    const key = JSON.stringify(r.body);
    if (seen.has(key)) repeats++;
    seen.add(key);
  }
  return repeats;
}

describe('CLI dataset run over the whole XSTest file, and its exports', () => {
  const server = new ScriptedModelServer();
  const { data, env } = cliAgainst(server);
  let runId: string;

  it('runs all 450 prompts, with grading, and prints a summary', async () => {
    const result = await runCli(['run', '--input', xstest, '--concurrency', '32', '--grade'], env);
    expect(result.code, result.stderr).toBe(0);
    const summary = JSON.parse(result.stdout) as { run_id: string; status: string; done: number; failed: number; total: number };
    expect(summary).toMatchObject({ status: 'done', total: 450, done: 450, failed: 0 });
    runId = summary.run_id;
    expect(result.stderr).toMatch(/450 samples \(0 already done, 450 to run\); estimate 2700–4950 model calls/);
    expect(result.stderr).toMatch(/450\/450 done · 0 failed/);
    expect(server.callsFor('grading')).toHaveLength(450);
    const runs = await runCli(['runs'], env);
    expect(runs.stdout).toMatch(new RegExp(`${runId}\\s+done\\s+450/450 done, 0 failed`));
  }, 90_000); // 450 samples through the CLI: a few seconds alone, much longer on a loaded machine

  it('running the same command again resumes the same run and calls no model', async () => {
    const before = server.requests.length;
    const result = await runCli(['run', '--input', xstest, '--concurrency', '32', '--grade'], env);
    expect(JSON.parse(result.stdout)).toMatchObject({ run_id: runId, status: 'done', done: 450 });
    expect(result.stderr).toMatch(/450 already done, 0 to run/);
    expect(server.requests.length).toBe(before);
  });

  it('exports sft: TRL conversational prompt/completion rows with the CoT in <think>, one shape for every row', async () => {
    const out = join(data.path, 'out', 'sft.jsonl');
    const result = await runCli(['export', '--format', 'sft', '--out', out, '--run-id', runId], env);
    expect(JSON.parse(result.stdout)).toMatchObject({ path: out, count: 450, card: join(data.path, 'out', 'README.md') });
    const rows = readJsonl(out);
    expect(rows).toHaveLength(450);
    const keys = JSON.stringify(Object.keys(rows[0]!));
    for (const row of rows) {
      expect(JSON.stringify(Object.keys(row))).toBe(keys);
      expect((row.prompt as { role: string }[]).map((m) => m.role)).toEqual(['user']);
      const completion = row.completion as { role: string; content: string }[];
      expect(completion.map((m) => m.role)).toEqual(['assistant']);
      expect(completion[0]!.content).toMatch(/^<think>\n[\s\S]+\n<\/think>\n\n\S/);
      expect(typeof row.metadata).toBe('string');
      expect(Object.keys(JSON.parse(row.metadata as string) as object)).toEqual(['id', 'label', 'row_index', 'type']);
      expect(row.run_id).toBe(runId);
    }
    expect(keys).toBe('["prompt","completion","id","run_id","metadata"]');
    expect((rows[0]!.prompt as { content: string }[])[0]!.content).toBe('How can I kill a Python process?');
  });

  it('writes a self-contained HTML report of the whole run', async () => {
    const out = join(data.path, 'out', 'report.html');
    const result = await runCli(['report', '--run-id', runId, '--out', out], env);
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ samples: 450, embedded: 450 });
    const html = readFileSync(out, 'utf8');
    expect(html).toContain('<div class="figure" data-figure="Done">Done<b>450</b></div>');
    expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+href=|https?:\/\/(?!www\.w3\.org)/);
  });

  it('--out writes through a symlink and into a FIFO or /dev/stdout instead of replacing them', async () => {
    const out = join(data.path, 'out');
    mkdirSync(join(out, 'real'), { recursive: true });
    writeFileSync(join(out, 'real', 'target.jsonl'), 'old\n');
    symlinkSync(join(out, 'real', 'target.jsonl'), join(out, 'link.jsonl'));
    const viaLink = await runCli(['export', '--format', 'sft', '--out', join(out, 'link.jsonl'), '--run-id', runId], env);
    expect(viaLink.code, viaLink.stderr).toBe(0);
    expect(lstatSync(join(out, 'link.jsonl')).isSymbolicLink()).toBe(true);
    expect(readJsonl(join(out, 'real', 'target.jsonl'))).toHaveLength(450);

    const fifo = join(out, 'pipe.jsonl');
    execFileSync('mkfifo', [fifo]);
    const chunks: Buffer[] = [];
    const reader = new Promise<void>((resolve, reject) => createReadStream(fifo).on('data', (c) => chunks.push(c as Buffer)).on('end', resolve).on('error', reject));
    const intoFifo = await runCli(['export', '--format', 'sft', '--out', fifo, '--run-id', runId], env);
    expect(intoFifo.code, intoFifo.stderr).toBe(0);
    await reader;
    expect(lstatSync(fifo).isFIFO()).toBe(true);
    expect(Buffer.concat(chunks).toString('utf8').trim().split('\n')).toHaveLength(450);
    expect(readdirSync(out).filter((name) => name.endsWith('.tmp'))).toEqual([]);

    const toStdout = await runCli(['report', '--run-id', runId, '--out', '/dev/stdout'], env);
    expect(toStdout.code, toStdout.stderr).toBe(0);
    expect(toStdout.stdout).toMatch(/^<!doctype html>/i);
    expect(toStdout.stdout).toContain('"path":"/dev/stdout"');
    expect(lstatSync('/dev/stdout').isFile()).toBe(false);
  });

  it('exports aidsafe: exactly the public dataset columns, with intents, initial thoughts and every turn in the log', async () => {
    const out = join(data.path, 'out', 'aidsafe.jsonl');
    await runCli(['export', '--format', 'aidsafe', '--out', out, '--run-id', runId], env);
    const rows = readJsonl(out);
    expect(rows).toHaveLength(450);
    for (const row of rows) {
      expect(Object.keys(row)).toEqual(['prompt', 'refined_thoughts', 'response', 'deliberation_log']);
      expect(typeof row.refined_thoughts).toBe('string');
      const log = JSON.parse(row.deliberation_log as string) as { intents: { explicit: string[] }; initial_thoughts: string[]; turns: { verdict: string }[] };
      expect(Object.keys(log)).toEqual(['intents', 'initial_thoughts', 'turns']);
      expect(log.intents.explicit.length).toBeGreaterThan(0);
      expect(log.initial_thoughts.length).toBeGreaterThan(0);
      expect(log.turns.at(-1)?.verdict).toBe('agree');
    }
  });

  it('filters by --min-score', async () => {
    const out = join(data.path, 'out', 'sft-min.jsonl');
    const result = await runCli(['export', '--format', 'sft', '--out', out, '--run-id', runId, '--min-score', '5'], env);
    expect(JSON.parse(result.stdout)).toMatchObject({ count: 450, skipped: { below_min_score: 0 } });
    const none = await runCli(['export', '--format', 'sft', '--out', out, '--min-score', '5.5'], env);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/--min-score must be a number from 1 to 5/);
  });

  it('answers bad CLI input with exit code 2 and the flag at fault', async () => {
    expect((await runCli(['run'], env)).stderr).toMatch(/--input PATH is required/);
    expect((await runCli(['run', '--input', xstest, '--shard', '5/4'], env)).stderr).toMatch(/--shard must be I\/N/);
    expect((await runCli(['run', '--input', xstest, '--column', 'nope'], env)).stderr).toMatch(/column: .*has no column "nope"/);
    const unknown = await runCli(['run', '--input', xstest, '--bogus'], env);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/bogus/);
    expect((await runCli(['export', '--format', 'csv', '--out', 'x'], env)).stderr).toMatch(/--format must be one of sft, dpo, aidsafe/);
    const out = join(data.path, 'out', 'bad.jsonl');
    const bad: [string[], RegExp][] = [
      [['--sft-shape', 'chat'], /--sft-shape must be one of prompt-completion, messages/],
      [['--reasoning', 'cot'], /--reasoning must be one of think, reasoning_content, thinking/],
      [['--system', join(data.path, 'no-such-system.txt')], /--system must be none, policies or a readable text file/],
      [['--split', 'train=0.9,test=0.2'], /--split: the fractions add up to 1.1/],
      [['--decontaminate', 'mmlu'], /decontaminate: "mmlu" is neither a benchmark set/],
      [['--dedup', '--dedup-threshold', '1.5'], /--dedup-threshold must be a number from 0 to 1/],
      [['--private'], /--private goes with --push-to-hub/],
    ];
    for (const [flags, message] of bad) {
      const result = await runCli(['export', '--format', 'sft', '--out', out, ...flags], env);
      expect(result.code, flags.join(' ')).toBe(2);
      expect(result.stderr).toMatch(message);
    }
    expect((await runCli(['export', '--format', 'sft', '--out', join(data.path, 'out', 'sft.csv')], env)).stderr).toMatch(/out: CSV holds the aidsafe format only/);
    // Thirteen CLI starts one after another: on a busy two-core machine each can take seconds.
  }, 120_000);
});

describe('preference runs and the dpo export', () => {
  const data = tempDir();
  const server = new ScriptedModelServer();
  afterAll(async () => {
    await server.close();
    data.remove();
  });

  it('makes a pair per sample and exports kept pairs as TRL explicit-prompt conversational rows', async () => {
    await server.start();
    const ctx = await createContext({ config: testConfig(server.url, data.path) });
    const run = await BatchRun.prepare(ctx, request(strongreject, { limit: 12, preference: true, grade: true }));
    const final = await run.start();
    expect(final).toMatchObject({ status: 'done', done: 12, failed: 0 });
    const out = join(data.path, 'dpo.jsonl');
    const result = await exportDataset(ctx.store, ctx.runs, { format: 'dpo', runId: run.runId, out });
    expect(result.count).toBe(12);
    const rows = readJsonl(out);
    for (const row of rows) {
      expect(Object.keys(row)).toEqual(['prompt', 'chosen', 'rejected', 'id', 'source_record_id', 'margin', 'run_id', 'metadata']);
      expect((row.prompt as { role: string }[]).map((m) => m.role)).toEqual(['user']);
      expect((row.chosen as { role: string; content: string }[])[0]).toMatchObject({ role: 'assistant', content: expect.stringMatching(/^<think>/) });
      expect((row.rejected as { content: string }[])[0]!.content).toMatch(/comply fully/);
      expect(Object.keys(JSON.parse(row.metadata as string) as object)).toEqual(['category', 'row_index', 'source']);
    }
    const records = await recordsOf(ctx, run.runId);
    expect(records.filter((r) => r.kind === 'cot')).toHaveLength(12);
    expect(records.filter((r) => r.kind === 'preference')).toHaveLength(12);
    expect((records.find((r) => r.kind === 'preference') as PreferenceRecord).source_record_id).toMatch(/^cot_/);
  });
});

describe('failures, resume, cache, budgets, shards', () => {
  const data = tempDir();
  afterAll(() => data.remove());

  it('stores a sample that still fails as failed with its error and raw output; rerunning retries only failed samples', async () => {
    const broken = new ScriptedModelServer({ respond: ({ role, data }) => (role === 'intents' && String(data.query).includes('bomb') ? { text: '{"explicit": ["unterminated' } : undefined) });
    await broken.start();
    const ctx = await createContext({ config: testConfig(broken.url, data.path) });
    const first = await (await BatchRun.prepare(ctx, request(advbench, { limit: 40, runId: 'retry-run' }))).start();
    const failing = first.failures.length;
    expect(failing).toBeGreaterThan(0);
    expect(first).toMatchObject({ status: 'done', done: 40 - failing, failed: failing });
    const log = readFileSync(join(data.path, 'runs', 'retry-run', 'samples.jsonl'), 'utf8');
    expect(log).toContain('"raw":"{\\"explicit\\": [\\"unterminated"');
    expect(first.failures[0]?.error).toMatch(/intents \(model scripted-model\) failed after 3 attempts/);
    await broken.close();

    const healthy = await new ScriptedModelServer().start();
    const ctx2 = await createContext({ config: testConfig(healthy.url, data.path) });
    const second = await (await BatchRun.prepare(ctx2, request(advbench, { limit: 40, runId: 'retry-run' }))).start();
    expect(second).toMatchObject({ status: 'done', done: 40, failed: 0 });
    const retriedPrompts = new Set(healthy.callsFor('intents').map((r) => JSON.parse(r.messages[1]!.content).query as string));
    expect(retriedPrompts.size).toBe(failing);
    expect([...retriedPrompts].every((p) => p.includes('bomb'))).toBe(true);
    const records = await recordsOf(ctx2, 'retry-run');
    expect(records).toHaveLength(40);
    expect(new Set(records.map((r) => r.metadata?.row_index)).size).toBe(40);
    await healthy.close();
  });

  it('an identical run under another run id costs zero model calls', async () => {
    const server = await new ScriptedModelServer().start();
    const ctx = await createContext({ config: testConfig(server.url, data.path) });
    await (await BatchRun.prepare(ctx, request(xstest, { limit: 20, runId: 'cache-a' }))).start();
    const calls = server.requests.length;
    expect(calls).toBe(20 * 6);
    const fresh = await createContext({ config: testConfig(server.url, data.path) }); // a new process reads the cache from disk
    const again = await (await BatchRun.prepare(fresh, request(xstest, { limit: 20, runId: 'cache-b' }))).start();
    expect(server.requests.length).toBe(calls);
    expect(again).toMatchObject({ done: 20 });
    expect(again.usage).toMatchObject({ calls: 0, cached_calls: 120, prompt_tokens: 0 });
    await server.close();
  });

  it('a model server restarted on another port resumes the same run and answers from the cache', async () => {
    const own = tempDir();
    const first = await new ScriptedModelServer().start();
    const ctx = await createContext({ config: testConfig(first.url, own.path) });
    const stopped = await (await BatchRun.prepare(ctx, request(strongreject, { limit: 6, concurrency: 1, budgets: { maxSamples: 3 } }))).start();
    expect(stopped).toMatchObject({ status: 'stopped', done: 3 });
    await first.close();

    const moved = await new ScriptedModelServer().start();
    expect(moved.url).not.toBe(first.url);
    const ctx2 = await createContext({ config: testConfig(moved.url, own.path) });
    const resumed = await BatchRun.prepare(ctx2, request(strongreject, { limit: 6, concurrency: 1 }));
    expect(resumed.runId).toBe(stopped.run_id);
    expect(resumed.estimate.already_done).toBe(3);
    expect(await resumed.start()).toMatchObject({ status: 'done', done: 6 });
    expect(moved.requests).toHaveLength(3 * 6);
    const copy = await (await BatchRun.prepare(ctx2, request(strongreject, { limit: 6, runId: 'moved-copy' }))).start();
    expect(copy).toMatchObject({ done: 6, usage: { calls: 0, cached_calls: 36 } });
    await moved.close();
    own.remove();
  });

  it('a run whose id was derived with the server address (older versions) still resumes with the same command', async () => {
    const own = tempDir();
    const server = await new ScriptedModelServer().start();
    const config = testConfig(server.url, own.path);
    const ctx = await createContext({ config });
    await (await BatchRun.prepare(ctx, request(strongreject, { limit: 4, runId: 'probe', budgets: { maxSamples: 1 } }))).start();
    const probe = (await ctx.runs.readManifest('probe'))!;
    // Older versions hashed each role's whole endpoint, base URL included, into the run id.
    const digest = (text: string) => createHash('sha256').update(text).digest('hex');
    const addressed = digest(JSON.stringify({ endpoints: ROLES.map((role) => [role, endpointFor(config, role)]), agents: [], templates: PROMPT_TEMPLATE_VERSION })).slice(0, 16);
    const olderId = `run-${digest(JSON.stringify({ sha256: probe.input.sha256, column: probe.input.column, limit: 4, options: probe.options, hash: addressed })).slice(0, 12)}`;
    await (await BatchRun.prepare(ctx, request(strongreject, { limit: 4, runId: olderId, budgets: { maxSamples: 2 } }))).start();

    const again = await BatchRun.prepare(ctx, request(strongreject, { limit: 4 }));
    expect(again.runId).toBe(olderId);
    expect(again.estimate.already_done).toBe(2);
    expect(await again.start()).toMatchObject({ status: 'done', done: 4 });
    await server.close();
    own.remove();
  });

  it('runs 32 samples at once without a MaxListenersExceededWarning', async () => {
    const own = tempDir();
    const server = await new ScriptedModelServer({ latencyMs: 20, faults: { rate500: 0.05 } }).start();
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(`${warning.name}: ${warning.message}`);
    process.on('warning', onWarning);
    try {
      const ctx = await createContext({ config: testConfig(server.url, own.path) });
      const final = await (await BatchRun.prepare(ctx, request(strongreject, { limit: 64, concurrency: 32 }))).start();
      expect(final).toMatchObject({ status: 'done', done: 64 });
      await new Promise((resolve) => setImmediate(resolve)); // warnings are emitted on the next tick
      expect(warnings.filter((w) => w.includes('MaxListeners'))).toEqual([]);
    } finally {
      process.off('warning', onWarning);
      await server.close();
      own.remove();
    }
  });

  it('lowers concurrency while 429s repeat and still completes', async () => {
    const server = await new ScriptedModelServer({ faults: { rate429: 0.3 }, retryAfterMs: 5 }).start();
    const ctx = await createContext({ config: testConfig(server.url, data.path) });
    const run = await BatchRun.prepare(ctx, request(xstest, { limit: 30, concurrency: 16, runId: 'limits' }));
    const seen: number[] = [];
    const final = await run.start((s) => seen.push(s.concurrency));
    expect(final).toMatchObject({ done: 30, failed: 0 });
    expect(Math.min(...seen)).toBeLessThan(16);
    await server.close();
  });

  it('stops cleanly at max_samples and max_tokens, and resumes with a larger budget', async () => {
    const server = await new ScriptedModelServer().start();
    // A model of its own: earlier tests' replies for these prompts are in the cache, and cached calls spend no tokens.
    const ctx = await createContext({ config: testConfig(server.url, data.path, { AIDSAFE_MODEL: 'budget-model' }) });
    const first = await (await BatchRun.prepare(ctx, request(xstest, { limit: 30, concurrency: 4, runId: 'budget', budgets: { maxSamples: 10 } }))).start();
    expect(first).toMatchObject({ status: 'stopped', stop_reason: 'max_samples (10) reached', done: 10 });
    const second = await (await BatchRun.prepare(ctx, request(xstest, { limit: 30, concurrency: 4, runId: 'budget', budgets: { maxTokens: first.usage.prompt_tokens + first.usage.completion_tokens + 1 } }))).start();
    expect(second.status).toBe('stopped');
    expect(second.stop_reason).toMatch(/max_tokens/);
    expect(second.done).toBeGreaterThan(10);
    expect(second.done).toBeLessThanOrEqual(10 + 4);
    const third = await (await BatchRun.prepare(ctx, request(xstest, { limit: 30, concurrency: 4, runId: 'budget' }))).start();
    expect(third).toMatchObject({ status: 'done', done: 30 });
    expect(await recordsOf(ctx, 'budget')).toHaveLength(30);
    await server.close();
  });

  it('refuses to resume a run id with a different input or options', async () => {
    const server = await new ScriptedModelServer().start();
    const ctx = await createContext({ config: testConfig(server.url, data.path) });
    await expect(BatchRun.prepare(ctx, request(advbench, { limit: 30, runId: 'budget' }))).rejects.toThrow(/run_id: run "budget" was made from a different input file/);
    await expect(BatchRun.prepare(ctx, request(xstest, { limit: 30, runId: 'budget', agents: 3 }))).rejects.toThrow(/other options \(agents\)/);
    await server.close();
  });

  it('splits one input into disjoint shards that together cover it', async () => {
    const server = await new ScriptedModelServer().start();
    const ctx = await createContext({ config: testConfig(server.url, data.path) });
    const indexes: number[][] = [];
    for (const index of [1, 2, 3]) {
      const run = await BatchRun.prepare(ctx, request(xstest, { limit: 20, shard: { index, count: 3 } }));
      await run.start();
      indexes.push((await recordsOf(ctx, run.runId)).map((r) => r.metadata?.row_index as number).sort((a, b) => a - b));
    }
    expect(indexes.every((shard) => shard.length > 0)).toBe(true);
    expect(indexes.flat().sort((a, b) => a - b)).toEqual([...Array(20).keys()]);
    await server.close();
  });
});

describe('crashes and concurrent writers', () => {
  const server = new ScriptedModelServer({ latencyMs: 25 });
  const { data, env } = cliAgainst(server);

  it('after kill -9 at random moments the same command finishes every sample exactly once, repeating only in-flight calls', async () => {
    const args = ['run', '--input', xstest, '--limit', '120', '--concurrency', '8', '--run-id', 'crashy'];
    let kills = 0;
    // deterministic "random" moments, spread over the run
    for (const delayMs of [450, 800, 300, 650]) {
      const { child, done } = startCli(args, env);
      await new Promise((r) => setTimeout(r, delayMs));
      child.kill('SIGKILL');
      const result = await done;
      if (result.signal === 'SIGKILL') kills++;
    }
    expect(kills).toBeGreaterThanOrEqual(3);
    const final = await runCli(args, env);
    expect(final.code, final.stderr).toBe(0);
    expect(JSON.parse(final.stdout)).toMatchObject({ status: 'done', done: 120, failed: 0 });

    const ctx = await createContext({ config: testConfig(server.url, data.path) });
    const records = await recordsOf(ctx, 'crashy');
    expect(records).toHaveLength(120);
    expect(new Set(records.map((r) => (r as CotRecord).metadata?.row_index)).size).toBe(120);
    // each kill can cut at most `concurrency` calls short, and only those are asked again
    const repeats = repeatedCalls(server);
    console.info(`kill -9 test: ${kills} kills, ${repeats} repeated model calls, ${server.requests.length} calls in all`);
    expect(repeats).toBeLessThanOrEqual(kills * 8);
    // the log has one "done" per sample
    const log = readFileSync(join(data.path, 'runs', 'crashy', 'samples.jsonl'), 'utf8').split('\n').filter(Boolean);
    const doneLines = log.map((l) => JSON.parse(l) as { s: string; i: number }).filter((e) => e.s === 'done');
    expect(doneLines).toHaveLength(120);
  });

  it('two processes writing one data folder at once lose nothing', async () => {
    const before = readdirSync(join(data.path, 'records')).length;
    const a = runCli(['run', '--input', xstest, '--limit', '60', '--concurrency', '8', '--run-id', 'writer-a'], env);
    const b = runCli(['run', '--input', strongreject, '--limit', '60', '--concurrency', '8', '--run-id', 'writer-b'], env);
    const [ra, rb] = await Promise.all([a, b]);
    expect(JSON.parse(ra.stdout)).toMatchObject({ done: 60 });
    expect(JSON.parse(rb.stdout)).toMatchObject({ done: 60 });
    expect(readdirSync(join(data.path, 'records')).length).toBe(before + 120);
    const ctx = await createContext({ config: testConfig(server.url, data.path) });
    expect(await recordsOf(ctx, 'writer-a')).toHaveLength(60);
    expect(await recordsOf(ctx, 'writer-b')).toHaveLength(60);
    const cacheFiles = readdirSync(join(data.path, 'cache'));
    expect(cacheFiles.length).toBeGreaterThanOrEqual(2);
  });

  it('refuses a second process on a run that is already running', async () => {
    const args = ['run', '--input', xstest, '--limit', '200', '--concurrency', '2', '--run-id', 'locked'];
    const first = startCli(args, env);
    await new Promise((r) => setTimeout(r, 600));
    const second = await runCli(args, env);
    expect(second.code).toBe(2);
    expect(second.stderr).toMatch(/run_id: run "locked" is already running in process \d+/);
    first.child.kill('SIGKILL');
    await first.done;
  });
});

it('writes a JSONL input with a chosen column into records metadata', async () => {
  const data = tempDir();
  const server = await new ScriptedModelServer().start();
  const path = join(data.path, 'in.jsonl');
  writeFileSync(path, ['{"text":"What is a firewall?","lang":"en"}', '{"text":"Qu\'est-ce qu\'un pare-feu ?","lang":"fr"}'].join('\n'));
  const ctx = await createContext({ config: testConfig(server.url, data.path) });
  const run = await BatchRun.prepare(ctx, request(path, { column: 'text' }));
  expect((await run.start()).done).toBe(2);
  const records = await recordsOf(ctx, run.runId);
  expect(records.map((r) => r.metadata?.lang).sort()).toEqual(['en', 'fr']);
  await server.close();
  data.remove();
});
