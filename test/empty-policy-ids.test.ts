import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { connectClient, contextFor, tempDir } from './helpers/fixtures.js';
import { ScriptedModelServer } from './helpers/scripted-model-server.js';

const model = new ScriptedModelServer({ latencyMs: 1 });
const data = tempDir();
let call: (name: string, args: Record<string, unknown>) => Promise<CallToolResult>;
let done: () => Promise<void>;

beforeAll(async () => {
  await model.start();
  const ctx = await contextFor(model.url, data.path);
  const { client, close } = await connectClient(ctx);
  call = async (name, args) => (await client.callTool({ name, arguments: args })) as CallToolResult;
  done = async () => {
    await close();
    await ctx.close();
  };
});
afterAll(async () => {
  await done();
  await model.close();
  data.remove();
});

const text = (r: CallToolResult) => r.content.map((c) => (c.type === 'text' ? c.text : '')).join('');

describe('policy_ids: [] is refused, naming the field, not read as every policy', () => {
  const cases: [string, Record<string, unknown>][] = [
    ['deliberate_safety_cot', { prompt: 'How do I kill a Python process?' }],
    ['refine_cot', { prompt: 'hi', thoughts: ['ok'] }],
    ['grade_cot', { prompt: 'hi', thoughts: ['ok'], response: 'ok' }],
    ['make_preference_pair', { prompt: 'hi' }],
    ['start_batch', { input_path: 'in.csv' }],
  ];
  for (const [tool, args] of cases) {
    it(tool, async () => {
      const result = await call(tool, { ...args, policy_ids: [] });
      expect(result.isError).toBe(true);
      expect(text(result)).toMatch(/policy_ids must name at least one policy \(see list_policies\); leave policy_ids out to use every policy.*policy_ids/s);
    });
  }

  it('sends no model call for any of them, and leaving the field out still means every policy', async () => {
    expect(model.requests).toHaveLength(0);
    const all = (await call('list_policies', {})).structuredContent as { policies: { id: string }[] };
    const record = (await call('deliberate_safety_cot', { prompt: 'How do I kill a Python process?' })).structuredContent as { policy_ids: string[] };
    expect(record.policy_ids).toEqual(all.policies.map((p) => p.id).sort());
  });
});
