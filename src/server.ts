import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { createContext, type AppContext } from './context.js';
import { log } from './log.js';
import { registerPolicyResource } from './resources/policy-resource.js';
import { registerTools } from './tools/index.js';
import { VERSION } from './version.js';

const INSTRUCTIONS = `aidsafe-mcp creates policy-embedded chain-of-thought safety data with the AIDSAFE recipe (multi-agent deliberation).
Start with list_policies, then deliberate_safety_cot on a prompt; stored records are in list_records and get_record.`;

export function createServer(ctx: AppContext): McpServer {
  const server = new McpServer({ name: 'aidsafe-mcp', title: 'AIDSAFE safety-reasoning data', version: VERSION }, { instructions: INSTRUCTIONS });
  registerTools(server, ctx);
  registerPolicyResource(server, ctx);
  return server;
}

/** Serves MCP over stdio until the client closes the pipe. */
export async function main(): Promise<void> {
  process.on('unhandledRejection', (reason) => log('error', 'unhandled rejection', { reason: String(reason) }));
  const ctx = await createContext();
  const server = createServer(ctx);
  await server.connect(new StdioServerTransport());
  log('info', `aidsafe-mcp ${VERSION} on stdio`, { data_dir: ctx.config.dataDir, policies: ctx.policies.ids().length });
}

function isEntryPoint(): boolean {
  const entry = process.argv[1];
  if (!entry) return false;
  try {
    return realpathSync(entry) === fileURLToPath(import.meta.url);
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  main().catch((error: unknown) => {
    log('error', error instanceof Error ? error.message : String(error));
    process.exit(1);
  });
}
