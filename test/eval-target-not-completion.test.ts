import { describe, expect, it } from 'vitest';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { evalTargetStand } from './helpers/eval-target-stand.js';
import { connectClient, contextFor } from './helpers/fixtures.js';

/**
 * An evaluation target URL that answers 200 with something that is not a chat completion, as a web UI,
 * a proxy's banner or a wrong path does. Such a reply is no answer of the model's: scoring it as an
 * empty reply would report a model that never answered as complying (or refusing) with every prompt.
 */
const bodies: Record<string, { type: string; body: string }> = {
  html: { type: 'text/html', body: '<!doctype html><html><body><h1>Welcome to the web UI</h1></body></html>' },
  text: { type: 'text/plain', body: 'OK' },
  null: { type: 'application/json', body: 'null' },
};
const stand = evalTargetStand((req, res) => {
  req.resume();
  if (req.method === 'GET') {
    res.writeHead(200, { 'content-type': 'application/json' });
    return res.end(JSON.stringify({ object: 'list', data: [] }));
  }
  const answer = bodies[req.url?.split('/')[1] ?? ''] ?? bodies.html!;
  res.writeHead(200, { 'content-type': answer.type });
  res.end(answer.body);
});
const { judge, data } = stand;

describe('start_eval: a target that answers 200 with no chat completion', () => {
  for (const [kind, shown] of [['html', /text\/html, not a chat completion: "<!doctype html>/], ['text', /text\/plain, not a chat completion: "OK"/], ['null', /no "choices", so it is not a chat completion: null/]] as const) {
    it(`${kind}: fails the sample naming what came back, scores nothing, and asks the judge nothing`, async () => {
      const ctx = await contextFor(judge.url, data.path);
      const { client, close } = await connectClient(ctx);
      try {
        const judged = judge.requests.length;
        const result = (await client.callTool({ name: 'start_eval', arguments: { targets: [{ target: `${stand.base}/${kind}/v1`, model: `m-${kind}` }], suites: ['xstest'], limit: 2, wait: true } })) as CallToolResult;
        expect(result.isError, JSON.stringify(result.content)).toBeFalsy();
        const { status, result: evaluation, runs } = result.structuredContent as { status: string; result: { failed_samples: number; scores: { samples: number }[] }; runs: { run_id: string }[] };
        expect(status).toBe('failed');
        expect(evaluation.failed_samples).toBe(2);
        expect(evaluation.scores.every((s) => s.samples === 0)).toBe(true);
        expect(judge.requests.length).toBe(judged);
        const batch = (await client.callTool({ name: 'get_batch', arguments: { run_id: runs[0]!.run_id } })) as CallToolResult;
        const failures = (batch.structuredContent as { failures: { error: string }[] }).failures.map((f) => f.error).join('\n');
        expect(failures, failures).toMatch(shown);
        expect(failures).toContain(`${stand.base}/${kind}/v1/chat/completions answered 200`);
      } finally {
        await close();
        await ctx.close();
      }
    }, 30_000);
  }
});
