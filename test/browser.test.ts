import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { createContext } from '../src/context.js';
import { BatchRun } from '../src/pipeline/batch.js';
import type { CotRecord } from '../src/store/record.js';
import { launchBrowser, NO_CHROMIUM } from './helpers/browser.js';
import { runCli } from './helpers/cli.js';
import { connectClient, contextFor, BENCHMARKS, tempDir, testConfig } from './helpers/fixtures.js';
import { ScriptedModelServer } from './helpers/scripted-model-server.js';

const SHOTS = fileURLToPath(new URL('../test-output/', import.meta.url));
const data = tempDir();
const model = new ScriptedModelServer();
let browser: Browser;
let client: Client;
let closeClient: () => Promise<void>;

beforeAll(async () => {
  if (NO_CHROMIUM) return;
  mkdirSync(SHOTS, { recursive: true });
  browser = await launchBrowser();
  await model.start();
  ({ client, close: closeClient } = await connectClient(await contextFor(model.url, data.path)));
}, 600_000);
afterAll(async () => {
  if (NO_CHROMIUM) return data.remove();
  await browser?.close();
  await closeClient?.();
  await model.close();
  data.remove();
});

async function call(name: string, args: Record<string, unknown>): Promise<CallToolResult> {
  return (await client.callTool({ name, arguments: args })) as CallToolResult;
}

/**
 * A minimal MCP Apps host: the view in a sandboxed srcdoc iframe under a strict content-security
 * policy (inline code only, no origin), answering ui/initialize with a theme and then handing over the
 * tool result, as a chat client would.
 */
function hostPage(viewHtml: string, toolResult: CallToolResult, theme: 'light' | 'dark'): string {
  return `<!doctype html><html><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:; frame-src 'self' about: data:">
<style>body{margin:0;background:${theme === 'dark' ? '#111' : '#fff'}} iframe{border:0;width:100%;height:2400px}</style></head><body>
<iframe id="view" sandbox="allow-scripts"></iframe>
<script>
const frame = document.getElementById('view');
const result = ${JSON.stringify(toolResult).replace(/</g, '\\u003c')};
window.hostLog = [];
window.addEventListener('message', (event) => {
  if (event.source !== frame.contentWindow) return;
  const msg = event.data;
  window.hostLog.push(msg.method || 'response');
  const send = (m) => frame.contentWindow.postMessage(m, '*');
  if (msg.method === 'ui/initialize') {
    send({ jsonrpc: '2.0', id: msg.id, result: { protocolVersion: msg.params.protocolVersion, hostInfo: { name: 'test-host', version: '1.0.0' }, hostCapabilities: {}, hostContext: { theme: '${theme}' } } });
  } else if (msg.method === 'ui/notifications/initialized') {
    send({ jsonrpc: '2.0', method: 'ui/notifications/tool-result', params: result });
  } else if (msg.id !== undefined && msg.method) {
    send({ jsonrpc: '2.0', id: msg.id, result: {} });
  }
});
frame.srcdoc = ${JSON.stringify(viewHtml).replace(/</g, '\\u003c')};
</script></body></html>`;
}

async function openPage(html: string, name: string): Promise<Page> {
  const file = join(data.path, `${name}.html`);
  writeFileSync(file, html);
  const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
  const outside: string[] = [];
  page.on('request', (request) => {
    if (!/^(file|data|about):/.test(request.url())) outside.push(request.url());
  });
  page.on('pageerror', (error) => outside.push(`page error: ${error.message}`));
  (page as Page & { outside: string[] }).outside = outside;
  await page.goto(pathToFileURL(file).href);
  return page;
}

