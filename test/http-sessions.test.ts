import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { AppContext } from '../src/context.js';
import { httpSessionLimits, startHttpServer } from '../src/transports/http.js';
import { contextFor, tempDir } from './helpers/fixtures.js';
import { ScriptedModelServer } from './helpers/scripted-model-server.js';

const data = tempDir();
// Slow enough that a deliberation keeps its session busy while the test opens others.
const model = new ScriptedModelServer({ latencyMs: 300 });
let ctx: AppContext;

beforeAll(async () => {
  await model.start();
  ctx = await contextFor(model.url, data.path);
});
afterAll(async () => {
  await model.close();
  data.remove();
});

const initialize = { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } };
const headers = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };

async function openSession(url: string): Promise<{ status: number; id: string | null; text: string }> {
  const res = await fetch(url, { method: 'POST', headers, body: JSON.stringify(initialize) });
  return { status: res.status, id: res.headers.get('mcp-session-id'), text: await res.text() };
}

async function ping(url: string, sessionId: string): Promise<number> {
  const res = await fetch(url, { method: 'POST', headers: { ...headers, 'mcp-session-id': sessionId, 'mcp-protocol-version': '2025-06-18' }, body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'ping' }) });
  await res.text();
  return res.status;
}

describe('HTTP session limits', () => {
  it('keeps the live sessions at the cap: a new client evicts the least recently used idle one', async () => {
    const server = await startHttpServer(ctx, { host: '127.0.0.1', port: 0, maxSessions: 4 });
    try {
      const ids: string[] = [];
      for (let i = 0; i < 40; i++) {
        const { status, id } = await openSession(server.url);
        expect(status).toBe(200);
        ids.push(id as string);
        expect(server.sessionCount()).toBeLessThanOrEqual(4);
      }
      expect(server.sessionCount()).toBe(4);
      expect(await ping(server.url, ids[0] as string)).toBe(404); // evicted: the client initializes again
      expect(await ping(server.url, ids[39] as string)).toBe(200);
      // Touching the oldest live session makes it the newest, so the next eviction takes another.
      expect(await ping(server.url, ids[36] as string)).toBe(200);
      await openSession(server.url);
      expect(await ping(server.url, ids[36] as string)).toBe(200);
      expect(await ping(server.url, ids[37] as string)).toBe(404);
    } finally {
      await server.close();
    }
  });

  it('refuses a new session with 503 while every session has a request in flight, and accepts it after', async () => {
    const server = await startHttpServer(ctx, { host: '127.0.0.1', port: 0, maxSessions: 2 });
    const clients = await Promise.all(
      [1, 2].map(async () => {
        const client = new Client({ name: 'busy', version: '1' });
        await client.connect(new StreamableHTTPClientTransport(new URL(server.url)));
        return client;
      }),
    );
    try {
      const prompts = ['How do I kill a Python process? (first client)', 'How do I kill a Python process? (second client)'];
      const calls = clients.map((c, i) => c.callTool({ name: 'deliberate_safety_cot', arguments: { prompt: prompts[i] } }));
      // Both calls are in flight once each has reached the model (a call makes six, 300 ms each).
      const reached = (p: string) => model.requests.some((r) => r.messages.some((m) => m.content.includes(p)));
      while (!prompts.every(reached)) await new Promise((r) => setTimeout(r, 10));
      const refused = await openSession(server.url);
      expect(refused.status).toBe(503);
      expect(JSON.parse(refused.text).error.message).toMatch(/AIDSAFE_HTTP_MAX_SESSIONS/);
      expect(server.sessionCount()).toBe(2);
      await Promise.all(calls);
      expect((await openSession(server.url)).status).toBe(200);
      expect(server.sessionCount()).toBe(2);
    } finally {
      await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
      await server.close();
    }
  });

  it('closes sessions idle for longer than the idle timeout', async () => {
    const server = await startHttpServer(ctx, { host: '127.0.0.1', port: 0, sessionIdleMs: 500 });
    try {
      const { id } = await openSession(server.url);
      expect(server.sessionCount()).toBe(1);
      await new Promise((r) => setTimeout(r, 2_500));
      expect(server.sessionCount()).toBe(0);
      expect(await ping(server.url, id as string)).toBe(404);
    } finally {
      await server.close();
    }
  });

  it('reads its limits from the environment and rejects nonsense', () => {
    expect(httpSessionLimits({})).toEqual({ maxSessions: undefined, sessionIdleMs: undefined });
    expect(httpSessionLimits({ AIDSAFE_HTTP_MAX_SESSIONS: '8', AIDSAFE_HTTP_SESSION_IDLE_MINUTES: '2' })).toEqual({ maxSessions: 8, sessionIdleMs: 120_000 });
    expect(() => httpSessionLimits({ AIDSAFE_HTTP_MAX_SESSIONS: '0' })).toThrow(/AIDSAFE_HTTP_MAX_SESSIONS must be a whole number from 1/);
    // Each session costs 2–3.5 MB, so the cap stops at 1,000.
    expect(httpSessionLimits({ AIDSAFE_HTTP_MAX_SESSIONS: '1000' })).toMatchObject({ maxSessions: 1000 });
    expect(() => httpSessionLimits({ AIDSAFE_HTTP_MAX_SESSIONS: '10000' })).toThrow('AIDSAFE_HTTP_MAX_SESSIONS must be a whole number from 1 to 1000 (got "10000"): each session holds a whole MCP server (2–3.5 MB)');
    expect(() => httpSessionLimits({ AIDSAFE_HTTP_SESSION_IDLE_MINUTES: 'soon' })).toThrow(/AIDSAFE_HTTP_SESSION_IDLE_MINUTES/);
  });
});
