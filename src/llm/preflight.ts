import { endpointFor, type Config, type Role } from '../config.js';
import type { AppContext } from '../context.js';
import { InputError } from '../errors.js';
import { log, redact, registerSecret } from '../log.js';
import { ENDPOINT_HELP } from './repair-loop.js';

const OPENAI_URL = 'https://api.openai.com/v1';
/** Long enough for a cold server to answer one request, short enough that a wrong address fails in seconds. */
export const PREFLIGHT_TIMEOUT_MS = 10_000;

/** A role a run will call, and for a deliberation agent its 0-based index. */
export interface RoleUse {
  role: Role;
  agentIndex?: number;
}

/** The roles a run of the given recipe calls. */
export function rolesOfRun(request: { recipe?: 'aidsafe' | 'baseline' | 'grading'; grade?: boolean; preference?: boolean; agents?: number }): RoleUse[] {
  const recipe = request.recipe ?? 'aidsafe';
  if (recipe === 'grading') return [{ role: 'grader' }];
  const uses: RoleUse[] =
    recipe === 'baseline'
      ? [{ role: 'initial_cot' }]
      : [{ role: 'intents' }, { role: 'initial_cot' }, ...Array.from({ length: request.agents ?? 2 }, (_, i) => ({ role: 'deliberator' as const, agentIndex: i })), { role: 'refiner' }, { role: 'responder' }];
  if (request.preference) uses.push({ role: 'whisperer' }, { role: 'judge' }, { role: 'grader' });
  if (request.grade) uses.push({ role: 'grader' });
  return uses;
}

/** One server to check: its URL, the model asked of it, the key variable, and what set the URL. */
export interface Server {
  url: string;
  model: string;
  apiKeyEnv: string;
  setBy: string;
  roles: string[];
  /** For a replica: the pool's URLs. A pool routes around a dead replica, so it fails only when none answers. */
  pool?: string;
}

/** The distinct servers (URL and key variable) behind the roles, each replica of a pool on its own. */
export function serversOf(config: Config, uses: readonly RoleUse[]): Server[] {
  const servers = new Map<string, Server>();
  for (const use of uses) {
    const endpoint = endpointFor(config, use.role, use.agentIndex);
    const setBy = urlSource(config, use);
    for (const url of endpoint.replicas ?? [endpoint.baseURL ?? OPENAI_URL]) {
      const key = `${url.replace(/\/+$/, '')}\n${endpoint.apiKeyEnv}`;
      const name = use.agentIndex === undefined ? use.role : `${use.role} ${use.agentIndex + 1}`;
      const known = servers.get(key);
      if (known) {
        if (!known.roles.includes(name)) known.roles.push(name);
      } else servers.set(key, { url: url.replace(/\/+$/, ''), model: endpoint.model, apiKeyEnv: endpoint.apiKeyEnv, setBy, roles: [name], ...(endpoint.replicas ? { pool: endpoint.replicas.join(' ') } : {}) });
    }
  }
  return [...servers.values()];
}

/** The variable or config key that set a role's base URL. */
function urlSource(config: Config, use: RoleUse): string {
  const file = config.configPath ? ` in ${config.configPath}` : ' in the AIDSAFE_CONFIG file';
  const agents = config.agents;
  if (use.role === 'deliberator' && use.agentIndex !== undefined && agents.length > 0) {
    const i = use.agentIndex % agents.length;
    if (agents[i]?.base_url !== undefined) return `agents[${i}].base_url${file}`;
  }
  if (config.roles[use.role]?.base_url !== undefined) return `roles.${use.role}.base_url${file}`;
  if (config.baseUrlFrom === 'default.base_url') return `default.base_url${file}`;
  if (config.baseUrlFrom) return config.baseUrlFrom;
  return `the default, as OPENAI_BASE_URL is not set`;
}

/**
 * Checks, before a run is created, that every server the run will call answers: one models list per
 * distinct server (a one-token chat call where the server has no /models). A wrong port, host or path
 * fails here in seconds, naming the URL, what set it and the server's answer, instead of after every
 * sample's retries. Throws an InputError (field `endpoint`); answers the run would retry (429, 5xx) pass.
 * An MCP connection whose models are the client's own (sampling) has no server to check; anywhere else
 * (the CLI) no configured server at all is an error that says what to set.
 */
