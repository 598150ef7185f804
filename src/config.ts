import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { parseYaml } from './yaml.js';
import { defaultDataDir } from './paths.js';
import { parseToolSets } from './tool-sets.js';

/** Every model-backed role. Deliberation agents are configured separately, one entry per agent. */
export const ROLES = ['intents', 'initial_cot', 'deliberator', 'refiner', 'responder', 'whisperer', 'judge', 'grader'] as const;
export type Role = (typeof ROLES)[number];

/** What a deliberation agent looks for first: harm the reasoning misses, or over-refusal and missed help. */
export const FOCUSES = ['harm', 'helpfulness'] as const;
export type Focus = (typeof FOCUSES)[number];

const endpointSchema = z
  .object({
    model: z.string().min(1).optional().describe('Model name sent to the server.'),
    base_url: z
      .union([z.url(), z.array(z.url()).min(1).max(64)])
      .optional()
      .describe('OpenAI-compatible base URL, e.g. http://127.0.0.1:8000/v1; or a list of replicas serving the same model, which share the requests.'),
    api_key_env: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]*$/)
      .optional()
      .describe('Name of the environment variable that holds the API key (the key itself never goes in this file).'),
    temperature: z.number().min(0).max(2).optional(),
  })
  .strict();
export type EndpointConfig = z.infer<typeof endpointSchema>;

const agentSchema = endpointSchema
  .extend({
    focus: z
      .enum([...FOCUSES, 'none'])
      .optional()
      .describe('What this agent looks for first; default: agents alternate "harm" and "helpfulness" (a single agent has none).'),
  })
  .strict();
export type AgentConfig = z.infer<typeof agentSchema>;

const batchSettingsSchema = z
  .object({
    max_requests_per_file: z.number().int().min(1).max(50_000).optional().describe('Requests per batch file; default 50,000 (OpenAI\'s limit).'),
    max_bytes_per_file: z.number().int().min(1_000).max(200_000_000).optional().describe('Bytes per batch file; default 200,000,000 (OpenAI\'s limit).'),
    poll_ms: z.number().int().min(10).max(3_600_000).optional().describe('First wait before polling a batch; doubles up to max_poll_ms. Default 5,000.'),
    max_poll_ms: z.number().int().min(10).max(3_600_000).optional().describe('Longest wait between polls; default 60,000.'),
    quiet_ms: z.number().int().min(10).max(600_000).optional().describe('A wave is sent once every sample in flight waits on the model, or after this long without a new request; default 1,000.'),
    max_attempts: z.number().int().min(1).max(10).optional().describe('Times a request goes into a wave before its sample fails; default 3.'),
  })
  .strict();
export type BatchSettings = Required<z.infer<typeof batchSettingsSchema>>;

export const DEFAULT_BATCH_FACTOR = 0.5;

/** The file named by AIDSAFE_CONFIG (JSON or YAML). */
export const configFileSchema = z
  .object({
    default: endpointSchema.optional().describe('Settings for every role unless a role or agent overrides them.'),
    roles: z.partialRecord(z.enum(ROLES), endpointSchema).optional().describe('Per-role overrides.'),
    agents: z.array(agentSchema).max(8).optional().describe('Deliberation agent i uses entry i (cycling).'),
    max_prompt_chars: z.number().int().min(100).max(200_000).optional(),
    request_timeout_ms: z.number().int().min(1_000).max(600_000).optional().describe('One deadline per model request: connecting, headers and the whole reply body. Default 120,000.'),
    max_reply_bytes: z
      .number()
      .int()
      .min(65_536)
      .max(268_435_456)
      .optional()
      .describe('Largest reply body read from a model server; a longer one is cut off and counts as an invalid reply. Default 4,194,304 (4 MB).'),
    max_retries: z.number().int().min(0).max(20).optional(),
    max_repairs: z.number().int().min(0).max(5).optional(),
    prices: z
      .record(z.string(), z.object({ input: z.number().min(0), output: z.number().min(0), batch_factor: z.number().min(0).max(1).optional().describe('Batch price as a share of the online price; default 0.5.') }).strict())
      .optional()
      .describe('USD per million input and output tokens, by model name; enables max_cost and cost figures.'),
    batch: batchSettingsSchema.optional().describe('Batch mode (--batch-api, --batch-files): file limits, polling and retries.'),
  })
  .strict();
export type ConfigFile = z.infer<typeof configFileSchema>;

export interface ResolvedEndpoint {
  model: string;
  /** The server, or the first replica of a pool. */
  baseURL: string | undefined;
  /** Replicas of the same model (two or more) that share the requests: see llm/replica-pool.ts. */
  replicas?: string[];
  apiKeyEnv: string;
  temperature: number | undefined;
}

