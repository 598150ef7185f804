import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import type { AppContext } from '../context.js';
import { recordIdField } from './input-schemas.js';
import { annotations, guard, InputError, ok, withDeliberationView } from './tool-kit.js';

export function registerGetRecord(server: McpServer, ctx: AppContext): void {
  server.registerTool(
    'get_record',
    {
      title: 'Get a stored record',
      description: 'A stored record in full: intents, every turn, removals, grades.',
      inputSchema: z.object({ id: recordIdField }),
      // The other fields depend on the record's kind.
      outputSchema: z.looseObject({ id: z.string(), kind: z.string(), prompt: z.string() }),
      annotations: annotations.read,
      _meta: withDeliberationView,
    },
    async ({ id }) =>
      guard('get_record', async () => {
        const record = await ctx.store.get(id);
        if (!record) throw new InputError(`id: no record "${id}" in this store; list_records shows the ids there are`);
        return ok(record);
      }),
  );
}
