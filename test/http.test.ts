import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { startHttpServer } from '../src/transports/http.js';
import { runCli } from './helpers/cli.js';
import { contextFor, tempDir } from './helpers/fixtures.js';
import { ScriptedModelServer } from './helpers/scripted-model-server.js';

const TOKEN = 'test-token-4f1c2a9e';
const data = tempDir();
const model = new ScriptedModelServer({ latencyMs: 5 });
let url: string;
let close: () => Promise<void>;

beforeAll(async () => {
  await model.start();
  ({ url, close } = await startHttpServer(await contextFor(model.url, data.path), { host: '127.0.0.1', port: 0, token: TOKEN }));
});
afterAll(async () => {
  await close();
  await model.close();
  data.remove();
});

async function connect(token = TOKEN): Promise<Client> {
  const transport = new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers: { Authorization: `Bearer ${token}` } } });
  const client = new Client({ name: 'http-test', version: '1.0.0' });
  await client.connect(transport);
  return client;
}

const initialize = { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } };
function post(headers: Record<string, string>, body: unknown = initialize): Promise<Response> {
  return fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers }, body: JSON.stringify(body) });
}

describe('Streamable HTTP', () => {
  it('lists tools and runs a deliberation for a client with the token', async () => {
    const client = await connect();
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name)).toContain('deliberate_safety_cot');
    const result = (await client.callTool({ name: 'deliberate_safety_cot', arguments: { prompt: 'How do I kill a Python process?' } })) as CallToolResult;
    expect(result.isError).toBeFalsy();
    await client.close();
  });

  it('serves two clients at once, each in its own session, sharing one store', async () => {
    const [a, b] = await Promise.all([connect(), connect()]);
    const [ra, rb] = (await Promise.all([
      a.callTool({ name: 'deliberate_safety_cot', arguments: { prompt: 'What is the capital of France?' } }),
      b.callTool({ name: 'deliberate_safety_cot', arguments: { prompt: 'How do I whittle a knife?' } }),
    ])) as CallToolResult[];
    const idA = (ra!.structuredContent as { id: string }).id;
    const idB = (rb!.structuredContent as { id: string }).id;
    // each sees the other's record
    expect(((await a.callTool({ name: 'get_record', arguments: { id: idB } })) as CallToolResult).isError).toBeFalsy();
    expect(((await b.callTool({ name: 'get_record', arguments: { id: idA } })) as CallToolResult).isError).toBeFalsy();
    expect((a.transport as StreamableHTTPClientTransport).sessionId).not.toBe((b.transport as StreamableHTTPClientTransport).sessionId);
    await Promise.all([a.close(), b.close()]);
  });

  it('answers 401 without the token or with a wrong one', async () => {
    expect((await post({})).status).toBe(401);
    expect((await post({ authorization: 'Bearer wrong' })).status).toBe(401);
    expect((await post({})).headers.get('www-authenticate')).toBe('Bearer');
    await expect(connect('wrong')).rejects.toThrow();
  });

  it('takes the auth scheme in any case, as HTTP defines it', async () => {
    for (const scheme of ['bearer', 'BEARER', 'Bearer', 'bEaReR']) expect((await post({ authorization: `${scheme} ${TOKEN}` })).status).toBe(200);
    expect((await post({ authorization: `Basic ${TOKEN}` })).status).toBe(401);
    expect((await post({ authorization: `bearer ${TOKEN.toUpperCase()}` })).status).toBe(401);
  });

  it('answers 403 to a foreign Origin or Host (DNS rebinding), even with the token', async () => {
    const auth = { authorization: `Bearer ${TOKEN}` };
    expect((await post({ ...auth, origin: 'https://evil.example' })).status).toBe(403);
    expect((await post({ ...auth, origin: 'http://127.0.0.1:5173' })).status).toBe(200);
    const port = new URL(url).port;
    const spoofed = await new Promise<number>((resolve, reject) => {
      // fetch will not let us set Host; node:http will
      import('node:http').then(({ request }) => {
        const req = request({ host: '127.0.0.1', port, path: '/mcp', method: 'POST', headers: { host: `attacker.example:${port}`, authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' } }, (res) => resolve(res.statusCode ?? 0));
        req.on('error', reject);
        req.end(JSON.stringify(initialize));
      }, reject);
    });
    expect(spoofed).toBe(403);
  });

  it('refuses to start on a non-loopback host without a token', async () => {
    const result = await runCli(['serve', '--http', '--host', '0.0.0.0', '--port', '0'], { AIDSAFE_DATA_DIR: data.path });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/refusing to serve on 0\.0\.0\.0 without a token: set AIDSAFE_HTTP_TOKEN/);
  });
});
