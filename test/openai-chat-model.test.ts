import { afterEach, describe, expect, it } from 'vitest';
import { ModelError } from '../src/llm/chat-model.js';
import { OpenAIChatModel } from '../src/llm/openai-chat-model.js';
import { defaultRetryPolicy } from '../src/llm/retry.js';
import { chatModelSetup, messages, schema } from './helpers/scripted-chat-model.js';
import { ScriptedModelServer } from './helpers/scripted-model-server.js';

let server: ScriptedModelServer;
afterEach(async () => server?.close());
const setup = chatModelSetup((made) => (server = made));

const ask = (model: OpenAIChatModel, signal?: AbortSignal, schemaName = 'answer') => model.complete({ role: 'judge', schemaName, schema, messages, signal });
const formatOf = (request: { body: Record<string, unknown> } | undefined) => (request?.body.response_format as { type: string } | undefined)?.type;

describe('OpenAIChatModel against a scripted OpenAI-compatible server', () => {
  it('sends the schema as response_format json_schema and parses the reply', async () => {
    const { model } = await setup();
    const result = await ask(model);
    expect(result.value).toEqual({ answer: 'yes', score: 4 });
    expect(result.calls).toBe(1);
    expect(result.usage.prompt_tokens).toBeGreaterThan(0);
    const format = server.requests[0]?.body.response_format as { type: string; json_schema: { name: string; strict: boolean; schema: { required: string[] } } };
    expect(format.type).toBe('json_schema');
    expect(format.json_schema.name).toBe('answer');
    expect(format.json_schema.schema.required).toEqual(['answer', 'score']);
  });

  it('waits as long as a 429 Retry-After (in seconds) asks before retrying', async () => {
    const { model, retries } = await setup({ retryAfterSeconds: 1 });
    server.queueFaults('429');
    const started = Date.now();
    const result = await ask(model);
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(result.value.answer).toBe('yes');
    expect(retries).toEqual(['rate_limit']);
    expect(server.requests).toHaveLength(2);
  });

  it('retries 500s with backoff and counts only answered calls', async () => {
    const { model, retries } = await setup();
    server.queueFaults('500', '500');
    const result = await ask(model);
    expect(result.value.score).toBe(4);
    expect(retries).toEqual(['server', 'server']);
    expect(result.calls).toBe(1);
  });

  it('gives up after maxRetries with an http ModelError naming role, model and status', async () => {
    const { model } = await setup({}, { maxRetries: 2 });
    server.queueFaults('500', '500', '500', '500');
    const error = await ask(model).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ModelError);
    expect((error as ModelError).kind).toBe('http');
    expect((error as ModelError).status).toBe(500);
    expect((error as ModelError).message).toMatch(/judge \(model scripted-model\) failed after 3 attempts/);
  });

  it('repairs truncated JSON and empty replies by asking again with the problem', async () => {
    const { model } = await setup();
    server.queueFaults('truncated', 'empty');
    const result = await ask(model);
    expect(result.value).toEqual({ answer: 'yes', score: 4 });
    expect(result.calls).toBe(3);
    const repair = server.requests[1]?.messages;
    expect(repair?.at(-2)?.role).toBe('assistant');
    expect(repair?.at(-1)?.content).toMatch(/not valid JSON/);
    expect(server.requests[2]?.messages.at(-1)?.content).toMatch(/empty/);
  });

  it('accepts JSON wrapped in prose and code fences without a repair', async () => {
    const { model } = await setup();
    server.queueFaults('prose');
    const result = await ask(model);
    expect(result.value.answer).toBe('yes');
    expect(result.calls).toBe(1);
  });

  it('treats a plain-text refusal as unusable and re-asks with the analysis framing', async () => {
    const { model } = await setup();
    server.queueFaults('refusal');
    const result = await ask(model);
    expect(result.value.answer).toBe('yes');
    expect(server.requests[1]?.messages.at(-1)?.content).toMatch(/safety-analysis task/);
  });

  it('fails with invalid_output and keeps the raw reply when the model never matches the schema', async () => {
    const { model } = await setup({ respond: () => ({ json: { answer: 'yes' } }) }, { maxRepairs: 1 });
    const error = (await ask(model).catch((e: unknown) => e)) as ModelError;
    expect(error.kind).toBe('invalid_output');
    expect(error.raw).toBe('{"answer":"yes"}');
    expect(error.message).toMatch(/score/);
    expect(server.requests).toHaveLength(2);
  });

  it('times out a slow reply and retries it', async () => {
    const { model, retries } = await setup({ slowMs: 1_500 }, { timeoutMs: 300 });
    server.queueFaults('slow');
    const result = await ask(model);
    expect(result.value.answer).toBe('yes');
    expect(retries).toEqual(['timeout']);
  });

  it('falls back to json_object when the server rejects json_schema', async () => {
    const { model } = await setup({ rejectJsonSchema: true });
    const result = await ask(model);
    expect(result.value.answer).toBe('yes');
    expect((server.requests.at(-1)?.body.response_format as { type: string }).type).toBe('json_object');
  });

  it('falls back per schema on vLLM\'s "JSON schema" wording, and keeps json_schema for the other schemas', async () => {
    const { model, retries } = await setup({
      failWith: ({ role, body }) =>
        role === 'answer' && formatOf({ body }) === 'json_schema' ? { status: 400, message: 'The provided JSON schema contains features not supported by xgrammar.' } : undefined,
    });
    expect((await ask(model)).value.answer).toBe('yes');
    expect(server.requests.map(formatOf)).toEqual(['json_schema', 'json_object']);
    expect((await ask(model, undefined, 'other')).value.answer).toBe('yes');
    expect(formatOf(server.requests.at(-1))).toBe('json_schema');
    expect((await ask(model)).value.answer).toBe('yes');
    expect(formatOf(server.requests.at(-1))).toBe('json_object');
    expect(retries).toEqual([]);
  });

  it.each([
    ['llama.cpp', 500, 'response_format type must be one of "text" or "json_object", but got: json_schema'],
    ['Ollama', 500, 'invalid JSON schema in format'],
    ['OpenAI', 400, "Invalid schema for response_format 'answer': In context=(), 'additionalProperties' is required to be supplied and to be false."],
  ])('recognises %s rejecting the schema (%i) and falls back without retrying', async (_server, status, message) => {
    const { model, retries } = await setup({ failWith: ({ body }) => (formatOf({ body }) === 'json_schema' ? { status, message } : undefined) });
    expect((await ask(model)).value.answer).toBe('yes');
    expect(server.requests.map(formatOf)).toEqual(['json_schema', 'json_object']);
    expect(retries).toEqual([]);
  });

  it('names the HTTP status once in its error text', async () => {
    const { model } = await setup({}, { maxRetries: 1 });
    server.queueFaults('429', '429');
    const error = (await ask(model).catch((e: unknown) => e)) as ModelError;
    expect(error.message).toMatch(/: 429 Rate limit reached$/);
    expect(error.message).not.toMatch(/429 429/);
  });

  it('never puts the API key a server echoes back into its error or raw text', async () => {
    const key = 'local-key-7f3a9c1e5b';
    const { model } = await setup(
      { failWith: () => ({ status: 401, message: `Incorrect API key provided: ${key}. Header was Authorization: Bearer ${key}` }) },
      { env: { AIDSAFE_TEST_KEY: key } },
    );
    const error = (await ask(model).catch((e: unknown) => e)) as ModelError;
    expect(error.status).toBe(401);
    expect(error.message).toMatch(/401 Incorrect API key provided: \*\*\*/);
    expect(error.message).not.toContain(key);
    const echoed = new ModelError('invalid_output', 'judge', 'scripted-model', 1, `reply mentions ${key}`, `{"k":"${key}"}`);
    expect(`${echoed.message} ${echoed.raw}`).not.toContain(key);
  });

  it('stops waiting when the caller cancels', async () => {
    const { model } = await setup();
    server.queueFaults('hang');
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    const started = Date.now();
    const error = (await ask(model, controller.signal).catch((e: unknown) => e)) as ModelError;
    expect(error.kind).toBe('cancelled');
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('refuses to call OpenAI without a key and says how to configure a server', async () => {
    const model = new OpenAIChatModel({ model: 'gpt-4o-mini', baseURL: undefined, apiKeyEnv: 'OPENAI_API_KEY', temperature: undefined }, { timeoutMs: 1000, retry: defaultRetryPolicy, maxRepairs: 0, env: {} });
    const error = (await ask(model).catch((e: unknown) => e)) as ModelError;
    expect(error.kind).toBe('not_configured');
    expect(error.message).toMatch(/OPENAI_BASE_URL/);
    expect(error.message).toMatch(/Ollama/);
  });
});
