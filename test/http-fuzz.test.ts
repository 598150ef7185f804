import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { startHttpServer } from '../src/transports/http.js';
import { contextFor, tempDir } from './helpers/fixtures.js';
import { fuzzer } from './helpers/fuzz.js';
import { ScriptedModelServer } from './helpers/scripted-model-server.js';

// Seeded, so a failure repeats: FUZZ_SEED=… FUZZ_MS=… FUZZ_MAX=… npx vitest run test/http-fuzz.test.ts
const SEED = Number(process.env.FUZZ_SEED ?? 20_251_203);
const DURATION_MS = Number(process.env.FUZZ_MS ?? 3_000);
const MAX_FRAMES = Number(process.env.FUZZ_MAX ?? 400);
const TOKEN = 'fuzz-token-3b7d91';
const IN_FLIGHT = 6;

const data = tempDir();
const model = new ScriptedModelServer();
let http: Awaited<ReturnType<typeof startHttpServer>>;

beforeAll(async () => {
  await model.start();
  // Loopback only; a small session cap so the fuzz also runs into it.
  http = await startHttpServer(await contextFor(model.url, data.path, { OPENAI_API_KEY: 'sk-fuzz' }), { host: '127.0.0.1', port: 0, token: TOKEN, maxSessions: 4 });
});
afterAll(async () => {
  await http.close();
  await model.close();
  data.remove();
});

interface Exchange {
  status: number;
  /** The JSON-RPC messages of the answer, from a JSON body or an event stream. */
  messages: { id?: unknown; result?: unknown; error?: { code: number; message: string } }[];
}

async function exchange(init: { method?: string; headers?: Record<string, string>; body?: string }): Promise<Exchange> {
  const res = await fetch(http.url, { method: init.method ?? 'POST', headers: init.headers, body: init.body, signal: AbortSignal.timeout(30_000) });
  const text = await res.text();
  const type = res.headers.get('content-type') ?? '';
  const payloads = type.includes('text/event-stream')
    ? text
        .split('\n')
        .filter((line) => line.startsWith('data:'))
        .map((line) => line.slice(5).trim())
        .filter(Boolean)
    : text
      ? [text]
      : [];
  const messages = payloads.flatMap((p) => {
    const parsed = JSON.parse(p) as Exchange['messages'][number] | Exchange['messages'];
    return Array.isArray(parsed) ? parsed : [parsed];
  });
  return { status: res.status, messages };
}

const good = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' };

async function openSession(): Promise<string> {
  const res = await fetch(http.url, {
    method: 'POST',
    headers: good,
    body: JSON.stringify({ jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'fuzz', version: '1' } } }),
  });
  await res.text();
  const id = res.headers.get('mcp-session-id');
  if (!id) throw new Error(`no session (status ${res.status})`);
  await exchange({ headers: { ...good, 'mcp-session-id': id }, body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }) });
  return id;
}

