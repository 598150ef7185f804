import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';
import { ModelRouter } from '../src/llm/model-router.js';
import { ModelError } from '../src/llm/chat-model.js';
import { OpenAIChatModel } from '../src/llm/openai-chat-model.js';
import { tempDir } from './helpers/fixtures.js';
import { chatModelSetup, messages, schema } from './helpers/scripted-chat-model.js';
import { ScriptedModelServer } from './helpers/scripted-model-server.js';

/**
 * What a model server's reply may cost: one deadline covers connecting, headers and the whole body,
 * and a body past the reply cap is cut off while it streams. Driven through the real openai client.
 */

let server: ScriptedModelServer;
afterEach(async () => server?.close());
const setup = chatModelSetup((made) => (server = made));

const ask = (model: Pick<OpenAIChatModel, 'complete'>, signal?: AbortSignal) => model.complete({ role: 'judge', schemaName: 'answer', schema, messages, signal });
const failure = async (model: OpenAIChatModel) => (await ask(model).catch((e: unknown) => e)) as ModelError;

describe('one deadline for the whole reply', () => {
  it('times out a reply whose body stalls after the headers, and retries it as a timeout', async () => {
    const { model, retries } = await setup({ trickleMs: 200 }, { timeoutMs: 600 });
    server.queueFaults('stall_body');
    const started = Date.now();
    const result = await ask(model);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(result.value).toEqual({ answer: 'yes', score: 4 });
    expect(retries).toEqual(['timeout']);
    const stalled = server.requests[0]!;
    expect(stalled.fault).toBe('stall_body');
    expect(stalled.bytesSent).toBeGreaterThan(0);
    await expect.poll(() => stalled.clientHungUp).toBe(true);
  }, 15_000);

  it('fails with a timeout that names request_timeout_ms when every body stalls', async () => {
    const { model } = await setup({ trickleMs: 200 }, { timeoutMs: 400, maxRetries: 1 });
    server.queueFaults('stall_body', 'stall_body');
    const error = await failure(model);
    expect(error).toBeInstanceOf(ModelError);
    expect(error.kind).toBe('timeout');
    expect(error.message).toMatch(/failed after 2 attempts: .*within 400 ms \(request_timeout_ms\)/);
  }, 15_000);

  it('a cancel while the body is coming stops the request at once, as a cancel', async () => {
    const { model, retries } = await setup({ trickleMs: 200 }, { timeoutMs: 60_000 });
    server.queueFaults('stall_body');
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 300);
    const started = Date.now();
    const error = (await ask(model, controller.signal).catch((e: unknown) => e)) as ModelError;
    expect(error.kind).toBe('cancelled');
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(retries).toEqual([]);
    await expect.poll(() => server.requests[0]?.clientHungUp).toBe(true);
  }, 15_000);
});

describe('a connection dropped mid-body', () => {
  it('is retried as a network failure', async () => {
    const { model, retries } = await setup();
    server.queueFaults('cut_body');
    const result = await ask(model);
    expect(result.value).toEqual({ answer: 'yes', score: 4 });
    expect(retries).toEqual(['network']);
    expect(server.requests).toHaveLength(2);
  });
});

describe('a replica pool', () => {
  it('moves a request whose body stalls on one replica to another', async () => {
    server = await new ScriptedModelServer({ respond: () => ({ json: { answer: 'stalled', score: 1 } }), trickleMs: 200 }).start();
    const other = await new ScriptedModelServer({ respond: () => ({ json: { answer: 'yes', score: 4 } }) }).start();
    const dir = tempDir();
    try {
      const path = join(dir.path, 'config.json');
      writeFileSync(path, JSON.stringify({ default: { model: 'scripted-model', base_url: [server.url, other.url] }, request_timeout_ms: 1_000 }));
      server.queueFaults('stall_body');
      const started = Date.now();
      const result = await ask(new ModelRouter(loadConfig({ AIDSAFE_CONFIG: path, AIDSAFE_DATA_DIR: dir.path })).forRole('judge'));
      expect(result.value).toEqual({ answer: 'yes', score: 4 });
      expect(Date.now() - started).toBeLessThan(6_000);
      expect(server.requests.map((r) => r.fault)).toEqual(['stall_body']);
      expect(other.requests).toHaveLength(1);
    } finally {
      await other.close();
      dir.remove();
    }
  }, 15_000);
});

