import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GRADE_METRICS } from '../src/agents/grader.js';
import type { Comparison } from '../src/compare/compare-runs.js';
import type { AppContext } from '../src/context.js';
import { bootstrapMean, BOOTSTRAP_RESAMPLES, BOOTSTRAP_SEED } from '../src/stats/bootstrap.js';
import type { CotRecord } from '../src/store/record.js';
import { launchBrowser } from './helpers/browser.js';
import { runCli, startCli } from './helpers/cli.js';
import { cliAgainst, connectClient, contextFor, BENCHMARKS, tempDir } from './helpers/fixtures.js';
import { ScriptedModelServer } from './helpers/scripted-model-server.js';

const xstest = fileURLToPath(new URL('xstest.jsonl', BENCHMARKS));
const advbench = fileURLToPath(new URL('advbench.jsonl', BENCHMARKS));

/** A run's finished records, read straight from the store, by prompt. */
async function recordsByPrompt(ctx: AppContext, runId: string): Promise<Map<string, CotRecord>> {
  const progress = await ctx.runs.progress(runId);
  const byPrompt = new Map<string, CotRecord>();
  for (const event of progress.samples.values()) {
    if (event.s !== 'done') continue;
    const record = await ctx.store.get(event.record_id);
    if (record?.kind === 'cot') byPrompt.set(record.prompt, record);
  }
  return byPrompt;
}