export async function preflight(ctx: Pick<AppContext, 'config' | 'modelsFromClient'>, uses: readonly RoleUse[], options: { env?: NodeJS.ProcessEnv; timeoutMs?: number; signal?: AbortSignal } = {}): Promise<void> {
  if (ctx.modelsFromClient) return;
  const config = ctx.config;
  if (!config.endpointConfigured) throw new InputError(`endpoint: no model server is configured: ${ENDPOINT_HELP}`);
  const env = options.env ?? process.env;
  const timeoutMs = options.timeoutMs ?? PREFLIGHT_TIMEOUT_MS;
  const servers = serversOf(config, uses);
  const results = await Promise.all(servers.map((server) => check(server, env, timeoutMs, options.signal)));
  const answered = new Set(servers.filter((server, i) => results[i] === undefined && server.pool).map((server) => server.pool));
  const problems: string[] = [];
  servers.forEach((server, i) => {
    const problem = results[i];
    if (problem === undefined) return;
    if (server.pool && answered.has(server.pool)) log('warning', `${problem} (the pool's other replicas answer)`);
    else problems.push(problem);
  });
  if (problems.length > 0) throw new InputError(problems.join('\n'));
}

async function check(server: Server, env: NodeJS.ProcessEnv, timeoutMs: number, signal?: AbortSignal): Promise<string | undefined> {
  const key = env[server.apiKeyEnv];
  registerSecret(key);
  const who = `${server.roles.join(', ')} (model ${server.model})`;
  if (!key && server.url === OPENAI_URL && server.setBy.startsWith('the default')) return `endpoint: no model server is configured for ${who}: ${ENDPOINT_HELP}`;
  const headers: Record<string, string> = { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) };
  const ask = async (path: string, init: RequestInit): Promise<{ status: number; body: string } | { error: string }> => {
    try {
      const response = await fetch(`${server.url}${path}`, { ...init, headers, signal: AbortSignal.any([AbortSignal.timeout(timeoutMs), ...(signal ? [signal] : [])]) });
      return { status: response.status, body: (await response.text()).slice(0, 300) };
    } catch (error) {
      return { error: reason(error, timeoutMs) };
    }
  };
  const where = `${server.url} (set by ${server.setBy})`;
  let answer = await ask('/models', { method: 'GET' });
  if ('error' in answer) return `endpoint: cannot reach ${where} for ${who}: ${answer.error}; is the model server running and the URL right (it usually ends in /v1)?`;
  // Some servers serve chat completions without a models list: one token of a chat call decides.
  if (answer.status === 404 || answer.status === 405) {
    answer = await ask('/chat/completions', { method: 'POST', body: JSON.stringify({ model: server.model, messages: [{ role: 'user', content: 'ping' }], max_tokens: 1 }) });
    if ('error' in answer) return `endpoint: cannot reach ${where} for ${who}: ${answer.error}`;
    if (answer.status === 404 || answer.status === 405) return `endpoint: ${where} answers ${answer.status} to ${server.url}/models and ${server.url}/chat/completions (${said(answer.body)}); the path looks wrong: an OpenAI-compatible base URL usually ends in /v1`;
  }
  if (answer.status === 401 || answer.status === 403) return `endpoint: ${where} refused the key in ${server.apiKeyEnv}${key ? '' : ' (it is not set)'} for ${who}: ${answer.status} ${said(answer.body)}`;
  return undefined;
}

/** The server's answer as a short line, with any key it echoes masked. */
function said(body: string): string {
  let text = body;
  try {
    const parsed = JSON.parse(body) as { error?: { message?: unknown } | string; message?: unknown };
    const message = typeof parsed.error === 'string' ? parsed.error : (parsed.error?.message ?? parsed.message);
    if (typeof message === 'string') text = message;
  } catch {
    // not JSON: the text as it is
  }
  text = text.replace(/\s+/g, ' ').trim();
  return redact(text ? `"${text.slice(0, 200)}"` : 'no body');
}

/** The system's reason (ECONNREFUSED, ENOTFOUND, a timeout) from under fetch's own "fetch failed". */
function reason(error: unknown, timeoutMs: number): string {
  if ((error as { name?: string }).name === 'TimeoutError') return `no answer within ${timeoutMs / 1000} s`;
  let cause: unknown = error;
  let found = (error as Error).message;
  for (let depth = 0; cause && depth < 5; depth++, cause = (cause as { cause?: unknown }).cause) {
    const { code, message } = cause as { code?: unknown; message?: unknown };
    if (typeof code === 'string') return code;
    // undici never connects to ports the Fetch standard blocks (1, 7, 9, 11, …): a port no model server uses.
    if (message === 'bad port') return 'a port fetch refuses to connect to (no model server listens there)';
    if (depth > 0 && typeof message === 'string' && message) found = message;
  }
  return found;
}
