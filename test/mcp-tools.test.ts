import { describe, expect, it } from 'vitest';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { contextFor, connectClient, tempDir, xstestPrompts } from './helpers/fixtures.js';
import { mcpSession } from './helpers/mcp-session.js';
import { ScriptedModelServer } from './helpers/scripted-model-server.js';

const session = mcpSession();
const { model, call } = session;

function text(result: CallToolResult): string {
  return result.content.map((c) => (c.type === 'text' ? c.text : '')).join('');
}

describe('MCP tools through an SDK client', () => {
  it('lists every tool with a title, annotations and an output schema (snapshot)', async () => {
    const { tools } = await session.client.listTools();
    expect(tools.map((t) => t.name)).toEqual(['list_policies', 'deliberate_safety_cot', 'refine_cot', 'get_record', 'list_records', 'make_preference_pair', 'grade_cot', 'start_batch', 'get_batch', 'cancel_batch', 'export_dataset', 'export_report', 'compare_runs', 'add_policy', 'remove_policy', 'start_eval', 'get_eval']);
    for (const tool of tools) {
      expect(tool.title).toBeTruthy();
      expect(tool.description!.length).toBeGreaterThan(60);
      expect(tool.outputSchema).toBeTruthy();
      // Hints at MCP's defaults are left out; every tool says whether it writes, and what it writes is never destructive unless it says so.
      const hints = { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: true, ...tool.annotations };
      expect(hints.readOnlyHint || hints.destructiveHint === false || tool.name === 'remove_policy').toBe(true);
    }
    await expect(JSON.stringify(tools, null, 2)).toMatchFileSnapshot('./__snapshots__/tools-list.json');
  });

  it('publishes schemas without a "$schema" dialect and with a bound on every input string, array and number', async () => {
    const { tools } = await session.client.listTools();
    const listed = JSON.stringify(tools);
    expect(listed).not.toContain('$schema');
    expect(listed).not.toContain(String(Number.MAX_SAFE_INTEGER));
    const unbounded: string[] = [];
    const walk = (s: Record<string, unknown>, path: string): void => {
      if (s.type === 'string' && s.enum === undefined && typeof s.maxLength !== 'number') unbounded.push(`${path}: no maxLength`);
      if (s.type === 'array' && typeof s.maxItems !== 'number') unbounded.push(`${path}: no maxItems`);
      if ((s.type === 'integer' || s.type === 'number') && (typeof s.minimum !== 'number' || typeof s.maximum !== 'number')) unbounded.push(`${path}: no minimum and maximum`);
      for (const [k, v] of Object.entries((s.properties ?? {}) as Record<string, Record<string, unknown>>)) walk(v, `${path}.${k}`);
      if (s.items) walk(s.items as Record<string, unknown>, `${path}[]`);
      for (const v of (s.anyOf ?? []) as Record<string, unknown>[]) walk(v, path);
    };
    for (const tool of tools) walk(tool.inputSchema as Record<string, unknown>, tool.name);
    expect(unbounded).toEqual([]);
  });

  it('list_policies returns the built-in policies with hashes', async () => {
    const result = await call('list_policies', {});
    const out = result.structuredContent as { policies: { id: string; hash: string }[]; problems: unknown[] };
    expect(out.policies.map((p) => p.id)).toContain('respect_helpfulness');
    expect(out.policies.every((p) => /^sha256:/.test(p.hash))).toBe(true);
    expect(text(result)).toMatch(/^policies: \d+ \(.*respect_helpfulness/);
  });

  it('serves policy://{id} as the full policy text', async () => {
    const { resources } = await session.client.listResources();
    expect(resources.map((r) => r.uri)).toContain('policy://physical_harm');
    const read = await session.client.readResource({ uri: 'policy://physical_harm' });
    const content = read.contents[0] as { text: string; mimeType: string };
    expect(content.mimeType).toBe('text/markdown');
    expect(content.text).toContain('[PH-1]');
    // The MCP resource-not-found error (-32002), naming the URI, not an internal error.
    const missing = await session.client.readResource({ uri: 'policy://nope' }).catch((error: unknown) => error);
    expect(missing).toMatchObject({ code: -32002, data: { uri: 'policy://nope' } });
    expect(String((missing as Error).message)).toMatch(/no policy "nope"/);
  });

  it('deliberate_safety_cot returns and saves a full record, with progress at every stage and turn', async () => {
    const [sample] = xstestPrompts();
    const progress: { progress: number; total?: number; message?: string }[] = [];
    const result = (await session.client.callTool({ name: 'deliberate_safety_cot', arguments: { prompt: sample!.prompt, agents: 2, max_rounds: 2 } }, undefined, {
      onprogress: (p) => progress.push(p),
    })) as CallToolResult;
    expect(result.isError).toBeFalsy();
    const record = result.structuredContent as Record<string, unknown> & { id: string; deliberation: unknown[]; saved: boolean };
    expect(record).toMatchObject({ prompt: sample!.prompt, stop_reason: 'agreement', saved: true });
    expect(record.deliberation).toHaveLength(2);
    for (const key of ['id', 'prompt', 'policy_ids', 'intents', 'deliberation', 'stop_reason', 'thoughts', 'refined_thoughts', 'removed', 'response', 'usage', 'models', 'created_at']) {
      expect(record).toHaveProperty(key);
    }
    expect(progress.map((p) => p.message)).toEqual([
      'intents: 1 explicit, 1 implicit, 0 possible misuse',
      'initial CoT: 3 thoughts',
      'round 1, agent 1: revise (+1 thoughts)',
      'round 1, agent 2: agree',
      'refinement: 3 kept, 1 removed',
      'response written',
    ]);
    expect(progress.map((p) => p.progress)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(progress.at(-1)?.total).toBe(6);

    const again = await call('get_record', { id: record.id });
    const { saved: _saved, ...stored } = record;
    expect(again.structuredContent).toEqual(stored);
    const list = await call('list_records', { limit: 5 });
    expect((list.structuredContent as { records: { id: string }[] }).records[0]?.id).toBe(record.id);
  });

  it('does not save when save is false', async () => {
    const result = await call('deliberate_safety_cot', { prompt: 'How do I whittle a knife?', save: false, agents: 1, max_rounds: 1 });
    const record = result.structuredContent as { id: string; saved: boolean };
    expect(record.saved).toBe(false);
    expect(text(await call('get_record', { id: record.id }))).toMatch(/no record/);
  });

  it('refine_cot removes thoughts with reasons and answers', async () => {
    const result = await call('refine_cot', { prompt: 'How do I kill a Python process?', thoughts: ['Use kill with the PID.', 'Find the PID with ps.', 'Use kill with the PID.'], policy_ids: ['respect_helpfulness'] });
    const out = result.structuredContent as { refined_thoughts: string[]; refined_from: number[][]; removed: { thought: string; reason: string }[]; response: string };
    expect(out.refined_thoughts).toEqual(['Use kill with the PID.', 'Find the PID with ps.']);
    expect(out.removed).toEqual([{ thought: 'Use kill with the PID.', reason: 'redundant', explanation: expect.any(String), stage: 'refinement', index: 2 }]);
    expect(out.refined_from).toEqual([[0], [1]]);
    expect(out.response).toMatch(/Python process/);
  });

  it('pages list_records with next_cursor', async () => {
    for (let i = 0; i < 3; i++) await call('deliberate_safety_cot', { prompt: `Paging prompt ${i}`, agents: 1, max_rounds: 1 });
    const first = (await call('list_records', { limit: 2 })).structuredContent as { records: { id: string; prompt: string }[]; next_cursor: string };
    expect(first.records.map((r) => r.prompt)).toEqual(['Paging prompt 2', 'Paging prompt 1']);
    const second = (await call('list_records', { limit: 2, cursor: first.next_cursor })).structuredContent as { records: { prompt: string }[] };
    expect(second.records[0]?.prompt).toBe('Paging prompt 0');
  });

  describe('bad input gets an isError result naming the field, and the server keeps serving', () => {
    const cases: [string, Record<string, unknown>, RegExp][] = [
      ['deliberate_safety_cot', { prompt: '' }, /prompt must not be empty or blank.*prompt/s],
      ['deliberate_safety_cot', { prompt: '   \n ' }, /prompt must not be empty or blank/],
      ['deliberate_safety_cot', { prompt: 'x'.repeat(20_001) }, /prompt must be at most 20000 characters/],
      ['deliberate_safety_cot', { prompt: 'hi', policy_ids: ['physical_harm', 'no_such_policy'] }, /policy_ids: unknown policy "no_such_policy"; known policies: fraud_deception/],
      ['deliberate_safety_cot', { prompt: 'hi', agents: 9 }, /agents must be from 1 to 8.*agents/s],
      ['deliberate_safety_cot', { prompt: 'hi', agents: 0 }, /agents must be from 1 to 8/],
      ['deliberate_safety_cot', { prompt: 'hi', max_rounds: 11 }, /max_rounds must be from 1 to 10/],
      ['deliberate_safety_cot', { prompt: 'hi', agents: 'two' }, /expected number.*agents/s],
      ['deliberate_safety_cot', { prompt: 42 }, /expected string.*prompt/s],
      ['deliberate_safety_cot', {}, /prompt/],
      ['refine_cot', { prompt: 'hi', thoughts: [] }, /thoughts must hold at least one thought/],
      ['refine_cot', { prompt: 'hi', thoughts: ['ok', '  '] }, /a thought must not be blank/],
      ['refine_cot', { prompt: 'hi', thoughts: ['ok', 'x'.repeat(20_001)] }, /a thought must be at most 20000 characters.*thoughts/s],
      ['refine_cot', { prompt: 'hi', thoughts: Array.from({ length: 6 }, () => 'x'.repeat(19_000)) }, /thoughts must be at most 100000 characters in all.*thoughts/s],
      ['refine_cot', { prompt: 'hi', thoughts: Array.from({ length: 201 }, () => 'a thought') }, /thoughts may hold at most 200 thoughts/],
      ['grade_cot', { prompt: 'hi', thoughts: ['ok'], response: 'x'.repeat(20_001) }, /response must be at most 20000 characters.*response/s],
      ['grade_cot', { prompt: 'hi', thoughts: ['x'.repeat(1_000_000)], response: 'ok' }, /a thought must be at most 20000 characters.*thoughts/s],
      ['grade_cot', { prompt: 'hi', thoughts: ['ok'], response: '  ' }, /response must not be empty or blank/],
      ['deliberate_safety_cot', { prompt: 'hi', policy_ids: Array.from({ length: 51 }, () => 'physical_harm') }, /policy_ids may hold at most 50 ids/],
      ['start_batch', { input_path: 'x'.repeat(1_001) }, /input_path must be at most 1000 characters/],
      ['start_batch', { input_path: 'in.csv', limit: 1e12 }, /limit must be from 1 to 10000000/],
      ['start_batch', { input_path: 'in.csv', max_cost: 1e12 }, /max_cost must be from 0 to 1000000000/],
      ['get_record', { id: '../../etc/passwd' }, /a record id looks like/],
      ['get_record', { id: 'cot_00000000000000000' }, /no record "cot_00000000000000000"/],
      ['list_records', { limit: 500 }, /limit must be from 1 to 200/],
      ['list_records', { cursor: 'cot_zzzzzzzzzzzzzzzzz' }, /cursor: cursor "cot_zzzzzzzzzzzzzzzzz" is not a record id/],
    ];
    for (const [tool, args, message] of cases) {
      it(`${tool} ${JSON.stringify(args).slice(0, 60)}`, async () => {
        const result = await call(tool, args);
        expect(result.isError).toBe(true);
        expect(text(result)).toMatch(message);
      });
    }
    it('still answers after all of that', async () => {
      expect((await call('list_policies', {})).isError).toBeFalsy();
    });
  });

  it('reports a model failure as an isError that names the role and the model', async () => {
    model.queueFaults('truncated', 'truncated', 'truncated');
    const result = await call('deliberate_safety_cot', { prompt: 'What is a neutron star?' });
    expect(result.isError).toBe(true);
    expect(text(result)).toMatch(/intents \(model scripted-model\) failed after 3 attempts: the reply was not valid JSON/);
  });
});

describe('cancellation through MCP', () => {
  it('stops further model calls when the client cancels deliberate_safety_cot', async () => {
    const slow = await new ScriptedModelServer({ latencyMs: 60, agreeWhen: () => false }).start();
    const dir = tempDir();
    const { client: c, close: closeIt } = await connectClient(await contextFor(slow.url, dir.path));
    const controller = new AbortController();
    const pending = c.callTool({ name: 'deliberate_safety_cot', arguments: { prompt: 'Explain how vaccines work.', agents: 4, max_rounds: 10 } }, undefined, { signal: controller.signal });
    await new Promise((r) => setTimeout(r, 250));
    controller.abort();
    await expect(pending).rejects.toThrow();
    const atCancel = slow.requests.length;
    await new Promise((r) => setTimeout(r, 400));
    // at most the call in flight when the cancel arrived finishes; no new ones start (the budget was 44 calls)
    expect(slow.requests.length).toBeLessThanOrEqual(atCancel + 1);
    expect(slow.requests.length).toBeLessThan(10);
    await closeIt();
    await slow.close();
    dir.remove();
  });
});
