import { ResourceTemplate, type McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { McpError } from '@modelcontextprotocol/sdk/types.js';
import type { AppContext } from '../context.js';

/** "Resource not found" in the MCP versions this server speaks (2024-11-05 to 2025-11-25). */
export const RESOURCE_NOT_FOUND = -32002;

export function registerPolicyResource(server: McpServer, ctx: AppContext): void {
  server.registerResource(
    'policy',
    new ResourceTemplate('policy://{id}', {
      list: async () => ({
        resources: ctx.policies.all().map((p) => ({ uri: `policy://${p.id}`, name: p.id, title: p.title, description: p.summary, mimeType: 'text/markdown' })),
      }),
      complete: { id: (value) => ctx.policies.ids().filter((id) => id.startsWith(value)) },
    }),
    { title: 'Safety policy', description: 'The full text of one safety policy, with its numbered clauses.', mimeType: 'text/markdown' },
    async (uri, { id }) => {
      const policy = ctx.policies.get(String(id));
      if (!policy) throw new McpError(RESOURCE_NOT_FOUND, `Resource not found: no policy "${String(id)}"; known policies: ${ctx.policies.ids().join(', ')}`, { uri: uri.href });
      return { contents: [{ uri: uri.href, mimeType: 'text/markdown', text: policy.text }] };
    },
  );
}
