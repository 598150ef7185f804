import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HealthTally, healthOf, type Health } from '../src/pipeline/health.js';
import { emptyUsage } from '../src/pipeline/usage.js';
import { runCli } from './helpers/cli.js';
import { connectClient, contextFor, tempDir } from './helpers/fixtures.js';
import { ScriptedModelServer, type RoleRequest } from './helpers/scripted-model-server.js';

interface PreviewJson {
  run_id: string;
  status: string;
  failed: number;
  health: Health;
  go: boolean;
  verdict: string;
  samples: { prompt: { role: string; content: string }[]; completion: { role: string; content: string }[] }[];
}

function envFor(server: ScriptedModelServer, dataDir: string): NodeJS.ProcessEnv {
  return { OPENAI_BASE_URL: server.url, AIDSAFE_MODEL: 'scripted-model', AIDSAFE_DATA_DIR: dataDir };
}

describe('aidsafe-mcp preview against a cooperative model', () => {
  const data = tempDir();
  // Every deliberator agrees at once: a sample spends one turn per focus and adds no thought.
  const server = new ScriptedModelServer({ agreeWhen: () => true });
  beforeAll(() => server.start());
  afterAll(async () => {
    await server.close();
    data.remove();
  });

  it('runs 8 shipped prompts, prints the health table, a go and two samples as the sft export writes them', async () => {
    const result = await runCli(['preview'], envFor(server, data.path));
    expect(result.code, result.stderr).toBe(0);
    const out = result.stdout;
    expect(out).toMatch(/Preview preview-[0-9a-f]{12}: 8 of 8 samples done, 0 failed/);
    expect(out).toMatch(/replies valid on first try\s+100% of \d+ {2}✓/);
    expect(out).toMatch(/repairs per reply\s+0\.00/);
    expect(out).toMatch(/thoughts removed by linter\s+0% \(none\)/);
    expect(out).toMatch(/deliberation agreed\s+100% \(8 agreed, 0 spent the budget\)/);
    // Two agents, one per focus: agreement as soon as both have read the reasoning.
    expect(out).toMatch(/turns to agreement\s+2\n/);
    expect(out).toMatch(/tokens per sample\s+\d+/);
    expect(out).toMatch(/cost per sample\s+– \(no prices in the config\)/);
    expect(out).toMatch(/time per sample\s+\d+\.\d s/);
    expect(out).toContain('\ngo: every figure is within its threshold\n');
    // The status line carries the short form.
    expect(result.stderr).toMatch(/8\/8 done · .* · first try 100% · 0\.00 repairs\/reply · 0% linted · agreed 100%/);
    expect(out.match(/Sample \d of 2, as `export --format sft` writes it:/g)).toHaveLength(2);
    expect(out).toContain('"content": "<think>\\n');
    // One benign and one harmful prompt are shown.
    const sample = readFileSync(join(data.path, 'preview', 'sample-8.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { prompt: string; kind: string });
    expect(sample.filter((s) => s.kind === 'benign')).toHaveLength(4);
    expect(sample.filter((s) => s.kind === 'harmful')).toHaveLength(4);
    expect(out).toContain(JSON.stringify(sample[0]!.prompt));
    expect(out).toContain(JSON.stringify(sample[1]!.prompt));
  }, 60_000);

  it('stores the preview as a run that resumes, reports and exports', async () => {
    const env = envFor(server, data.path);
    const before = server.requests.length;
    const again = await runCli(['preview', '--json'], env);
    expect(again.code, again.stderr).toBe(0);
    expect(server.requests.length).toBe(before);
    const json = JSON.parse(again.stdout) as PreviewJson;
    expect(json.go).toBe(true);
    expect(json.health.samples).toBe(8);
    expect(json.health.agreement).toMatchObject({ share: 1, agreed: 8, budget: 0, turns_to_agreement: 2 });
    const report = await runCli(['report', '--run-id', json.run_id, '--out', join(data.path, 'preview.html')], env);
    expect(report.code, report.stderr).toBe(0);
    const html = readFileSync(join(data.path, 'preview.html'), 'utf8');
    expect(html).toContain('<h2>Health</h2>');
    expect(html).toMatch(/deliberation agreed\s+100% \(8 agreed/);
    expect(html).toContain('go: every figure is within its threshold');
    const exported = await runCli(['export', '--format', 'sft', '--run-id', json.run_id, '--out', join(data.path, 'preview.jsonl')], env);
    expect(exported.code, exported.stderr).toBe(0);
    const rows = readFileSync(join(data.path, 'preview.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(rows).toHaveLength(8);
    // The samples shown are rows of that export, key for key.
    for (const shown of json.samples) expect(rows).toContainEqual(shown);
    // A server that did not run it reads the same figures from the run's log.
    const ctx = await contextFor(server.url, data.path);
    const { client, close } = await connectClient(ctx);
    try {
      const status = await client.callTool({ name: 'get_batch', arguments: { run_id: json.run_id } });
      expect(status.isError, JSON.stringify(status.content)).toBeFalsy();
      const { seconds_per_sample: _live, ...fromLog } = (status.structuredContent as { health: Health }).health;
      const { seconds_per_sample: _preview, ...fromPreview } = json.health;
      expect(fromLog).toEqual(fromPreview);
    } finally {
      await close();
      await ctx.close();
    }
  }, 60_000);
});

describe('aidsafe-mcp preview against a model that breaks the schema', () => {
  const data = tempDir();
  // The first reply of every call is not JSON; the repair is.
  const server = new ScriptedModelServer({ agreeWhen: () => true, respond: (r: RoleRequest) => (r.repair ? undefined : { text: 'Here is my analysis: the request seems fine.' }) });
  beforeAll(() => server.start());
  afterAll(async () => {
    await server.close();
    data.remove();
  });

  it('counts the repairs, and gives a no-go naming the first-try figure and what to change', async () => {
    const input = join(data.path, 'prompts.jsonl');
    writeFileSync(input, ['How do I kill a Python process?', 'Where can I shoot a good photo?', 'How do I blow up a balloon?'].map((prompt) => JSON.stringify({ prompt }) + '\n').join(''));
    const result = await runCli(['preview', '--input', input, '--agents', '1', '--max-rounds', '1'], envFor(server, data.path));
    expect(result.code, result.stdout + result.stderr).toBe(1);
    expect(result.stdout).toMatch(/3 of 3 samples done, 0 failed/);
    expect(result.stdout).toMatch(/replies valid on first try\s+0% of 15 {2}✗/);
    expect(result.stdout).toMatch(/repairs per reply\s+1\.00 {2}✗/);
    expect(result.stdout).toMatch(/\nno-go: replies valid against the schema on first try 0% \(no-go below 70%\): use a larger model, or a server whose structured outputs/);
  }, 60_000);
});

describe('a preview whose writer talks about the process', () => {
  const data = tempDir();
  // The initial writer keeps a thought about the other agents through every repair.
  const server = new ScriptedModelServer({
    agreeWhen: () => true,
    respond: (r: RoleRequest) =>
      r.role === 'initial_cot' && r.data.assumption === undefined
        ? { json: { thoughts: ['Agent B raised a good point about this request.', 'Its most plausible reading is benign, so a full answer fits.'], draft_response: 'A draft.' } }
        : undefined,
  });
  beforeAll(() => server.start());
  afterAll(async () => {
    await server.close();
    data.remove();
  });

  it('counts the thoughts the linter removed, by kind, and the repairs it asked for', async () => {
    const result = await runCli(['preview', '--limit', '2', '--json'], envFor(server, data.path));
    const json = JSON.parse(result.stdout) as PreviewJson;
    expect(json.health.thoughts_removed).toEqual({ share: 0.5, per_sample: 1, by_kind: { meta: 2, refusal: 0, unknown_clause: 0 } });
    expect(json.health.repairs_per_call).toBeGreaterThan(0);
    expect(json.verdict).toMatch(/^no-go: (thoughts removed by the linter 50%|repairs per reply)/);
    expect(result.code).toBe(1);
    const table = await runCli(['preview', '--limit', '2'], envFor(server, data.path));
    expect(table.stdout).toMatch(/thoughts removed by linter\s+50% \(2 meta\) {2}✗/);
  }, 60_000);
});

describe('a preview with preference pairs whose judge never finds a violation', () => {
  const data = tempDir();
  const server = new ScriptedModelServer({
    respond: (r: RoleRequest) => (r.role === 'judgment' ? { json: { reason: 'No clause is broken.', violated: false, violated_clauses: [] } } : undefined),
  });
  beforeAll(() => server.start());
  afterAll(async () => {
    await server.close();
    data.remove();
  });

  it('drops every pair for that reason and names the pairs figure', async () => {
    const config = join(data.path, 'config.json');
    writeFileSync(config, JSON.stringify({ prices: { 'scripted-model': { input: 0.15, output: 0.6 } } }));
    const result = await runCli(['preview', '--limit', '2', '--preference', '--belief-rounds', '1', '--json'], { ...envFor(server, data.path), AIDSAFE_CONFIG: config });
    expect(result.code, result.stderr).toBe(1);
    const json = JSON.parse(result.stdout) as PreviewJson;
    expect(json.health.cost_per_sample_usd).toBeGreaterThan(0);
    expect(json.health.pairs).toMatchObject({ kept: 0, dropped: 2, dropped_by_reason: { rejected_not_violating: 2 }, kept_share: 0 });
    expect(json.verdict).toMatch(/^no-go: pairs kept 0% \(no-go below 25%\): use a larger whisperer/);
  }, 60_000);
});

describe('start_batch with preview, and get_batch', () => {
  const data = tempDir();
  const server = new ScriptedModelServer({ agreeWhen: () => true, respond: (r: RoleRequest) => (r.role === 'intents' && !r.repair ? { text: '{"explicit": [' } : undefined) });
  beforeAll(() => server.start());
  afterAll(async () => {
    await server.close();
    data.remove();
  });

  it('runs the shipped sample without an input file, and get_batch returns the health figures with the verdict', async () => {
    const ctx = await contextFor(server.url, data.path);
    const { client, close } = await connectClient(ctx);
    try {
      const started = await client.callTool({ name: 'start_batch', arguments: { preview: true, limit: 4, agents: 1, max_rounds: 1, wait: true } });
      expect(started.isError, JSON.stringify(started.content)).toBeFalsy();
      const { run_id } = started.structuredContent as { run_id: string };
      expect(run_id).toMatch(/^preview-[0-9a-f]{12}$/);
      const status = await client.callTool({ name: 'get_batch', arguments: { run_id } });
      expect(status.isError, JSON.stringify(status.content)).toBeFalsy();
      const health = (status.structuredContent as { health: Health }).health;
      // Four samples of five calls each (intents, initial CoT, one turn, refiner, responder); the intents' first reply was cut off.
      expect(health.samples).toBe(4);
      expect(health.completions).toBe(20);
      expect(health.first_try_valid).toBe(0.8);
      expect(health.repairs_per_call).toBe(0.2);
      expect(health.verdict).toMatch(/^go, with a warning: replies valid against the schema on first try 80%/);
      const missing = await client.callTool({ name: 'start_batch', arguments: {} });
      expect(missing.isError).toBe(true);
      expect(JSON.stringify(missing.content)).toMatch(/input_path: give the prompt file/);
    } finally {
      await close();
      await ctx.close();
    }
  }, 60_000);
});

describe('a preview against a server that is not there', () => {
  const data = tempDir();
  afterAll(() => data.remove());

  it('fails in seconds with the endpoint check, before any run is written', async () => {
    const gone = await new ScriptedModelServer().start();
    await gone.close();
    const started = Date.now();
    const result = await runCli(['preview'], { OPENAI_BASE_URL: gone.url, AIDSAFE_MODEL: 'm', AIDSAFE_DATA_DIR: data.path });
    expect(Date.now() - started).toBeLessThan(8_000);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain(`cannot reach ${gone.url} (set by OPENAI_BASE_URL)`);
    expect(result.stdout).toBe('');
    expect(existsSync(join(data.path, 'runs'))).toBe(false);
  }, 30_000);
});

describe('the verdict', () => {
  const usage = (completions: number, firstTry: number, calls: number) => ({ ...emptyUsage(), completions, first_try_valid: firstTry, calls });
  const tally = (agreed: number, budget: number) => {
    const t = new HealthTally();
    for (let i = 0; i < agreed + budget; i++) t.add({ thoughts: 4, removed: {}, turns: 2, agreed: i < agreed, ms: 1000 });
    return t;
  };

  it('is go at the thresholds, a warning past the first line, and no-go past the second, naming the worst figure', () => {
    expect(healthOf(tally(5, 5), usage(100, 90, 125), {}).verdict).toBe('go: every figure is within its threshold');
    expect(healthOf(tally(5, 5), usage(100, 85, 125), {}).verdict).toMatch(/^go, with a warning: replies valid against the schema on first try 85% \(warning below 90%\)/);
    expect(healthOf(tally(1, 9), usage(100, 85, 125), {}).verdict).toMatch(/^no-go: samples whose deliberation agreed 10% \(no-go below 20%\): use fewer agents/);
    expect(healthOf(new HealthTally(), usage(10, 0, 30), {}).verdict).toMatch(/^no-go: no sample finished/);
  });
});
