import { existsSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MAX_MESSAGE_BYTES } from '../src/transports/limits.js';
import { peekRequestId } from '../src/transports/stdio.js';
import { tempDir } from './helpers/fixtures.js';
import { RawStdioServer, serverJs } from './helpers/raw-stdio.js';
import { ScriptedModelServer } from './helpers/scripted-model-server.js';

const data = tempDir();
const model = new ScriptedModelServer();
let server: RawStdioServer | undefined;

beforeAll(async () => {
  if (!existsSync(serverJs)) throw new Error('dist/server.js is missing: run `npm run build` first (npm test does it)');
  await model.start();
});
afterEach(async () => {
  await server?.stop();
  server = undefined;
});
afterAll(async () => {
  await model.close();
  data.remove();
});

function start(): RawStdioServer {
  server = new RawStdioServer({ OPENAI_BASE_URL: model.url, OPENAI_API_KEY: 'sk-test', AIDSAFE_MODEL: 'scripted-model', AIDSAFE_DATA_DIR: data.path });
  return server;
}

const addPolicy = (id: number, text: string) => ({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'add_policy', arguments: { id: 'huge', title: 'Huge', text } } });

describe('dist/server.js over stdio: messages over the size limit', () => {
  it('answers an 11 MB add_policy with a JSON-RPC error for its id, says so on stderr, and keeps serving', async () => {
    const s = start();
    await s.initialize();
    await s.send(addPolicy(7, `A policy.\n\n1. [HG-1] ${'x'.repeat(11 * 1024 * 1024)}`));
    const answer = await s.reply(7);
    expect(answer.error?.code).toBe(-32600);
    expect(answer.error?.message).toMatch(new RegExp(`over the ${MAX_MESSAGE_BYTES}-byte limit`));
    expect(s.stderr).toMatch(/over the \d+-byte limit/);
    await s.send({ jsonrpc: '2.0', id: 8, method: 'tools/call', params: { name: 'list_policies', arguments: {} } });
    expect((await s.reply(8)).result?.isError).toBeFalsy();
    expect(s.exit).toBeUndefined();
  }, 30_000);

  it('answers an over-limit line whose id it cannot find with id null, sent in small chunks', async () => {
    const s = start();
    await s.initialize();
    const params = JSON.stringify({ name: 'add_policy', arguments: { id: 'x', title: 'x', text: 'y'.repeat(MAX_MESSAGE_BYTES) } });
    const line = Buffer.from(`{"jsonrpc":"2.0","method":"tools/call","params":${params},"id":9}\n`);
    for (let i = 0; i < line.length; i += 64 * 1024) await s.write(line.subarray(i, i + 64 * 1024));
    expect((await s.reply(null)).error?.code).toBe(-32600);
    await s.send({ jsonrpc: '2.0', id: 10, method: 'ping' });
    expect((await s.reply(10)).result).toEqual({});
  }, 30_000);

  it('rejects add_policy text over its documented 50,000 characters with an isError naming the field', async () => {
    const s = start();
    await s.initialize();
    await s.send(addPolicy(11, 'z'.repeat(50_001)));
    const result = (await s.reply(11)).result as { isError?: boolean; content: { text: string }[] };
    expect(result.isError).toBe(true);
    expect(result.content[0]?.text).toMatch(/text must be at most 50,000 characters/);
  });

  it('answers a line that is not JSON, and a JSON value that is not a message, instead of dropping them', async () => {
    const s = start();
    await s.initialize();
    await s.write('{"jsonrpc":"2.0","id":12,"method":\n');
    expect((await s.reply(null)).error?.code).toBe(-32700);
    await s.send({ jsonrpc: '2.0', id: 13, method: 42 });
    expect((await s.reply(13)).error?.code).toBe(-32600);
    await s.send({ jsonrpc: '2.0', id: 14, method: 'ping' });
    expect((await s.reply(14)).result).toEqual({});
  });
});

describe('peekRequestId', () => {
  it('finds the top-level id, never one inside params', () => {
    expect(peekRequestId('{"jsonrpc":"2.0","id":7,"method":"x","params":{"id":"inner"')).toBe(7);
    expect(peekRequestId('{"jsonrpc":"2.0","method":"x","params":{"arguments":{"id":"inner","text":"aaa')).toBeUndefined();
    expect(peekRequestId('{"method":"id","id":"a\\"b"')).toBe('a"b');
    expect(peekRequestId('{"params":["id",{"id":3}],"id":-2}')).toBe(-2);
  });
});