export interface Config {
  dataDir: string;
  policiesDirs: string[];
  defaults: EndpointConfig;
  roles: Partial<Record<Role, EndpointConfig>>;
  agents: AgentConfig[];
  maxPromptChars: number;
  requestTimeoutMs: number;
  maxReplyBytes: number;
  maxRetries: number;
  maxRepairs: number;
  prices: Record<string, { input: number; output: number; batch_factor?: number }>;
  batch: BatchSettings;
  /** Folders (besides the data folder and the working folder) that start_batch may read inputs from. */
  inputDirs: string[];
  /** False when neither OPENAI_BASE_URL, OPENAI_API_KEY nor AIDSAFE_CONFIG is set: models then come from the client (MCP sampling). */
  endpointConfigured: boolean;
  /** The model named by AIDSAFE_MODEL or the config file, if any: a hint for sampling clients. */
  modelHint: string | undefined;
  /** Where the default base URL came from, for error messages: "OPENAI_BASE_URL" or the config file's key. */
  baseUrlFrom?: string;
  /** The AIDSAFE_CONFIG file, if one was read. */
  configPath?: string;
  /**
   * AIDSAFE_EVAL_TARGETS: the base URLs a client may name as start_eval targets, each with the variable
   * holding its key if the operator gave one; undefined when unset (any URL, sent no key of ours).
   */
  evalTargets: EvalTargetRule[] | undefined;
  /** AIDSAFE_HTTP_TRUST_ROOTS=1: `serve --http` takes the roots a remote client declares as folders it may read. */
  httpTrustRoots: boolean;
  /** AIDSAFE_TOOLS: the tools the MCP server offers, from its tool sets; undefined: every tool. */
  tools: ReadonlySet<string> | undefined;
}

export interface EvalTargetRule {
  /** Normalised by evalBaseKey. */
  baseURL: string;
  apiKeyEnv?: string;
}

export const DEFAULT_MODEL = 'gpt-4o-mini';

/** A schema-shaped reply is a few KB; 4 MB leaves room for any real one and keeps a runaway reply's memory bounded. */
export const DEFAULT_MAX_REPLY_BYTES = 4 * 1024 * 1024;

export class ConfigError extends Error {
  override name = 'ConfigError';
}

function readConfigFile(path: string): ConfigFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`AIDSAFE_CONFIG: cannot read ${path}: ${(error as Error).message}`);
  }
  let data: unknown;
  try {
    data = /\.ya?ml$/i.test(path) ? parseYaml(text) : JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`AIDSAFE_CONFIG: ${path} is not valid ${/\.ya?ml$/i.test(path) ? 'YAML' : 'JSON'}: ${(error as Error).message}`);
  }
  if (typeof data === 'object' && data !== null && 'roles' in data && typeof data.roles === 'object' && data.roles !== null && 'rejected_cot' in data.roles) {
    throw new ConfigError(`AIDSAFE_CONFIG: ${path}: roles.rejected_cot is no longer a role: the rejected side of a preference pair is written by the initial_cot and responder models, so the two sides differ only in reasoning; remove the entry`);
  }
  const parsed = configFileSchema.safeParse(data ?? {});
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new ConfigError(`AIDSAFE_CONFIG: ${path} is invalid: ${problems}`);
  }
  return parsed.data;
}

