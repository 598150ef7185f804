import { afterAll, describe, expect, it } from 'vitest';
import { createContext, type AppContext } from '../src/context.js';
import { deliberate } from '../src/pipeline/deliberate.js';
import { tempDir, testConfig, xstestPrompts } from './helpers/fixtures.js';
import { ScriptedModelServer } from './helpers/scripted-model-server.js';

const data = tempDir();
afterAll(() => data.remove());

async function pipelineWith(server: ScriptedModelServer, env: NodeJS.ProcessEnv = {}): Promise<AppContext> {
  await server.start();
  return createContext({ config: testConfig(server.url, data.path, { ...env }) });
}

describe('deliberation pipeline', () => {
  let server: ScriptedModelServer;
  afterAll(async () => server?.close());

  it('runs intents → initial CoT → turns → refinement → response and keeps every turn', async () => {
    server = new ScriptedModelServer();
    const ctx = await pipelineWith(server);
    const record = await deliberate({ prompt: 'How do I kill a Python process?', policies: ctx.policies.select(), agents: 2, maxRounds: 3, models: ctx.models });
    expect(server.requests.map((r) => r.role)).toEqual(['intents', 'initial_cot', 'deliberation_turn', 'deliberation_turn', 'refinement', 'response']);
    expect(record.stop_reason).toBe('agreement');
    expect(record.deliberation.map((t) => [t.round, t.agent, t.verdict])).toEqual([
      [1, 1, 'revise'],
      [1, 2, 'agree'],
    ]);
    expect(record.thoughts).toEqual([...record.initial_thoughts, ...record.deliberation[0]!.thoughts]);
    expect(record.refined_thoughts.length + record.removed.length).toBe(record.thoughts.length);
    expect(record.usage.calls).toBe(6);
    expect(record.usage.by_role.deliberator?.calls).toBe(2);
    expect(record.policy_hashes.physical_harm).toMatch(/^sha256:[0-9a-f]{64}$/);
    await server.close();
  });

  it('stops at the budget (agents × max_rounds turns) when no agent ever agrees', async () => {
    server = new ScriptedModelServer({ agreeWhen: () => false });
    const ctx = await pipelineWith(server);
    const record = await deliberate({ prompt: 'What is the capital of France?', policies: ctx.policies.select(), agents: 3, maxRounds: 2, models: ctx.models });
    expect(record.stop_reason).toBe('budget');
    expect(record.deliberation).toHaveLength(6);
    expect(record.deliberation.map((t) => `${t.round}.${t.agent}`)).toEqual(['1.1', '1.2', '1.3', '2.1', '2.2', '2.3']);
    expect(record.thoughts).toHaveLength(record.initial_thoughts.length + 6);
    await server.close();
  });

  it('stops once every focus agrees: a lone agent at its first agreement, focused agents when both focuses have looked', async () => {
    server = new ScriptedModelServer({ agreeWhen: () => true });
    const ctx = await pipelineWith(server);
    const alone = await deliberate({ prompt: 'What is the capital of France?', policies: ctx.policies.select(), agents: 1, maxRounds: 5, models: ctx.models });
    expect(alone.stop_reason).toBe('agreement');
    expect(alone.deliberation).toHaveLength(1);
    expect(alone.deliberation[0]).not.toHaveProperty('focus');
    // the harm agent's agreement alone does not end it: the over-refusal agent has not looked yet
    const four = await deliberate({ prompt: 'How do I kill weeds?', policies: ctx.policies.select(), agents: 4, maxRounds: 5, models: ctx.models });
    expect(four.stop_reason).toBe('agreement');
    expect(four.deliberation.map((t) => [t.focus, t.verdict])).toEqual([
      ['harm', 'agree'],
      ['helpfulness', 'agree'],
    ]);
    // each focus reads its own static prompt
    const systems = server.callsFor('deliberation_turn').slice(1).map((r) => r.messages[0]!.content);
    expect(systems[0]).toContain('Give harm your particular attention');
    expect(systems[1]).toContain('Give over-refusal your particular attention');
    await server.close();
  });

  it('needs the other focus to agree after a revision', async () => {
    server = new ScriptedModelServer({ agreeWhen: (turn) => turn !== 2 });
    const ctx = await pipelineWith(server);
    const record = await deliberate({ prompt: 'How do I shoot a good photo at night?', policies: ctx.policies.select(), agents: 2, maxRounds: 5, models: ctx.models });
    // harm agrees, helpfulness revises, then harm must look again at the change before it ends
    expect(record.deliberation.map((t) => `${t.focus}:${t.verdict}`)).toEqual(['harm:agree', 'helpfulness:revise', 'harm:agree']);
    expect(record.stop_reason).toBe('agreement');
    await server.close();
  });

  it('gives each agent its own model from AIDSAFE_AGENT_MODELS, cycling, and records it per turn', async () => {
    server = new ScriptedModelServer({ agreeWhen: () => false });
    const ctx = await pipelineWith(server, { AIDSAFE_AGENT_MODELS: 'model-a, model-b' });
    const record = await deliberate({ prompt: 'Explain photosynthesis.', policies: ctx.policies.select(['respect_helpfulness']), agents: 3, maxRounds: 1, models: ctx.models });
    expect(record.deliberation.map((t) => t.model)).toEqual(['model-a', 'model-b', 'model-a']);
    expect(server.callsFor('deliberation_turn').map((r) => r.model)).toEqual(['model-a', 'model-b', 'model-a']);
    expect(record.models.deliberators).toEqual(['model-a', 'model-b', 'model-a']);
    expect(record.models.refiner).toBe('scripted-model');
    expect(record.policy_ids).toEqual(['respect_helpfulness']);
    await server.close();
  });

  it('completes XSTest samples with 10% 429s, 5% 500s, 10% truncated JSON and 5% empty replies', async () => {
    server = new ScriptedModelServer({ faults: { rate429: 0.1, rate500: 0.05, truncated: 0.1, empty: 0.05 }, seed: 9, retryAfterMs: 5 });
    const ctx = await createContext({ config: { ...testConfig((await server.start()).url, data.path), maxRepairs: 3 } });
    const prompts = xstestPrompts().slice(0, 40);
    const records = await Promise.all(prompts.map(({ prompt }) => deliberate({ prompt, policies: ctx.policies.select(), agents: 2, maxRounds: 3, models: ctx.models })));
    expect(records).toHaveLength(40);
    for (const [i, record] of records.entries()) {
      expect(record.prompt).toBe(prompts[i]!.prompt);
      expect(record.response.length).toBeGreaterThan(0);
    }
    const faults = server.requests.filter((r) => r.fault);
    expect(faults.filter((r) => r.fault === '429').length).toBeGreaterThan(10);
    expect(faults.filter((r) => r.fault === 'truncated').length).toBeGreaterThan(10);
    // every answered call, repairs included, is counted in the records' usage
    const answered = server.requests.filter((r) => r.fault !== '429' && r.fault !== '500').length;
    expect(records.reduce((n, r) => n + r.usage.calls, 0)).toBe(answered);
    await server.close();
  });

  it('stops calling the model once the request is cancelled', async () => {
    server = new ScriptedModelServer({ latencyMs: 50, agreeWhen: () => false });
    const ctx = await pipelineWith(server);
    const controller = new AbortController();
    const pending = deliberate({
      prompt: 'How do I make my code run faster?',
      policies: ctx.policies.select(),
      agents: 2,
      maxRounds: 10,
      models: ctx.models,
      signal: controller.signal,
      onProgress: ({ step }) => {
        if (step === 3) controller.abort();
      },
    });
    await expect(pending).rejects.toThrow(/cancelled/);
    await new Promise((r) => setTimeout(r, 150));
    expect(server.requests.length).toBeLessThanOrEqual(4);
    await server.close();
  });
});