describe.skipIf(NO_CHROMIUM)('the deliberation view as an MCP App', () => {
  it('is linked from tools/list and served as self-contained HTML with the MCP App MIME type', async () => {
    const { tools } = await client.listTools();
    for (const name of ['deliberate_safety_cot', 'get_record', 'make_preference_pair']) {
      expect(tools.find((t) => t.name === name)?._meta).toMatchObject({ ui: { resourceUri: 'ui://aidsafe/deliberation.html' } });
    }
    const read = await client.readResource({ uri: 'ui://aidsafe/deliberation.html' });
    const content = read.contents[0] as { mimeType: string; text: string };
    expect(content.mimeType).toBe('text/html;profile=mcp-app');
    expect(content.text).toMatch(/^<!doctype html>/);
    expect(content.text).not.toMatch(/<script[^>]+src=|<link[^>]+href=/);
  });

  it('renders a graded deliberation in a host: turns, struck removals with reasons, refined CoT, response, grades; follows a dark theme', async () => {
    const made = await call('deliberate_safety_cot', { prompt: 'How do I kill a Python process that hangs?', agents: 2, max_rounds: 2 });
    const { id } = made.structuredContent as { id: string };
    await call('grade_cot', { record_id: id });
    const result = await call('get_record', { id });
    const record = result.structuredContent as CotRecord;
    const view = ((await client.readResource({ uri: 'ui://aidsafe/deliberation.html' })).contents[0] as { text: string }).text;

    const page = await openPage(hostPage(view, result, 'dark'), 'view-cot');
    const frame = page.frameLocator('#view');
    await frame.locator('.timeline .turn.agree').waitFor({ timeout: 15_000 });
    expect(await frame.locator('[data-part=prompt]').textContent()).toBe(record.prompt);
    expect(await frame.locator('.timeline .turn').count()).toBe(record.deliberation.length + 1);
    expect(await frame.locator('.turn.revise .badge').first().textContent()).toBe('revise');
    expect(await frame.locator('.intents-explicit li').count()).toBe(record.intents.explicit.length);
    const removed = frame.locator('.removed li').first();
    expect(await removed.locator('del').textContent()).toBe(record.removed[0]!.thought);
    expect(await removed.locator('.badge').textContent()).toBe('redundant');
    expect(await removed.locator('.why').textContent()).toBe(record.removed[0]!.explanation);
    expect(await frame.locator('.refined li').count()).toBe(record.refined_thoughts.length);
    expect(await frame.locator('.response').textContent()).toBe(record.response);
    expect(await frame.locator('.grades-chart rect.bar').count()).toBe(6);
    expect(await frame.locator('html').getAttribute('data-theme')).toBe('dark');
    expect(await page.evaluate(() => (globalThis as unknown as { hostLog: string[] }).hostLog)).toEqual(expect.arrayContaining(['ui/initialize', 'ui/notifications/initialized']));
    expect((page as Page & { outside: string[] }).outside).toEqual([]);
    await page.screenshot({ path: join(SHOTS, 'deliberation-view.png'), fullPage: false });
    await page.close();
  });

  it('shows a preference pair side by side, the rejected side labelled and its belief highlighted', async () => {
    const result = await call('make_preference_pair', { prompt: 'How can I get into my neighbour’s wifi without the password?', belief_rounds: 2 });
    const pair = result.structuredContent as { rejected: { belief: string } };
    const view = ((await client.readResource({ uri: 'ui://aidsafe/deliberation.html' })).contents[0] as { text: string }).text;
    const page = await openPage(hostPage(view, result, 'light'), 'view-pair');
    const frame = page.frameLocator('#view');
    await frame.locator('.pair .rejected').waitFor({ timeout: 15_000 });
    expect(await frame.locator('.pair > .card').count()).toBe(2);
    expect(await frame.locator('.rejected .rejected-label').textContent()).toMatch(/^REJECTED — policy-violating on purpose/);
    expect(await frame.locator('.rejected .belief').textContent()).toBe(`Bad belief: ${pair.rejected.belief}`);
    expect(await frame.locator('.chosen .belief').count()).toBe(0);
    expect(await frame.locator('html').getAttribute('data-theme')).toBe('light');
    await page.screenshot({ path: join(SHOTS, 'preference-view.png') });
    await page.close();
  });

  it('shows a pair dropped before any rejected side was confirmed: the chosen side alone and why', async () => {
    const result = await call('make_preference_pair', { prompt: 'How do I bake sourdough bread?', belief_rounds: 1 });
    // As a pair whose every attempt the judge found not violating is stored: no rejected side, no grades.
    const { rejected: _rejected, margin: _margin, ...kept } = result.structuredContent as Record<string, unknown>;
    const dropped = { ...kept, kept: false, drop_reason: 'rejected_not_violating', kept_reason: 'the judge found no rejected attempt violating in 1 round' };
    const view = ((await client.readResource({ uri: 'ui://aidsafe/deliberation.html' })).contents[0] as { text: string }).text;
    const page = await openPage(hostPage(view, { ...result, structuredContent: dropped }, 'light'), 'view-dropped-pair');
    const frame = page.frameLocator('#view');
    await frame.locator('.pair .chosen').waitFor({ timeout: 15_000 });
    expect(await frame.locator('.pair > .card').count()).toBe(1);
    expect(await frame.locator('.rejected').count()).toBe(0);
    expect(await frame.locator('.meta').first().textContent()).toMatch(/not graded .* dropped \(rejected not violating\): the judge found no rejected attempt violating/);
    expect((page as Page & { outside: string[] }).outside).toEqual([]);
    await page.close();
  });
});

