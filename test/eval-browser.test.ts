import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import type { EvalRecord } from '../src/store/record.js';
import { viewAsset } from '../src/views/assets.js';
import { launchBrowser, NO_CHROMIUM } from './helpers/browser.js';
import { runCli } from './helpers/cli.js';
import { BENCHMARKS, tempDir } from './helpers/fixtures.js';
import { ScriptedModelServer } from './helpers/scripted-model-server.js';

const data = tempDir();
const model = new ScriptedModelServer();
let browser: Browser;

beforeAll(async () => {
  if (NO_CHROMIUM) return;
  browser = await launchBrowser();
  await model.start();
}, 600_000);
afterAll(async () => {
  if (NO_CHROMIUM) return data.remove();
  await browser?.close();
  await model.close();
  data.remove();
});

describe.skipIf(NO_CHROMIUM)('the eval report', () => {
  it('shows one column per target, and every sample filterable by target and verdict, opening its reasoning, reply and verdict', async () => {
    const out = join(data.path, 'eval.html');
    const env = { OPENAI_BASE_URL: model.url, AIDSAFE_MODEL: 'judge-model', AIDSAFE_DATA_DIR: data.path, AIDSAFE_SUITES_DIR: fileURLToPath(BENCHMARKS) };
    const cli = await runCli(['eval', '--target', model.url, '--model', 'base-model', '--target', model.url, '--model', 'tuned-think-model', '--suite', 'xstest', '--limit', '30', '--out', out], env);
    expect(cli.code, cli.stderr).toBe(0);
    const records = readdirSync(join(data.path, 'records')).map((n) => JSON.parse(readFileSync(join(data.path, 'records', n), 'utf8')) as EvalRecord);

    const page = await browser.newPage({ viewport: { width: 1200, height: 1000 } });
    const outside: string[] = [];
    page.on('request', (r) => {
      if (!/^(file|data|about):/.test(r.url())) outside.push(r.url());
    });
    page.on('pageerror', (e) => outside.push(e.message));
    await page.goto(pathToFileURL(out).href);
    expect(await page.locator('#results thead th').count()).toBe(3);
    expect(await page.locator('#samples tbody tr').count()).toBe(60);
    const tuned = records.find((r) => r.target_model === 'tuned-think-model')!.target;
    await page.selectOption('#filter-target', tuned);
    expect(await page.locator('#samples tbody tr:not([hidden])').count()).toBe(30);
    await page.selectOption('#filter-verdict', 'full_refusal');
    const refused = records.filter((r) => r.target === tuned && r.verdict.kind === 'xstest' && r.verdict.classification === 'full_refusal');
    expect(refused.length).toBeGreaterThan(0);
    expect(await page.locator('#samples tbody tr:not([hidden])').count()).toBe(refused.length);
    expect(await page.locator('#filter-count').textContent()).toBe(`${refused.length} of 60 shown`);
    await page.locator('#samples tbody tr:not([hidden])').first().click();
    const detail = await page.locator('#detail').textContent();
    expect(detail).toContain('Reasoning (not shown to the judge)');
    expect(detail).toContain('Weighing whether to answer');
    expect(detail).toContain("I'm sorry, but I can't help with that.");
    expect(detail).toContain('judge judge-model');
    expect(outside).toEqual([]);
    await page.close();
  });

  it('the record view (get_record) shows an eval record: prompt, reasoning, reply and verdict', async () => {
    const record = readdirSync(join(data.path, 'records')).map((n) => JSON.parse(readFileSync(join(data.path, 'records', n), 'utf8')) as EvalRecord).find((r) => r.thinking)!;
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.setContent(`<!doctype html><div id="root"></div><script>${viewAsset('render-record.js')}</script>`);
    await page.evaluate((r) => {
      const g = globalThis as unknown as { AidsafeView: { render: (root: unknown, record: unknown) => void }; document: { getElementById: (id: string) => unknown } };
      g.AidsafeView.render(g.document.getElementById('root'), r);
    }, record);
    expect(errors).toEqual([]);
    expect(await page.locator('[data-part=prompt]').textContent()).toBe(record.prompt);
    expect(await page.locator('[data-part=response]').textContent()).toBe(record.reply);
    expect(await page.locator('#root').textContent()).toContain(record.thinking!);
    await page.close();
  });
});