/** Reads the environment and the optional config file once, at start. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const file = env.AIDSAFE_CONFIG ? readConfigFile(env.AIDSAFE_CONFIG) : {};
  const defaults: EndpointConfig = {
    model: env.AIDSAFE_MODEL || undefined,
    base_url: env.OPENAI_BASE_URL || undefined,
    ...stripUndefined(file.default ?? {}),
  };
  const envAgents = (env.AIDSAFE_AGENT_MODELS ?? '')
    .split(',')
    .map((m) => m.trim())
    .filter(Boolean)
    .map((model) => ({ model }));
  return {
    dataDir: defaultDataDir(env),
    policiesDirs: (env.AIDSAFE_POLICIES_DIR ?? '').split(':').filter(Boolean),
    defaults,
    roles: file.roles ?? {},
    agents: file.agents && file.agents.length > 0 ? file.agents : envAgents,
    maxPromptChars: file.max_prompt_chars ?? 20_000,
    requestTimeoutMs: file.request_timeout_ms ?? 120_000,
    maxReplyBytes: file.max_reply_bytes ?? DEFAULT_MAX_REPLY_BYTES,
    maxRetries: file.max_retries ?? 6,
    maxRepairs: file.max_repairs ?? 2,
    prices: file.prices ?? {},
    batch: { max_requests_per_file: 50_000, max_bytes_per_file: 200_000_000, poll_ms: 5_000, max_poll_ms: 60_000, quiet_ms: 1_000, max_attempts: 3, ...stripUndefined(file.batch ?? {}) },
    inputDirs: (env.AIDSAFE_INPUT_DIRS ?? '').split(':').filter(Boolean),
    endpointConfigured: Boolean(env.OPENAI_BASE_URL || env.OPENAI_API_KEY || env.AIDSAFE_CONFIG),
    modelHint: defaults.model,
    ...(file.default?.base_url !== undefined ? { baseUrlFrom: 'default.base_url' } : env.OPENAI_BASE_URL ? { baseUrlFrom: 'OPENAI_BASE_URL' } : {}),
    ...(env.AIDSAFE_CONFIG ? { configPath: env.AIDSAFE_CONFIG } : {}),
    evalTargets: parseEvalTargets(env.AIDSAFE_EVAL_TARGETS),
    httpTrustRoots: parseSwitch('AIDSAFE_HTTP_TRUST_ROOTS', env.AIDSAFE_HTTP_TRUST_ROOTS),
    tools: parseToolSets(env.AIDSAFE_TOOLS, (message) => new ConfigError(message)),
  };
}

/** A variable that turns something on: 1 or 0 (unset or empty: 0). */
function parseSwitch(name: string, value: string | undefined): boolean {
  if (value === undefined || value === '' || value === '0') return false;
  if (value === '1') return true;
  throw new ConfigError(`${name} must be 1 (on) or 0 (off, the default); got "${value}"`);
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * A base URL as eval target rules compare it: scheme, host and port as the URL parser writes them, the
 * path without trailing slashes. Undefined for what is not a plain http(s) base URL (a user name,
 * password, query or fragment in it), which no rule matches.
 */
export function evalBaseKey(url: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return undefined;
  }
  if (!/^https?:$/.test(parsed.protocol) || parsed.username || parsed.password || parsed.search || parsed.hash) return undefined;
  return `${parsed.protocol}//${parsed.host}${parsed.pathname.replace(/\/+$/, '')}`;
}

/** `URL[=KEY_VARIABLE],…` or `none`; unset or empty means no list. */
function parseEvalTargets(value: string | undefined): EvalTargetRule[] | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  if (value.trim() === 'none') return [];
  return value
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean)
    .map((entry) => {
      const eq = entry.lastIndexOf('=');
      const keyVar = eq > 0 ? entry.slice(eq + 1) : undefined;
      const url = keyVar !== undefined ? entry.slice(0, eq) : entry;
      const baseURL = evalBaseKey(url);
      if (!baseURL || (keyVar !== undefined && !ENV_NAME.test(keyVar))) {
        throw new ConfigError(
          `AIDSAFE_EVAL_TARGETS: "${entry}" is not an http(s) base URL optionally followed by =KEY_VARIABLE; give a comma-separated list such as http://127.0.0.1:8000/v1,https://api.together.xyz/v1=TOGETHER_API_KEY, or none`,
        );
      }
      return keyVar ? { baseURL, apiKeyEnv: keyVar } : { baseURL };
    });
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function resolve(...layers: (EndpointConfig | undefined)[]): ResolvedEndpoint {
  const merged: EndpointConfig = {};
  for (const layer of layers) if (layer) Object.assign(merged, stripUndefined(layer));
  const urls = merged.base_url === undefined ? [] : typeof merged.base_url === 'string' ? [merged.base_url] : merged.base_url;
  return {
    model: merged.model ?? DEFAULT_MODEL,
    baseURL: urls[0],
    ...(urls.length > 1 ? { replicas: urls } : {}),
    apiKeyEnv: merged.api_key_env ?? 'OPENAI_API_KEY',
    temperature: merged.temperature,
  };
}

/** The endpoint of a role; for the deliberator, of agent `agentIndex` (0-based), cycling over the agent list. */
export function endpointFor(config: Config, role: Role, agentIndex?: number): ResolvedEndpoint {
  const agent = role === 'deliberator' && agentIndex !== undefined && config.agents.length > 0 ? config.agents[agentIndex % config.agents.length] : undefined;
  return resolve(config.defaults, config.roles[role], agent);
}

/**
 * The focus of deliberation agent `agentIndex` (0-based) of `agents`: the config file's, else "harm"
 * and "helpfulness" alternating; a lone agent has none unless the config gives it one.
 */
export function agentFocus(config: Config, agentIndex: number, agents: number): Focus | undefined {
  const configured = config.agents.length > 0 ? config.agents[agentIndex % config.agents.length]?.focus : undefined;
  if (configured !== undefined) return configured === 'none' ? undefined : configured;
  if (agents < 2) return undefined;
  return FOCUSES[agentIndex % FOCUSES.length];
}