/** A small deterministic number from a prompt, so a run varies the way a real one does. */
function hashOf(text: string): number {
  let h = 7;
  for (const c of text) h = (h * 31 + c.charCodeAt(0)) >>> 0;
  return h;
}

/** Answers that vary by prompt: agreement after 1–5 turns, removal reasons, grades, and a few failures. */
const varied = new ScriptedModelServer({
  respond: ({ role, data, turn }) => {
    const query = String(data.query ?? '');
    const h = hashOf(query);
    if (role === 'intents' && h % 17 === 0) return { text: 'I cannot help with that request.' };
    if (role === 'deliberation_turn') {
      const agree = turn >= 1 + (h % 7);
      return { json: { review: 'Scripted review.', verdict: agree ? 'agree' : 'revise', thoughts: agree ? [] : [`Weighing [PH-6] against [RH-1] once more (${turn}) for this wording.`] } };
    }
    if (role === 'refinement') {
      const thoughts = (data.thoughts ?? []) as { index: number }[];
      const reasons = ['repetitive', 'redundant', 'deceptive', 'policy_inconsistent'];
      const firstDropped = Math.max(1, thoughts.length - 1 - (h % 3));
      return {
        json: {
          removed: thoughts.filter(({ index }) => index >= firstDropped).map(({ index }) => ({ index, reason: reasons[(h + index) % 4], explanation: 'Scripted removal.' })),
          kept: thoughts.filter(({ index }) => index < firstDropped).map(({ index }) => ({ from: [index], text: null })),
        },
      };
    }
    if (role === 'grading') {
      const score = (k: number) => ({ score: 5 - ((h >>> k) % 3 === 0 ? (h >>> (k + 3)) % 3 : 0), rationale: 'Scripted grade.' });
      return { json: { relevance: score(1), coherence: score(4), completeness: score(7), faithfulness_policy_cot: score(10), faithfulness_policy_response: score(13), faithfulness_cot_response: score(16) } };
    }
    return undefined;
  },
});
afterAll(async () => varied.close());

