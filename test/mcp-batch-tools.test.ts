import { copyFileSync, existsSync, mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { connectClient, contextFor, BENCHMARKS, tempDir } from './helpers/fixtures.js';
import { ScriptedModelServer } from './helpers/scripted-model-server.js';

const data = tempDir();
const outside = tempDir();
const model = new ScriptedModelServer({ latencyMs: 5 });
let client: Client;
let close: () => Promise<void>;
const input = join(data.path, 'inputs', 'xstest.jsonl');

beforeAll(async () => {
  await model.start();
  mkdirSync(join(data.path, 'inputs'));
  copyFileSync(fileURLToPath(new URL('xstest.jsonl', BENCHMARKS)), input);
  copyFileSync(input, join(outside.path, 'secret.jsonl'));
  ({ client, close } = await connectClient(await contextFor(model.url, data.path)));
});
afterAll(async () => {
  await close();
  await model.close();
  data.remove();
  outside.remove();
});

async function call(name: string, args: Record<string, unknown>): Promise<CallToolResult> {
  return (await client.callTool({ name, arguments: args })) as CallToolResult;
}
const text = (r: CallToolResult) => r.content.map((c) => (c.type === 'text' ? c.text : '')).join('');

async function waitFor(runId: string): Promise<Record<string, unknown>> {
  for (let i = 0; i < 400; i++) {
    const status = (await call('get_batch', { run_id: runId })).structuredContent as Record<string, unknown>;
    if (status.status !== 'running') return status;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('run did not finish');
}

describe('batch tools', () => {
  it('start_batch returns at once; get_batch follows the run to done; export_dataset writes under exports/', async () => {
    const started = await call('start_batch', { input_path: input, limit: 40, concurrency: 8, grade: true });
    expect(started.isError).toBeFalsy();
    const { run_id, status, estimate } = started.structuredContent as { run_id: string; status: string; estimate: { samples: number } };
    expect(status).toBe('running');
    expect(estimate.samples).toBe(40);
    const final = await waitFor(run_id);
    expect(final).toMatchObject({ status: 'done', total: 40, done: 40, failed: 0, pending: 0 });
    expect((final.usage as { calls: number }).calls).toBe(40 * 7);

    const exported = (await call('export_dataset', { format: 'sft', run_id })).structuredContent as { path: string; count: number };
    expect(exported.count).toBe(40);
    expect(exported.path.startsWith(join(data.path, 'exports'))).toBe(true);
    expect(existsSync(exported.path)).toBe(true);
  });

  it('with wait, start_batch stays open and reports progress per sample', async () => {
    const progress: { progress: number; total?: number; message?: string }[] = [];
    const result = (await client.callTool({ name: 'start_batch', arguments: { input_path: input, limit: 12, wait: true, run_id: 'waited' } }, undefined, { onprogress: (p) => progress.push(p) })) as CallToolResult;
    expect(result.structuredContent).toMatchObject({ run_id: 'waited', status: 'done', final: { status: 'done', done: 12, failed: 0, total: 12 } });
    expect(progress.at(-1)).toMatchObject({ progress: 12, total: 12 });
    expect(progress.at(-1)?.message).toMatch(/12\/12 done · 0 failed/);
    const values = progress.map((p) => p.progress);
    expect(new Set(values).size).toBe(values.length);
    expect(values).toEqual([...values].sort((a, b) => a - b));
  });

  it('cancel_batch stops a run; starting it again resumes it', async () => {
    const { run_id } = (await call('start_batch', { input_path: input, limit: 200, concurrency: 2, run_id: 'to-cancel' })).structuredContent as { run_id: string };
    await new Promise((r) => setTimeout(r, 200));
    const cancelled = (await call('cancel_batch', { run_id })).structuredContent as { status: string; done: number };
    expect(cancelled.status).toBe('cancelled');
    expect(cancelled.done).toBeLessThan(200);
    const resumed = await call('start_batch', { input_path: input, limit: 200, concurrency: 16, run_id: 'to-cancel' });
    expect((resumed.structuredContent as { estimate: { already_done: number } }).estimate.already_done).toBe(cancelled.done);
    expect(await waitFor(run_id)).toMatchObject({ status: 'done', done: 200 });
  });

  it('answers bad input with a named isError', async () => {
    const link = join(data.path, 'inputs', 'escape.csv');
    symlinkSync(join(outside.path, 'secret.jsonl'), link);
    const cases: [string, Record<string, unknown>, RegExp][] = [
      ['start_batch', { input_path: join(outside.path, 'secret.jsonl') }, /input_path: .* is outside the allowed folders/],
      ['start_batch', { input_path: link }, /input_path: .* is outside the allowed folders/],
      ['start_batch', { input_path: join(data.path, 'inputs', 'nope.csv') }, /input_path: .* does not exist/],
      ['start_batch', { input_path: join(data.path, 'elsewhere.csv') }, /input_path: .* is outside the allowed folders/],
      ['start_batch', { input_path: input, column: 'nope' }, /column: .* has no column "nope"/],
      ['start_batch', { input_path: input, concurrency: 0 }, /concurrency must be from 1 to 256/],
      ['start_batch', { input_path: input, run_id: '../x' }, /run_id must be 3–64 lowercase letters/],
      ['start_batch', { input_path: input, max_cost: 1 }, /max_cost: no prices are configured/],
      ['get_batch', { run_id: 'no-such-run' }, /run_id: no run "no-such-run"/],
      ['cancel_batch', { run_id: 'no-such-run' }, /run_id: no run "no-such-run"/],
      ['export_dataset', { format: 'csv' }, /format must be one of sft, dpo, aidsafe/],
      ['export_dataset', { format: 'sft', run_id: 'no-such-run' }, /run_id: no run "no-such-run"/],
      ['export_dataset', { format: 'sft', min_score: 0 }, /min_score must be from 1 to 5/],
    ];
    for (const [tool, args, message] of cases) {
      const result = await call(tool, args);
      expect(result.isError, `${tool} ${JSON.stringify(args)}`).toBe(true);
      expect(text(result)).toMatch(message);
    }
  });
});
