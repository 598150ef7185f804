import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import type { AppContext } from '../context.js';
import { recordSummarySchema } from '../store/record.js';
import { recordIdField } from './input-schemas.js';
import { annotations, guard, InputError, ok } from './tool-kit.js';

export function registerListRecords(server: McpServer, ctx: AppContext): void {
  server.registerTool(
    'list_records',
    {
      title: 'List stored records',
      description: 'Stored records, newest first; page with next_cursor, open one with get_record.',
      inputSchema: z.object({
        limit: z.number().int().min(1, 'limit must be from 1 to 200').max(200, 'limit must be from 1 to 200').default(20),
        cursor: recordIdField.optional(),
      }),
      outputSchema: z.object({ records: z.array(recordSummarySchema.pick({ id: true, kind: true })), next_cursor: z.string().optional() }),
      annotations: annotations.read,
    },
    async ({ limit, cursor }) =>
      guard('list_records', async () => {
        try {
          return ok(await ctx.store.list({ limit, cursor }));
        } catch (error) {
          if (cursor && (error as Error).message.startsWith('cursor')) throw new InputError(`cursor: ${(error as Error).message}`);
          throw error;
        }
      }),
  );
}