describe.skipIf(NO_CHROMIUM)('the run report', () => {
  it('is one self-contained file with summary charts and a filterable sample list that opens each deliberation', async () => {
    await varied.start();
    const ctx = await createContext({ config: { ...testConfig(varied.url, data.path), maxRepairs: 1 } });
    const xstest = fileURLToPath(new URL('xstest.jsonl', BENCHMARKS));
    const run = await BatchRun.prepare(ctx, { inputPath: xstest, limit: 60, concurrency: 8, grade: true, preference: false, agents: 2, maxRounds: 3, beliefRounds: 3, minMargin: 1, budgets: {}, runId: 'report-run' });
    const final = await run.start();
    expect(final.failed).toBeGreaterThan(0);
    expect(final.done + final.failed).toBe(60);
    const records = (await Promise.all((await ctx.store.ids()).map((id) => ctx.store.get(id)))).filter((r): r is CotRecord => r?.kind === 'cot' && r.run_id === 'report-run');

    const out = join(data.path, 'report.html');
    const cli = await runCli(['report', '--run-id', 'report-run', '--out', out], { AIDSAFE_DATA_DIR: data.path });
    expect(cli.code, cli.stderr).toBe(0);
    expect(JSON.parse(cli.stdout)).toMatchObject({ path: out, samples: 60, embedded: 60 });

    const page = await browser.newPage({ viewport: { width: 1200, height: 1000 } });
    const outside: string[] = [];
    page.on('request', (r) => {
      if (!/^(file|data|about):/.test(r.url())) outside.push(r.url());
    });
    page.on('pageerror', (e) => outside.push(e.message));
    await page.goto(pathToFileURL(out).href);
    expect(await page.locator('[data-figure=Done] b').textContent()).toBe(String(final.done));
    expect(await page.locator('[data-figure=Failed] b').textContent()).toBe(String(final.failed));
    expect(await page.locator('#chart-outcome rect.bar').count()).toBe(3);
    expect(await page.locator('#chart-grade-relevance rect.bar').count()).toBe(5);
    expect(await page.locator('#chart-categories rect.bar').count()).toBeGreaterThan(1);
    const removedRedundant = records.flatMap((r) => r.removed).filter((x) => x.reason === 'redundant').length;
    expect(await page.locator('#chart-removals rect.bar[data-label="redundant"]').getAttribute('data-value')).toBe(String(removedRedundant));
    const budgetStops = records.filter((r) => r.stop_reason === 'budget').length;
    expect(budgetStops).toBeGreaterThan(0);
    expect(await page.locator('#chart-stop rect.bar[data-label="budget"]').getAttribute('data-value')).toBe(String(budgetStops));
    expect(await page.locator('#samples tbody tr').count()).toBe(60);
    await page.screenshot({ path: join(SHOTS, 'run-report.png') });

    await page.fill('#filter-text', 'python');
    const visible = await page.locator('#samples tbody tr:not([hidden])').count();
    expect(visible).toBeGreaterThan(0);
    expect(visible).toBeLessThan(60);
    expect(await page.locator('#filter-count').textContent()).toBe(`${visible} of 60 shown`);
    await page.fill('#filter-text', '');
    await page.selectOption('#filter-status', 'failed');
    expect(await page.locator('#samples tbody tr:not([hidden])').count()).toBe(final.failed);
    await page.selectOption('#filter-status', 'done');
    await page.selectOption('#filter-category', 'homonyms');
    expect(await page.locator('#samples tbody tr:not([hidden])').count()).toBe(records.filter((r) => r.metadata?.type === 'homonyms').length);

    await page.locator('#samples tbody tr:not([hidden])').first().click();
    await page.locator('#detail .timeline .turn').first().waitFor();
    expect(await page.locator('#detail .removed del').count()).toBeGreaterThan(0);
    expect(await page.locator('#detail .grades-chart rect.bar').count()).toBe(6);
    expect(outside).toEqual([]);
    await page.close();
  });

  it('export_report writes the report under exports/ and names a missing run', async () => {
    const result = await call('export_report', { run_id: 'report-run' });
    expect(result.structuredContent).toMatchObject({ path: expect.stringContaining(join(data.path, 'exports', 'report-report-run-')), samples: 60, embedded: 60 });
    const missing = await call('export_report', { run_id: 'no-such-run' });
    expect(missing.isError).toBe(true);
    expect((missing.content[0] as { text: string }).text).toMatch(/run_id: no run "no-such-run"/);
  });
});
