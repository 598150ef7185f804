import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import type { AppContext } from '../context.js';
import { POLICY_ID_PATTERN } from '../policies/policy.js';
import { removeUserPolicy, userPoliciesDir } from '../store/user-policies.js';
import { annotations, guard, InputError, ok } from './tool-kit.js';

export function registerRemovePolicy(server: McpServer, ctx: AppContext): void {
  server.registerTool(
    'remove_policy',
    {
      title: 'Remove an added policy',
      description: 'Remove a policy add_policy wrote; a built-in it shadowed is in force again.',
      inputSchema: z.object({ id: z.string().max(64).regex(POLICY_ID_PATTERN, 'id must be a policy id (see list_policies)') }),
      outputSchema: z.object({ id: z.string(), removed: z.boolean(), now_in_force: z.enum(['none', 'builtin', 'user']) }),
      annotations: { ...annotations.local, destructiveHint: true, idempotentHint: true },
    },
    async ({ id }) =>
      guard('remove_policy', async () => {
        ctx.policies.reload();
        const dir = userPoliciesDir(ctx.config.dataDir);
        const layers = ctx.policies.layers(id);
        if (layers.length === 0) throw new InputError(`id: no policy "${id}"; known policies: ${ctx.policies.ids().join(', ')}`);
        const mine = layers.find((p) => p.source === 'user' && p.path.startsWith(dir));
        if (!mine) {
          const top = layers[layers.length - 1];
          throw new InputError(
            top?.source === 'builtin'
              ? `id: "${id}" is a built-in policy; built-in policies cannot be removed (add_policy with replace: true shadows one)`
              : `id: "${id}" comes from ${top?.path ?? 'AIDSAFE_POLICIES_DIR'}; remove that file instead`,
          );
        }
        await removeUserPolicy(ctx.config.dataDir, id);
        ctx.policies.reload();
        server.sendResourceListChanged();
        const now = ctx.policies.get(id);
        return ok({ id, removed: true, now_in_force: now ? now.source : 'none' });
      }),
  );
}