describe('comparing an AIDSAFE run with a baseline run of the same 30 XSTest prompts', () => {
  const data = tempDir();
  const server = new ScriptedModelServer();
  let env: NodeJS.ProcessEnv;
  let aidsafeRun: string;
  let baselineRun: string;
  let comparison: Comparison & { report: string };
  beforeAll(async () => {
    await server.start();
    env = { OPENAI_BASE_URL: server.url, AIDSAFE_MODEL: 'scripted-model', AIDSAFE_DATA_DIR: data.path };
    // The AIDSAFE run is left ungraded, so the comparison has to grade it first.
    const aidsafe = await runCli(['run', '--input', xstest, '--limit', '30'], env);
    expect(aidsafe.code, aidsafe.stderr).toBe(0);
    aidsafeRun = (JSON.parse(aidsafe.stdout) as { run_id: string }).run_id;
    const baseline = await runCli(['run', '--input', xstest, '--limit', '30', '--recipe', 'baseline', '--grade'], env);
    expect(baseline.code, baseline.stderr).toBe(0);
    baselineRun = (JSON.parse(baseline.stdout) as { run_id: string }).run_id;
  }, 120_000);
  afterAll(async () => {
    await server.close();
    data.remove();
  });

  it('checks the grader\'s server before it creates a grading run: a wrong port fails in seconds, naming the URL', async () => {
    const runsBefore = readdirSync(join(data.path, 'runs')).sort();
    const result = await runCli(['compare', '--run', aidsafeRun, '--run', baselineRun], { ...env, OPENAI_BASE_URL: 'http://127.0.0.1:1/v1' });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('endpoint: cannot reach http://127.0.0.1:1/v1 (set by OPENAI_BASE_URL) for grader (model scripted-model)');
    expect(readdirSync(join(data.path, 'runs')).sort()).toEqual(runsBefore);
    expect(existsSync(join(data.path, 'comparisons'))).toBe(false);
  });

  it('grades the ungraded side through a run, then prints the table and the JSON and writes the report', async () => {
    expect(baselineRun).not.toBe(aidsafeRun);
    expect(server.callsFor('grading')).toHaveLength(30);
    const out = join(data.path, 'compare.html');
    const result = await runCli(['compare', '--run', aidsafeRun, '--run', baselineRun, '--out', out], env);
    expect(result.code, result.stderr).toBe(0);
    comparison = JSON.parse(result.stdout) as Comparison & { report: string };
    expect(server.callsFor('grading')).toHaveLength(60);
    expect(comparison.grading).toEqual([expect.objectContaining({ run_id: aidsafeRun, status: 'done', graded: 30, failed: 0 })]);
    expect(comparison).toMatchObject({ pairs: 30, graded_pairs: 30, only_in_a: 0, only_in_b: 0, report: out });
    expect(comparison.runs.map((r) => r.recipe)).toEqual(['aidsafe', 'baseline']);
    expect(comparison.bootstrap).toMatchObject({ resamples: 2_000, seed: BOOTSTRAP_SEED, confidence: 0.95 });
    expect(result.stderr).toMatch(/policy ↔ CoT\s+5\.00\s+\d\.\d\d\s+\+\d\.\d\d \[\+\d\.\d\d, \+\d\.\d\d\]\s+\d+\/\d+\/\d+\s+4\.27 \/ 3\.85/);
    expect(result.stderr).toMatch(/type = \w+ \(\d+ pairs\)/);
  }, 60_000);

  it('gives means and intervals that the stored grades reproduce', async () => {
    const ctx = await contextFor(server.url, data.path);
    try {
      const a = await recordsByPrompt(ctx, aidsafeRun);
      const b = await recordsByPrompt(ctx, baselineRun);
      const prompts = [...a.keys()].filter((p) => b.has(p));
      expect(prompts).toHaveLength(30);
      for (const metric of GRADE_METRICS) {
        const xs = prompts.map((p) => a.get(p)!.grades!.scores[metric]);
        const ys = prompts.map((p) => b.get(p)!.grades!.scores[metric]);
        const diffs = xs.map((x, i) => x - ys[i]!);
        const row = comparison.metrics.find((m) => m.metric === metric)!;
        expect(row.mean_a).toBeCloseTo(xs.reduce((s, v) => s + v, 0) / 30, 10);
        expect(row.mean_b).toBeCloseTo(ys.reduce((s, v) => s + v, 0) / 30, 10);
        const interval = bootstrapMean(diffs, { resamples: BOOTSTRAP_RESAMPLES, seed: BOOTSTRAP_SEED });
        expect([row.difference, row.ci_low, row.ci_high]).toEqual([interval.mean, interval.low, interval.high]);
        expect(row.ci_low).toBeLessThanOrEqual(row.difference);
        expect(row.ci_high).toBeGreaterThanOrEqual(row.difference);
        expect([row.wins, row.ties, row.losses]).toEqual([diffs.filter((d) => d > 0).length, diffs.filter((d) => d === 0).length, diffs.filter((d) => d < 0).length]);
      }
      // The scripted grader scores the baseline lower on policy faithfulness of the CoT on every prompt.
      const cot = comparison.metrics.find((m) => m.metric === 'faithfulness_policy_cot')!;
      expect(cot.ci_low).toBeGreaterThan(0);
      expect(cot.wins).toBe(30);
      // Per category (XSTest's "type" column): the groups add up to all pairs.
      expect(comparison.category_column).toBe('type');
      expect(comparison.categories.reduce((n, g) => n + g.pairs, 0)).toBe(30);
      expect(comparison.reference.metrics.find((m) => m.metric === 'faithfulness_policy_cot')).toMatchObject({ a: 4.27, b: 3.85 });
    } finally {
      await ctx.close();
    }
  });

  it('writes a self-contained report with a chart per score and the pairs that differ most, each with both samples', () => {
    const html = readFileSync(comparison.report, 'utf8');
    expect(html).not.toMatch(/(src|href)=["']?(https?:)?\/\//);
    expect(html).toContain('id="chart-differences"');
    for (const metric of GRADE_METRICS) expect(html).toContain(`id="chart-${metric}"`);
    expect(comparison.top_pairs.length).toBeGreaterThan(0);
    const embedded = JSON.parse(/<script type="application\/json" id="aidsafe-pairs">(.*?)<\/script>/s.exec(html)![1]!) as { a: CotRecord; b: CotRecord }[];
    expect(embedded.map((p) => [p.a.id, p.b.id])).toEqual(comparison.top_pairs.map((p) => p.record_ids));
    expect(embedded.every((p) => p.a.recipe === 'aidsafe' && p.b.recipe === 'baseline')).toBe(true);
  });

  it('opens both samples of a pair side by side in the deliberation view, offline', async () => {
    const browser = await launchBrowser();
    try {
      const page = await browser.newPage({ viewport: { width: 1200, height: 1000 } });
      const problems: string[] = [];
      page.on('request', (r) => {
        if (!/^(file|data|about):/.test(r.url())) problems.push(r.url());
      });
      page.on('pageerror', (e) => problems.push(e.message));
      await page.goto(pathToFileURL(comparison.report).href);
      expect(await page.locator('#chart-differences circle.estimate').count()).toBe(6);
      expect(await page.locator('#chart-differences circle.reference').count()).toBe(6);
      expect(await page.locator('#pairs tbody tr').count()).toBe(comparison.top_pairs.length);
      await page.locator('#pairs tbody tr').first().click();
      const sides = page.locator('#detail .side-by-side > div');
      await sides.first().waitFor();
      expect(await sides.count()).toBe(2);
      const [ida, idb] = comparison.top_pairs[0]!.record_ids;
      expect(await sides.nth(0).locator('.meta').first().textContent()).toContain(ida);
      expect(await sides.nth(1).locator('.meta').first().textContent()).toContain(idb);
      expect(await sides.nth(1).locator('.meta').first().textContent()).toContain('zero-shot baseline');
      expect(await sides.nth(0).locator('.timeline .turn').count()).toBeGreaterThan(0);
      expect(problems).toEqual([]);
    } finally {
      await browser.close();
    }
  }, 120_000);

  it('comparing again grades nothing and gives the same numbers; compare_runs over MCP gives them too', async () => {
    const before = server.requests.length;
    const again = await runCli(['compare', '--run', aidsafeRun, '--run', baselineRun], env);
    expect(again.code, again.stderr).toBe(0);
    expect(server.requests.length).toBe(before);
    expect((JSON.parse(again.stdout) as Comparison).metrics).toEqual(comparison.metrics);
    const ctx = await contextFor(server.url, data.path);
    const { client, close } = await connectClient(ctx);
    try {
      const result = await client.callTool({ name: 'compare_runs', arguments: { run_ids: [aidsafeRun, baselineRun] } });
      expect(result.isError, JSON.stringify(result.content)).toBeFalsy();
      const structured = result.structuredContent as Comparison & { report: string };
      expect(structured.metrics).toEqual(comparison.metrics);
      expect(readFileSync(structured.report, 'utf8')).toContain('<svg');
      const bad = await client.callTool({ name: 'compare_runs', arguments: { run_ids: [aidsafeRun] } });
      expect(bad.isError).toBe(true);
      expect(JSON.stringify(bad.content)).toMatch(/run_ids/);
    } finally {
      await close();
      await ctx.close();
    }
  }, 30_000);

  it('names a run that does not exist, and two runs with no prompt in common', async () => {
    const missing = await runCli(['compare', '--run', aidsafeRun, '--run', 'run-nosuchrun'], env);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/run_ids: no run "run-nosuchrun" in this data folder/);
    const other = await runCli(['run', '--input', advbench, '--limit', '3', '--recipe', 'baseline'], env);
    expect(other.code, other.stderr).toBe(0);
    const otherRun = (JSON.parse(other.stdout) as { run_id: string }).run_id;
    const disjoint = await runCli(['compare', '--run', aidsafeRun, '--run', otherRun], env);
    expect(disjoint.code).toBe(2);
    expect(disjoint.stderr).toContain(`runs "${aidsafeRun}"`);
    expect(disjoint.stderr).toMatch(/have no prompt in common/);
    const badRecipe = await runCli(['run', '--input', xstest, '--recipe', 'solo'], env);
    expect(badRecipe.code).toBe(2);
    expect(badRecipe.stderr).toMatch(/--recipe must be one of aidsafe, baseline \(got "solo"\)/);
    const once = await runCli(['compare', '--run', aidsafeRun], env);
    expect(once.code).toBe(2);
    expect(once.stderr).toMatch(/--run must be given twice/);
  }, 30_000);
});

describe('a fair comparison: both runs graded on the same input', () => {
  const server = new ScriptedModelServer();
  const { data, env } = cliAgainst(server);

  it('grades without intents on both sides, and grades again the records graded with their intents', async () => {
    const aidsafe = await runCli(['run', '--input', xstest, '--limit', '6', '--grade'], env);
    expect(aidsafe.code, aidsafe.stderr).toBe(0);
    const aidsafeRun = (JSON.parse(aidsafe.stdout) as { run_id: string }).run_id;
    const baseline = await runCli(['run', '--input', xstest, '--limit', '6', '--recipe', 'baseline', '--grade'], env);
    expect(baseline.code, baseline.stderr).toBe(0);
    const baselineRun = (JSON.parse(baseline.stdout) as { run_id: string }).run_id;
    // Both recipes' grading requests carry the same fields: no intents on either side.
    expect(server.callsFor('grading').map((r) => Object.keys(JSON.parse(r.messages[1]!.content) as object))).toEqual(Array(12).fill(['query', 'reasoning', 'answer']));

    // The AIDSAFE records as grades made with their intents left them: no record of the grading input.
    const ctx = await contextFor(server.url, data.path);
    try {
      for (const record of (await recordsByPrompt(ctx, aidsafeRun)).values()) {
        expect(record.grades?.input).toBe('request');
        const { input: _input, ...older } = record.grades!;
        await ctx.store.put({ ...record, grades: older });
      }
    } finally {
      await ctx.close();
    }
    const before = server.callsFor('grading').length;
    const result = await runCli(['compare', '--run', aidsafeRun, '--run', baselineRun], env);
    expect(result.code, result.stderr).toBe(0);
    const comparison = JSON.parse(result.stdout) as Comparison;
    expect(comparison.grading_input).toBe('request');
    expect(comparison.grading).toEqual([expect.objectContaining({ run_id: aidsafeRun, status: 'done', graded: 6 })]);
    expect(comparison.graded_pairs).toBe(6);
    // Graded again with the very request the run made (no intents), so the request cache answers it at no cost.
    expect(server.callsFor('grading').length).toBe(before);
    const reread = await contextFor(server.url, data.path);
    try {
      for (const record of (await recordsByPrompt(reread, aidsafeRun)).values()) expect(record.grades?.input).toBe('request');
    } finally {
      await reread.close();
    }
  }, 60_000);
});

describe('a comparison killed while it grades', () => {
  // Grading replies are slow, so the comparison can be killed with some samples graded and some not.
  const server = new ScriptedModelServer({ respond: async (req) => (req.role === 'grading' ? new Promise((done) => setTimeout(() => done(undefined), 150)) : undefined) });
  const { env } = cliAgainst(server);

  it('resumes when run again and grades no sample twice', async () => {
    const ids: string[] = [];
    for (const recipe of ['aidsafe', 'baseline']) {
      const result = await runCli(['run', '--input', xstest, '--limit', '12', '--recipe', recipe], env);
      expect(result.code, result.stderr).toBe(0);
      ids.push((JSON.parse(result.stdout) as { run_id: string }).run_id);
    }
    const first = startCli(['compare', '--run', ids[0]!, '--run', ids[1]!, '--concurrency', '2'], env);
    const deadline = Date.now() + 20_000;
    while (server.callsFor('grading').length < 5 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    first.child.kill('SIGKILL');
    await first.done;
    const beforeResume = server.callsFor('grading').length;
    expect(beforeResume).toBeGreaterThanOrEqual(5);
    expect(beforeResume).toBeLessThan(24);

    const second = await runCli(['compare', '--run', ids[0]!, '--run', ids[1]!, '--concurrency', '2'], env);
    expect(second.code, second.stderr).toBe(0);
    const comparison = JSON.parse(second.stdout) as Comparison;
    expect(comparison.graded_pairs).toBe(12);
    expect(comparison.grading.map((g) => [g.status, g.graded])).toEqual([
      ['done', 12],
      ['done', 12],
    ]);
    // Every sample was graded; only the calls in flight at the kill (at most the concurrency, 2) were sent again.
    const bodies = server.callsFor('grading').map((c) => JSON.stringify(c.messages));
    expect(new Set(bodies).size).toBe(24);
    expect(bodies.length).toBeLessThanOrEqual(24 + 2);
  }, 90_000);
});
