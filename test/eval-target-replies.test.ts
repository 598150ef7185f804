import type { ServerResponse } from 'node:http';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { evalTargetStand } from './helpers/eval-target-stand.js';
import { connectClient, contextFor } from './helpers/fixtures.js';

/**
 * A target someone else runs that answers 200 and then never finishes: one byte a second on /stall,
 * a body far over the cap on /huge.
 */
const open = new Set<ServerResponse>();
const stand = evalTargetStand((req, res) => {
  req.resume();
  res.writeHead(200, { 'content-type': 'application/json' });
  if (req.method === 'GET') return res.end(JSON.stringify({ object: 'list', data: [] }));
  if (req.url?.startsWith('/huge')) return res.end(JSON.stringify({ choices: [{ index: 0, message: { role: 'assistant', content: 'x'.repeat(1_000_000) } }] }));
  open.add(res);
  res.write('{');
  const drip = setInterval(() => res.write(' '), 1_000);
  res.on('close', () => (clearInterval(drip), open.delete(res)));
}, () => {
  for (const res of open) res.destroy();
});
const { judge, data } = stand;

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
    const { result, ms, failures } = await evalOn(`${stand.base}/stall/v1`);
    expect(result.isError, JSON.stringify(result.content)).toBeFalsy();
    expect((result.structuredContent as { result: { failed_samples: number } }).result.failed_samples).toBe(1);
    expect(failures).toMatch(/timed out|timeout/i);
    expect(ms).toBeLessThan(15_000);
  }, 30_000);

  it('a body over max_reply_bytes is cut off, retried, and fails the sample naming the cap', async () => {
    const { result, failures } = await evalOn(`${stand.base}/huge/v1`);
    expect(result.isError, JSON.stringify(result.content)).toBeFalsy();
    expect((result.structuredContent as { result: { failed_samples: number } }).result.failed_samples).toBe(1);
    expect(failures).toContain('max_reply_bytes');
  }, 30_000);
});
