import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import type { AppContext } from '../context.js';
import { annotations, guard, ok } from './tool-kit.js';

const outputSchema = z.object({
  policies: z.array(
    z.object({
      id: z.string(),
      title: z.string(),
      version: z.string(),
      hash: z.string().describe('sha256 of the policy file; stored on every record that used it.'),
      summary: z.string(),
      source: z.enum(['builtin', 'user']),
      clauses: z.number().int(),
    }),
  ),
  problems: z.array(z.object({ path: z.string(), message: z.string() })).describe('Policy files that could not be loaded, and why.'),
});

export function registerListPolicies(server: McpServer, ctx: AppContext): void {
  server.registerTool(
    'list_policies',
    {
      title: 'List safety policies',
      description:
        'List the safety policies available for deliberation, with ids, versions and content hashes. Use it to choose policy_ids for the other tools; read a policy in full with the policy://{id} resource.',
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
