import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { AjvJsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/ajv';
import type { JsonSchemaType, JsonSchemaValidator, jsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/types.js';
import { createContext, type AppContext } from './context.js';
import { SamplingChatModel } from './llm/sampling-chat-model.js';
import { addLogSink, log, registerSecret } from './log.js';
import { StdioTransport } from './transports/stdio.js';
import { registerPrompts } from './prompts/index.js';
import { registerDeliberationView } from './resources/deliberation-view.js';
import { registerPolicyResource } from './resources/policy-resource.js';
import { registerTools } from './tools/index.js';
import { VERSION } from './version.js';

const INSTRUCTIONS = `aidsafe-mcp creates policy-embedded chain-of-thought safety data with the AIDSAFE recipe (multi-agent deliberation).
Start with list_policies, then deliberate_safety_cot on a prompt; stored records are in list_records and get_record.`;

/**
 * One MCP server per client connection (stdio has one; HTTP one per session). Without a configured
 * model endpoint, this connection's models are the client's own, through MCP sampling.
 */
export function createServer(ctx: AppContext): McpServer {
  const server = new McpServer(
    { name: 'aidsafe-mcp', title: 'AIDSAFE safety-reasoning data', version: VERSION },
    { instructions: INSTRUCTIONS, capabilities: { logging: {} }, jsonSchemaValidator: new ValidatorOnFirstUse() },
  );
  // Log lines reach the client as logging notifications too (filtered by its logging/setLevel).
  const removeSink = addLogSink((level, data) => {
    if (server.isConnected()) void server.sendLoggingMessage({ level, logger: 'aidsafe-mcp', data }).catch(() => undefined);
  });
  const close = server.close.bind(server);
  server.close = async () => {
    removeSink();
    await close();
  };
  const models = ctx.config.endpointConfigured
    ? ctx.models
    : ctx.models.withFactory(() => new SamplingChatModel(server.server, { maxRepairs: ctx.config.maxRepairs, timeoutMs: ctx.config.requestTimeoutMs, modelHint: ctx.config.modelHint }));
  const connection: AppContext = { ...ctx, models, ...(ctx.config.endpointConfigured ? {} : { modelsFromClient: true }) };
  registerTools(server, connection);
  registerPolicyResource(server, connection);
  registerDeliberationView(server);
  registerPrompts(server, connection);
  return server;
}

/**
 * The SDK's JSON Schema validator (Ajv), made when first asked for: the SDK uses it only for
 * elicitation replies, and building it costs tens of milliseconds at every start and every HTTP session.
 */
class ValidatorOnFirstUse implements jsonSchemaValidator {
  private ajv: AjvJsonSchemaValidator | undefined;

  getValidator<T>(schema: JsonSchemaType): JsonSchemaValidator<T> {
    this.ajv ??= new AjvJsonSchemaValidator();
    return this.ajv.getValidator<T>(schema);
  }
}

/** Serves MCP over stdio until the client closes the pipe, or over Streamable HTTP when asked. */
export async function main(options: { http?: { host: string; port: number } } = {}): Promise<void> {
  process.on('unhandledRejection', (reason) => log('error', 'unhandled rejection', { reason: String(reason) }));
  const ctx = await createContext();
  if (options.http) {
    // Loaded only here: a stdio server answers `initialize` sooner without the HTTP stack.
    const { httpSessionLimits, startHttpServer } = await import('./transports/http.js');
    const token = process.env.AIDSAFE_HTTP_TOKEN || undefined;
    registerSecret(token);
    const split = (name: string) => (process.env[name] ?? '').split(',').map((s) => s.trim()).filter(Boolean);
    const http = await startHttpServer(ctx, { ...options.http, token, allowedOrigins: split('AIDSAFE_HTTP_ALLOWED_ORIGINS'), allowedHosts: split('AIDSAFE_HTTP_ALLOWED_HOSTS'), ...httpSessionLimits(process.env) });
    // Without this a signal would end the process mid-run, and batches started by HTTP clients would
    // stay `running` in their manifests with no stop reason; stopped here, they resume as over stdio.
    const endHttp = (why: string, code: number) => void endServing(ctx, http.close, why).finally(() => process.exit(code));
    process.once('SIGTERM', () => endHttp('SIGTERM', 143));
    process.once('SIGINT', () => endHttp('SIGINT', 130));
    log('info', `aidsafe-mcp ${VERSION} on ${http.url}${token ? ' (bearer token required)' : ''}`, { data_dir: ctx.config.dataDir });
    return;
  }
  const server = createServer(ctx);
  await server.connect(new StdioTransport());
  // The stdio transport does not notice end of input; without this, a batch (or a request stuck
  // on a hung model, through all its retries) would keep working for a client that is gone.
  const end = (why: string, code: number) => void endStdioSession(ctx, server, why).finally(() => process.exit(code));
  process.stdin.once('end', () => end('the client closed stdin', 0));
  process.once('SIGTERM', () => end('SIGTERM', 143));
  process.once('SIGINT', () => end('SIGINT', 130));
  // No policy count here: policies are read at first use, after `initialize` is answered.
  log('info', `aidsafe-mcp ${VERSION} on stdio`, { data_dir: ctx.config.dataDir });
}

/** How long a closing server waits for running batches to save their state before the process exits anyway. */
export const SHUTDOWN_GRACE_MS = 3_000;

/**
 * The stdio client is gone, and with it everything it asked for: running batches stop and are saved as
 * `interrupted` (the same start_batch resumes them), requests in flight are aborted, files are closed.
 * Resolves within SHUTDOWN_GRACE_MS even if something hangs.
 */
export async function endStdioSession(ctx: AppContext, server: McpServer, why: string): Promise<void> {
  await endServing(ctx, () => server.close(), why);
}

/**
 * Stops everything the server was doing, for stdio's one client or all of HTTP's: running batches are
 * saved as `interrupted`, `closeClients` closes the connections (aborting requests in flight), files
 * are closed. Resolves within SHUTDOWN_GRACE_MS even if something hangs.
 */
async function endServing(ctx: AppContext, closeClients: () => Promise<void>, why: string): Promise<void> {
  log('info', `${why}: stopping this server's work`);
  const running = [...ctx.batches.values()].filter((run) => run.snapshot().status === 'running');
  for (const run of running) run.interrupt(`interrupted: ${why}`);
  let timer: NodeJS.Timeout | undefined;
  const grace = new Promise<void>((resolve) => (timer = setTimeout(resolve, SHUTDOWN_GRACE_MS)));
  const cleanup = (async () => {
    await Promise.allSettled([...running.map((run) => run.start()), closeClients()]);
    await ctx.close();
  })();
  await Promise.race([cleanup.catch(() => undefined), grace]);
  clearTimeout(timer);
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
