import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import type { AppContext } from '../context.js';
import { POLICY_ID_PATTERN, PolicyFormatError } from '../policies/policy.js';
import { writeUserPolicy } from '../store/user-policies.js';
import { annotations, guard, InputError, ok } from './tool-kit.js';

export function registerAddPolicy(server: McpServer, ctx: AppContext): void {
  server.registerTool(
    'add_policy',
    {
      title: 'Add a safety policy',
      description:
        'Add your own safety policy, usable in policy_ids at once. replace: true replaces one with the same id (a built-in is shadowed until remove_policy).',
      inputSchema: z.object({
        id: z.string().max(64).regex(POLICY_ID_PATTERN, 'id must be 2–64 characters: lowercase letters, digits, "_" or "-", starting with a letter'),
        title: z.string().trim().min(1, 'title must not be empty').max(200, 'title must be at most 200 characters'),
        text: z.string().min(1, 'text must not be empty').max(50_000, 'text must be at most 50,000 characters').describe('Markdown: intent, then clauses "1. [ID-1] …".'),
        version: z.string().trim().min(1).max(40).default('1.0.0'),
        summary: z.string().trim().min(1).max(500).optional().describe('Default: the first paragraph.'),
        replace: z.boolean().default(false),
      }),
      outputSchema: z.object({
        id: z.string(),
        hash: z.string(),
        path: z.string(),
        replaced: z.enum(['none', 'builtin', 'user']),
      }),
      annotations: annotations.local,
    },
    async ({ id, title, text, version, summary, replace }) =>
      guard('add_policy', async () => {
        ctx.policies.reload();
        const existing = ctx.policies.get(id);
        if (existing && !replace) {
          throw new InputError(`id: a ${existing.source === 'builtin' ? 'built-in' : 'user'} policy "${id}" exists already; pass replace: true to ${existing.source === 'builtin' ? 'shadow it with yours (the built-in file is not changed)' : 'replace it'}, or choose another id`);
        }
        let policy;
        try {
          policy = await writeUserPolicy(ctx.config.dataDir, { id, title, text, version, summary });
        } catch (error) {
          if (error instanceof PolicyFormatError) throw new InputError(`text: ${error.message.replace(/^[^:]*\.md: /, '')}`);
          throw error;
        }
        ctx.policies.reload();
        server.sendResourceListChanged();
        return ok({
          id: policy.id,
          title: policy.title,
          version: policy.version,
          hash: ctx.policies.get(id)?.hash ?? policy.hash,
          clauses: policy.clauses,
          path: policy.path,
          replaced: existing ? existing.source : 'none',
        });
      }),
  );
}
