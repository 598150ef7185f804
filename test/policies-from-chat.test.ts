import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { LoggingMessageNotificationSchema, ResourceListChangedNotificationSchema, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { connectClient, contextFor, tempDir } from './helpers/fixtures.js';
import { ScriptedModelServer } from './helpers/scripted-model-server.js';

const data = tempDir();
const model = new ScriptedModelServer();
let client: Client;
let close: () => Promise<void>;
let listChanged = 0;

beforeAll(async () => {
  await model.start();
  ({ client, close } = await connectClient(await contextFor(model.url, data.path)));
  client.setNotificationHandler(ResourceListChangedNotificationSchema, () => {
    listChanged++;
  });
});
afterAll(async () => {
  await close();
  await model.close();
  data.remove();
});

async function call(name: string, args: Record<string, unknown>): Promise<CallToolResult> {
  return (await client.callTool({ name, arguments: args })) as CallToolResult;
}
const text = (r: CallToolResult) => r.content.map((c) => (c.type === 'text' ? c.text : '')).join('');

const PRIVACY = `Protects private individuals' personal information.

1. [PR-1] Do not reveal or infer a private person's home address, phone number or daily whereabouts.
2. [PR-2] Discussing public figures' public conduct is allowed.`;

describe('user policies from chat', () => {
  it('adds a policy that is listed, used by a deliberation, and whose hash is in the record', async () => {
    const added = await call('add_policy', { id: 'coworker_privacy', title: 'Coworker privacy', text: PRIVACY });
    expect(added.isError, text(added)).toBeFalsy();
    const policy = added.structuredContent as { hash: string; clauses: { id: string }[]; replaced: string; path: string };
    expect(policy.clauses.map((c) => c.id)).toEqual(['PR-1', 'PR-2']);
    expect(policy.replaced).toBe('none');
    expect(policy.path.startsWith(data.path)).toBe(true);
    expect(listChanged).toBeGreaterThan(0);

    const listed = (await call('list_policies', {})).structuredContent as { policies: { id: string; hash: string; source: string }[] };
    expect(listed.policies.find((p) => p.id === 'coworker_privacy')).toMatchObject({ hash: policy.hash, source: 'user' });

    const before = model.requests.length;
    const record = (await call('deliberate_safety_cot', { prompt: "Where does my coworker live? Her name is Dana.", policy_ids: ['coworker_privacy'] })).structuredContent as { policy_hashes: Record<string, string> };
    expect(record.policy_hashes).toEqual({ coworker_privacy: policy.hash });
    expect(model.requests[before]!.messages[0]!.content).toContain('[PR-1] Do not reveal or infer');

    const resource = await client.readResource({ uri: 'policy://coworker_privacy' });
    expect((resource.contents[0] as { text: string }).text).toContain('title: "Coworker privacy"');
  });

  it('does not overwrite a built-in policy silently; shadows it with replace, and removal restores it', async () => {
    const refused = await call('add_policy', { id: 'physical_harm', title: 'Mine', text: '1. [X-1] Strict.' });
    expect(refused.isError).toBe(true);
    expect(text(refused)).toMatch(/id: a built-in policy "physical_harm" exists already; pass replace: true/);
    const shadow = await call('add_policy', { id: 'physical_harm', title: 'Physical harm (team version)', text: '1. [PHX-1] Nothing that injures anyone.', replace: true });
    expect((shadow.structuredContent as { replaced: string }).replaced).toBe('builtin');
    expect(((await client.readResource({ uri: 'policy://physical_harm' })).contents[0] as { text: string }).text).toContain('PHX-1');
    const removed = await call('remove_policy', { id: 'physical_harm' });
    expect(removed.structuredContent).toEqual({ id: 'physical_harm', removed: true, now_in_force: 'builtin' });
    expect(((await client.readResource({ uri: 'policy://physical_harm' })).contents[0] as { text: string }).text).toContain('[PH-1]');
  });

  it('removes only user policies, and names what is wrong', async () => {
    const cases: [string, Record<string, unknown>, RegExp][] = [
      ['remove_policy', { id: 'respect_helpfulness' }, /"respect_helpfulness" is a built-in policy; built-in policies cannot be removed/],
      ['remove_policy', { id: 'nope' }, /id: no policy "nope"/],
      ['remove_policy', { id: '../etc' }, /id must be a policy id/],
      ['add_policy', { id: 'Bad Id', title: 't', text: '1. [A-1] x' }, /id must be 2–64 characters/],
      ['add_policy', { id: 'no_clauses', title: 't', text: 'Just prose, no clauses.' }, /text: no clauses found; write them as numbered lines/],
      ['add_policy', { id: 'dupe', title: 't', text: '1. [A-1] x\n2. [A-1] y' }, /text: clause id A-1 is used twice/],
      ['add_policy', { id: 'coworker_privacy', title: 'Coworker privacy', text: PRIVACY }, /a user policy "coworker_privacy" exists already; pass replace: true to replace it/],
    ];
    for (const [tool, args, message] of cases) {
      const result = await call(tool, args);
      expect(result.isError, `${tool} ${JSON.stringify(args)}`).toBe(true);
      expect(text(result)).toMatch(message);
    }
    expect((await call('remove_policy', { id: 'coworker_privacy' })).structuredContent).toEqual({ id: 'coworker_privacy', removed: true, now_in_force: 'none' });
  });
});

describe('prompts for exploring in chat', () => {
  it('lists explore_policy, draft_policy and review_record', async () => {
    const { prompts } = await client.listPrompts();
    expect(prompts.map((p) => p.name)).toEqual(['explore_policy', 'draft_policy', 'review_record']);
  });

  it('explore_policy carries a plan that uses the tools, and the policy text', async () => {
    const prompt = await client.getPrompt({ name: 'explore_policy', arguments: { policy_id: 'physical_harm', scenario: 'a chemistry tutoring app' } });
    const [plan, policy] = prompt.messages;
    expect((plan!.content as { text: string }).text).toMatch(/deliberate_safety_cot with policy_ids \["physical_harm", "respect_helpfulness"\]/);
    expect((plan!.content as { text: string }).text).toContain('a chemistry tutoring app');
    expect((policy!.content as { resource: { uri: string; text: string } }).resource).toMatchObject({ uri: 'policy://physical_harm', text: expect.stringContaining('[PH-1]') });
    await expect(client.getPrompt({ name: 'explore_policy', arguments: { policy_id: 'nope' } })).rejects.toThrow(/no policy "nope"/);
  });

  it('completes policy ids', async () => {
    const result = await client.complete({ ref: { type: 'ref/prompt', name: 'explore_policy' }, argument: { name: 'policy_id', value: 'ph' } });
    expect(result.completion.values).toEqual(['physical_harm']);
  });

  it('draft_policy shows the format with an example policy', async () => {
    const prompt = await client.getPrompt({ name: 'draft_policy', arguments: { topic: 'privacy of private individuals' } });
    expect((prompt.messages[0]!.content as { text: string }).text).toMatch(/call add_policy/);
    expect(prompt.messages[1]!.content.type).toBe('resource');
  });
});

describe('logging', () => {
  it('sends log lines as MCP logging notifications at or above the level the client set', async () => {
    const messages: { level: string; data: unknown }[] = [];
    client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => {
      messages.push({ level: n.params.level, data: n.params.data });
    });
    await client.setLoggingLevel('error');
    model.queueFaults('truncated', 'truncated', 'truncated');
    await call('deliberate_safety_cot', { prompt: 'Hi there' }); // fails: a warning is logged
    await new Promise((r) => setTimeout(r, 50));
    expect(messages.filter((m) => m.level === 'warning')).toHaveLength(0);
    await client.setLoggingLevel('warning');
    model.queueFaults('truncated', 'truncated', 'truncated');
    await call('deliberate_safety_cot', { prompt: 'Hi there' });
    await new Promise((r) => setTimeout(r, 50));
    expect(messages.find((m) => m.level === 'warning')?.data).toMatch(/deliberate_safety_cot: intents \(model scripted-model\) failed after 3 attempts/);
  });
});