describe('a cap on the size of a reply', () => {
  it('cuts a reply past the cap off while it streams and asks again, saying it was too long', async () => {
    const { model } = await setup({ hugeBytes: 32 * 1024 * 1024 }, { maxReplyBytes: 256 * 1024 });
    server.queueFaults('huge');
    const result = await ask(model);
    expect(result.value).toEqual({ answer: 'yes', score: 4 });
    expect(result.calls).toBe(2);
    const huge = server.requests[0]!;
    await expect.poll(() => huge.clientHungUp).toBe(true);
    // Cut off near the cap, not read to its 32 MB end (loopback socket buffers take a few MB more).
    expect(huge.bytesSent).toBeLessThan(16 * 1024 * 1024);
    expect(server.requests[1]!.messages.at(-1)?.content).toMatch(/larger than 256 KB/);
  }, 15_000);

  it('counts a reply that is always too long as an invalid reply, naming max_reply_bytes', async () => {
    const { model } = await setup({ hugeBytes: 2 * 1024 * 1024 }, { maxReplyBytes: 64 * 1024, maxRepairs: 1 });
    server.queueFaults('huge', 'huge');
    const error = await failure(model);
    expect(error.kind).toBe('invalid_output');
    expect(error.message).toMatch(/failed after 2 attempts: the reply was larger than 64 KB \(max_reply_bytes\)/);
    expect(server.requests).toHaveLength(2);
  }, 15_000);

  it('takes the cap from max_reply_bytes in the config file, and rejects one out of range naming it', async () => {
    server = await new ScriptedModelServer({ respond: () => ({ json: { answer: 'yes', score: 4 } }), hugeBytes: 1024 * 1024 }).start();
    const dir = tempDir();
    try {
      const path = join(dir.path, 'config.json');
      writeFileSync(path, JSON.stringify({ default: { model: 'scripted-model', base_url: server.url }, max_reply_bytes: 65_536, max_repairs: 0, max_retries: 0 }));
      const config = loadConfig({ AIDSAFE_CONFIG: path, AIDSAFE_DATA_DIR: dir.path });
      expect(config.maxReplyBytes).toBe(65_536);
      server.queueFaults('huge');
      const error = (await ask(new ModelRouter(config).forRole('judge')).catch((e: unknown) => e)) as ModelError;
      expect(error.message).toMatch(/larger than 64 KB \(max_reply_bytes\)/);
      expect(loadConfig({ AIDSAFE_DATA_DIR: dir.path }).maxReplyBytes).toBe(4 * 1024 * 1024);
      writeFileSync(path, JSON.stringify({ max_reply_bytes: 10 }));
      expect(() => loadConfig({ AIDSAFE_CONFIG: path })).toThrow(ConfigError);
      expect(() => loadConfig({ AIDSAFE_CONFIG: path })).toThrow(/max_reply_bytes/);
    } finally {
      dir.remove();
    }
  });

  it('keeps replies under the default cap as they are', async () => {
    const { model } = await setup({ hugeBytes: 1024 * 1024 });
    server.queueFaults('huge');
    const result = await ask(model);
    expect(result.value.answer.length).toBeGreaterThanOrEqual(1024 * 1024);
    expect(result.calls).toBe(1);
  });
});

describe('a status 200 that is not a chat completion', () => {
  it('an HTML page fails at once, naming the content type, its first bytes and the base URL to check', async () => {
    const { model, retries } = await setup();
    server.queueFaults('html');
    const error = await failure(model);
    expect(error.kind).toBe('http');
    expect(error.message).not.toMatch(/empty/);
    expect(error.message).toContain('text/html');
    expect(error.message).toContain('<!DOCTYPE html>');
    expect(error.message).toContain(`${server.url}/chat/completions`);
    expect(error.message).toMatch(/base_url|OPENAI_BASE_URL/);
    expect(server.requests).toHaveLength(1);
    expect(retries).toEqual([]);
  });

  it('a plain-text body says what the server sent', async () => {
    const { model } = await setup();
    server.queueFaults('text');
    const error = await failure(model);
    expect(error.kind).toBe('http');
    expect(error.message).toContain('text/plain');
    expect(error.message).toContain('Ollama is running');
    expect(server.requests).toHaveLength(1);
  });

  it('a JSON null says so instead of failing on a property of null', async () => {
    const { model } = await setup();
    server.queueFaults('null_json');
    const error = await failure(model);
    expect(error.kind).toBe('http');
    expect(error.message).not.toMatch(/Cannot read properties/);
    expect(error.message).toMatch(/application\/json/);
    expect(error.message).toMatch(/null/);
    expect(error.message).toMatch(/no "choices"/);
    expect(server.requests).toHaveLength(1);
  });
});
