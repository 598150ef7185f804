import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { connectClient, contextFor, BENCHMARKS, tempDir } from './helpers/fixtures.js';
import { ScriptedModelServer } from './helpers/scripted-model-server.js';

/**
 * A target someone else runs that answers 200 and then never finishes: one byte a second on /stall,
 * a body far over the cap on /huge.
 */
const open = new Set<ServerResponse>();
const target: Server = createServer((req, res) => {
  req.resume();
  res.writeHead(200, { 'content-type': 'application/json' });
  if (req.method === 'GET') return res.end(JSON.stringify({ object: 'list', data: [] }));
  if (req.url?.startsWith('/huge')) return res.end(JSON.stringify({ choices: [{ index: 0, message: { role: 'assistant', content: 'x'.repeat(1_000_000) } }] }));
  open.add(res);
  res.write('{');
  const drip = setInterval(() => res.write(' '), 1_000);
  res.on('close', () => (clearInterval(drip), open.delete(res)));
});
const judge = new ScriptedModelServer({ latencyMs: 1 });
const data = tempDir();
let base = '';

beforeAll(async () => {
  await judge.start();
  await new Promise<void>((resolve) => target.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(target.address() as AddressInfo).port}`;
  process.env.AIDSAFE_SUITES_DIR = fileURLToPath(BENCHMARKS);
});
afterAll(async () => {
  delete process.env.AIDSAFE_SUITES_DIR;
  for (const res of open) res.destroy();
  target.closeAllConnections();
  await new Promise((resolve) => target.close(resolve));
  await judge.close();
  data.remove();
});

async function evalOn(url: string): Promise<{ result: CallToolResult; ms: number; failures: string }> {
  const file = join(data.path, 'config.json');
  writeFileSync(file, JSON.stringify({ request_timeout_ms: 1_000, max_retries: 1, max_reply_bytes: 65_536 }));
  const ctx = await contextFor(judge.url, data.path, { AIDSAFE_CONFIG: file });
  const { client, close } = await connectClient(ctx);
  try {
    const started = Date.now();
    const result = (await client.callTool({ name: 'start_eval', arguments: { targets: [{ target: url, model: 'm' }], suites: ['xstest'], limit: 1, wait: true } })) as CallToolResult;
    const ms = Date.now() - started;
    const runId = (result.structuredContent as { runs: { run_id: string }[] }).runs[0]!.run_id;
    const status = (await client.callTool({ name: 'get_batch', arguments: { run_id: runId } })) as CallToolResult;
    return { result, ms, failures: JSON.stringify((status.structuredContent as { failures: unknown[] }).failures) };
  } finally {
    await close();
    await ctx.close();
  }
}

describe('start_eval: a target whose reply never ends, or never stops growing', () => {
  it('a body that stalls after the headers fails the sample at request_timeout_ms, and the evaluation ends', async () => {
    const { result, ms, failures } = await evalOn(`${base}/stall/v1`);
    expect(result.isError, JSON.stringify(result.content)).toBeFalsy();
    expect((result.structuredContent as { result: { failed_samples: number } }).result.failed_samples).toBe(1);
    expect(failures).toMatch(/timed out|timeout/i);
    expect(ms).toBeLessThan(15_000);
  }, 30_000);

  it('a body over max_reply_bytes is cut off, retried, and fails the sample naming the cap', async () => {
    const { result, failures } = await evalOn(`${base}/huge/v1`);
    expect(result.isError, JSON.stringify(result.content)).toBeFalsy();
    expect((result.structuredContent as { result: { failed_samples: number } }).result.failed_samples).toBe(1);
    expect(failures).toContain('max_reply_bytes');
  }, 30_000);
});
