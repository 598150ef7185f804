import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import type { AppContext } from '../context.js';
import { annotations, guard, ok } from './tool-kit.js';

/** What a client chooses policy_ids by; each entry also carries its version, hash, source and clause count, and `problems` the files that failed to load. */
const outputSchema = z.object({
  policies: z.array(z.object({ id: z.string(), title: z.string(), summary: z.string() })),
});

export function registerListPolicies(server: McpServer, ctx: AppContext): void {
  server.registerTool(
    'list_policies',
    {
      title: 'List safety policies',
      description:
        'The safety policies to choose policy_ids from; the full text is at policy://{id}.',
      inputSchema: z.object({}),
      outputSchema,
      annotations: annotations.read,
    },
    async () =>
      guard('list_policies', async () => {
        ctx.policies.reload(); // pick up files added by another process or by hand
        return ok({
          policies: ctx.policies.all().map((p) => ({ id: p.id, title: p.title, version: p.version, hash: p.hash, summary: p.summary, source: p.source, clauses: p.clauses.length })),
          problems: ctx.policies.problems,
        });
      }),
  );
}
