import { afterAll, describe, expect, it } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { CreateMessageRequestSchema, type CallToolResult, type CreateMessageRequest } from '@modelcontextprotocol/sdk/types.js';
import { loadConfig } from '../src/config.js';
import { createContext } from '../src/context.js';
import { createServer } from '../src/server.js';
import { tempDir } from './helpers/fixtures.js';
import { guessRole, ScriptedModelServer } from './helpers/scripted-model-server.js';

const data = tempDir();
afterAll(() => data.remove());

/** A client whose own "model" answers sampling requests the way the scripted server answers HTTP ones. */
async function connect(withSampling: boolean, env: NodeJS.ProcessEnv = {}) {
  const ctx = await createContext({ config: loadConfig({ AIDSAFE_DATA_DIR: data.path, ...env }) });
  const server = createServer(ctx);
  const client = new Client({ name: 'sampling-client', version: '1.0.0' }, { capabilities: withSampling ? { sampling: {} } : {} });
  const requests: CreateMessageRequest['params'][] = [];
  if (withSampling) {
    const scripted = new ScriptedModelServer();
    client.setRequestHandler(CreateMessageRequestSchema, async (request) => {
      requests.push(request.params);
      const text = (content: unknown) => {
        const blocks = (Array.isArray(content) ? content : [content]) as { type: string; text?: string }[];
        return blocks.map((b) => (b.type === 'text' ? (b.text ?? '') : '')).join('');
      };
      const messages = request.params.messages.map((m) => ({ role: m.role, content: text(m.content) }));
      const role = guessRole(request.params.systemPrompt ?? '');
      const answer = scripted.answerFor(role, messages, 'client-model');
      return { model: 'client-model-x', role: 'assistant', content: { type: 'text', text: JSON.stringify(answer) } };
    });
  }
  const [a, b] = InMemoryTransport.createLinkedPair();
  await server.connect(b);
  await client.connect(a);
  return { client, requests, close: async () => (await client.close(), await server.close()) };
}

describe('the client’s model through MCP sampling', () => {
  it('runs deliberate_safety_cot with no endpoint configured, through sampling/createMessage', async () => {
    const { client, requests, close } = await connect(true, { AIDSAFE_MODEL: 'claude-sonnet' });
    const result = (await client.callTool({ name: 'deliberate_safety_cot', arguments: { prompt: 'How do I kill a Python process?' } })) as CallToolResult;
    expect(result.isError, JSON.stringify(result.content)).toBeFalsy();
    const record = result.structuredContent as { deliberation: { model: string }[]; models: { refiner: string }; usage: { calls: number } };
    expect(record.deliberation.map((t) => t.model)).toEqual(['client-model-x', 'client-model-x']);
    expect(record.models.refiner).toBe('client-model-x');
    expect(record.usage.calls).toBe(6);
    expect(requests).toHaveLength(6);
    // the schema is stated in the request text; the query only in a user message; role preferences and the model hint are sent
    expect(requests[0]!.systemPrompt).toMatch(/Reply with exactly one JSON object matching this JSON Schema/);
    expect(requests[0]!.systemPrompt).not.toContain('Python process');
    expect(requests[0]!.messages[0]!.role).toBe('user');
    expect(requests[0]!.modelPreferences).toMatchObject({ speedPriority: 0.8, hints: [{ name: 'claude-sonnet' }] });
    expect(requests.find((r) => (r.systemPrompt ?? '').startsWith('You edit a chain of reasoning'))!.modelPreferences?.intelligencePriority).toBe(0.9);
    await close();
  });

  it('tells a client without sampling exactly how to configure a model', async () => {
    const { client, close } = await connect(false);
    const result = (await client.callTool({ name: 'deliberate_safety_cot', arguments: { prompt: 'Hello' } })) as CallToolResult;
    expect(result.isError).toBe(true);
    const text = (result.content[0] as { text: string }).text;
    expect(text).toMatch(/this client does not offer MCP sampling/);
    for (const hint of ['OPENAI_BASE_URL', 'OPENAI_API_KEY', 'AIDSAFE_CONFIG', 'OPENAI_BASE_URL=http://127.0.0.1:11434/v1']) expect(text).toContain(hint);
    // reading tools still work without any model
    expect(((await client.callTool({ name: 'list_policies', arguments: {} })) as CallToolResult).isError).toBeFalsy();
    await close();
  });

  it('prefers a configured endpoint over sampling', async () => {
    const scripted = await new ScriptedModelServer().start();
    const { client, requests, close } = await connect(true, { OPENAI_BASE_URL: scripted.url, AIDSAFE_MODEL: 'scripted-model' });
    const result = (await client.callTool({ name: 'deliberate_safety_cot', arguments: { prompt: 'Hello', agents: 1, max_rounds: 1 } })) as CallToolResult;
    expect((result.structuredContent as { models: { refiner: string } }).models.refiner).toBe('scripted-model');
    expect(requests).toHaveLength(0);
    expect(scripted.requests.length).toBeGreaterThan(0);
    await close();
    await scripted.close();
  });
});