describe('serve --http, fuzzed', () => {
  it('answers a request that is not a valid JSON-RPC message for its id, as stdio does', async () => {
    const session = await openSession();
    const answer = await exchange({ headers: { ...good, 'mcp-session-id': session }, body: JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'tools/list', params: 'x' }) });
    expect(answer.status).toBe(400);
    expect(answer.messages).toEqual([{ jsonrpc: '2.0', id: 7, error: { code: -32600, message: 'invalid request: not a JSON-RPC 2.0 message (jsonrpc "2.0", a method name, params an object)' } }]);
  });

  it(`answers every frame with a 2xx or 4xx and every request of a session with its id (seed ${SEED}, ≤${MAX_FRAMES} frames, ≤${DURATION_MS} ms)`, async () => {
    const { rnd, int, pick, text, value, argsFor, method, paramsFor } = fuzzer(SEED);
    // What a header can carry at all: visible ASCII.
    const ascii = (max: number) => 'x' + text(max).replace(/[^\x21-\x7e]/g, 'x');
    let session = await openSession();
    const tools = (await exchange({ headers: { ...good, 'mcp-session-id': session }, body: JSON.stringify({ jsonrpc: '2.0', id: 'tools', method: 'tools/list' }) })).messages[0]?.result as {
      tools: { name: string; inputSchema: { properties?: Record<string, unknown> } }[];
    };
    expect(tools.tools.length).toBeGreaterThan(0);

    let nextId = 1;
    const problems: string[] = [];
    const statuses = new Map<number, number>();
    const pending = new Set<Promise<void>>();
    /** Sends a frame; `expectId` is a request id the answer must carry (a JSON-RPC request in a live session). */
    const send = (label: string, init: Parameters<typeof exchange>[0], expectId?: number) => {
      const p = exchange(init)
        .then((ex) => {
          statuses.set(ex.status, (statuses.get(ex.status) ?? 0) + 1);
          if (ex.status >= 500 && ex.status !== 503) problems.push(`${label}: status ${ex.status} ${JSON.stringify(ex.messages).slice(0, 200)}`);
          // 404: the session was evicted by the cap meanwhile, which the client is told to answer by initializing again.
          if (expectId !== undefined && ex.status !== 404 && !ex.messages.some((m) => m.id === expectId && (m.result !== undefined || m.error !== undefined))) {
            problems.push(`${label}: no answer for id ${expectId} (status ${ex.status}: ${JSON.stringify(ex.messages).slice(0, 200)})`);
          }
          if (ex.status === 404 && expectId !== undefined) return openSession().then((s) => void (session = s));
        })
        .catch((error: unknown) => void problems.push(`${label}: ${String(error)}`))
        .finally(() => pending.delete(p));
      pending.add(p);
      return p;
    };

    const started = Date.now();
    let frames = 0;
    while (frames < MAX_FRAMES && Date.now() - started < DURATION_MS) {
      while (pending.size >= IN_FLIGHT) await Promise.race(pending);
      frames++;
      const inSession = { ...good, 'mcp-session-id': session };
      switch (int(12)) {
        case 0: {
          // Not JSON, or JSON cut short.
          const full = JSON.stringify({ jsonrpc: '2.0', id: nextId++, method: 'tools/call', params: { name: pick(tools.tools).name, arguments: {} } });
          void send('garbage', { headers: inSession, body: pick([text(30) + '{', full.slice(0, 1 + int(full.length - 2)), '{"jsonrpc":"2.0",,}', "{'a':1}", '']) });
          break;
        }
        case 1: {
          // JSON that is not a JSON-RPC message.
          const id = nextId++;
          void send('not a message', { headers: inSession, body: JSON.stringify(pick<unknown>([{ jsonrpc: '2.0', id, method: 42 }, { jsonrpc: '1.0', id, method: 'ping' }, { id, method: 'ping' }, 42, 'hello', null, [], value(0)])) });
          break;
        }
        case 2: {
          // Headers wrong: token, content type, accept, origin, an unknown session, or no session at all.
          const headers = pick<Record<string, string>>([
            { ...inSession, authorization: `Bearer ${ascii(12)}` },
            { ...inSession, authorization: '' },
            { ...inSession, 'content-type': 'text/plain' },
            { ...inSession, accept: 'text/html' },
            { ...inSession, origin: pick(['https://evil.example', 'null', ascii(8)]) },
            { ...good, 'mcp-session-id': pick(['00000000-0000-0000-0000-000000000000', ascii(20)]) },
            good,
          ]);
          void send('bad headers', { headers, body: JSON.stringify({ jsonrpc: '2.0', id: nextId++, method: 'tools/list' }) });
          break;
        }
        case 3:
          // Other HTTP methods, on no session or an unknown one (a GET on a live one would open its event stream).
          void send('other method', { method: pick(['GET', 'DELETE', 'PUT', 'PATCH']), headers: { ...good, ...(rnd() < 0.5 ? { 'mcp-session-id': 'no-such-session' } : {}) } });
          break;
        case 4:
          // A second initialize in a live session, or a new session (the cap of 4 evicts idle ones).
          void send('initialize', { headers: rnd() < 0.5 ? inSession : good, body: JSON.stringify({ jsonrpc: '2.0', id: nextId++, method: 'initialize', params: rnd() < 0.5 ? value(0) : { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'again', version: '1' } } }) });
          break;
        case 5:
          void send('notification', { headers: inSession, body: JSON.stringify({ jsonrpc: '2.0', method: pick(['notifications/cancelled', 'notifications/whatever', 'notifications/roots/list_changed']), params: value(0) }) });
          break;
        case 6: {
          const id = nextId++;
          void send('method', { headers: inSession, body: JSON.stringify({ jsonrpc: '2.0', id, method: method(), params: paramsFor() }) }, id);
          break;
        }
        case 7: {
          // A batch of requests in one body.
          const ids = Array.from({ length: 1 + int(3) }, () => nextId++);
          void send('batch', { headers: inSession, body: JSON.stringify(ids.map((id) => ({ jsonrpc: '2.0', id, method: pick(['ping', 'tools/list', 'prompts/list']) }))) });
          break;
        }
        case 8:
          if (rnd() < 0.2) {
            // Over the 4 MB body limit.
            void send('oversized', { headers: inSession, body: JSON.stringify({ jsonrpc: '2.0', id: nextId++, method: 'ping', params: { pad: 'x'.repeat(4 * 1024 * 1024 + 1) } }) });
            break;
          }
        // falls through
        default: {
          const id = nextId++;
          const tool = rnd() < 0.95 ? pick(tools.tools) : { name: text(10), inputSchema: {} };
          void send('tools/call', { headers: inSession, body: JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: tool.name, arguments: argsFor(tool) } }) }, id);
        }
      }
    }
    await Promise.all(pending);
    expect(problems).toEqual([]);
    expect(frames).toBeGreaterThan(50);
    expect(http.sessionCount()).toBeLessThanOrEqual(4);

    // Still serving a well-behaved client.
    const client = new Client({ name: 'after-fuzz', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(http.url), { requestInit: { headers: { Authorization: `Bearer ${TOKEN}` } } }));
    const { tools: listed } = await client.listTools();
    expect(listed.length).toBe(tools.tools.length);
    await client.close();
  }, 90_000);
});
