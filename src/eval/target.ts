import { createHash } from 'node:crypto';
import OpenAI, { APIConnectionError } from 'openai';
import { DEFAULT_MAX_REPLY_BYTES, endpointFor, evalBaseKey, ROLES, type Config, type Role } from '../config.js';
import { InputError } from '../errors.js';
import { boundedFetch, ReplyTooLargeError } from '../llm/bounded-fetch.js';
import { ModelError, type TokenUsage } from '../llm/chat-model.js';
import { notACompletion } from '../llm/openai-chat-model.js';
import type { RequestCache } from '../llm/request-cache.js';
import { classify, defaultRetryPolicy, delayFor, sleep } from '../llm/retry.js';
import { registerSecret } from '../log.js';
import { splitThinking, type SplitReply } from './thinking.js';

/** A model under evaluation: any OpenAI-compatible chat endpoint and model, or a configured role's. */
export interface TargetSpec {
  /** How reports name it: unique within one evaluation. */
  label: string;
  model: string;
  baseURL: string | undefined;
  /** The variable holding the key sent to the target; undefined: no Authorization header at all. */
  apiKeyEnv: string | undefined;
  temperature: number;
  /** Set when the target was named by a role of the configuration. */
  role?: Role;
  /**
   * A URL target's base URL, normalised (scheme, host, port and path, no trailing slash): the same
   * model name under another path or server may be another model, so it enters the target's run ids
   * and the keys of its cached replies. A role's target leaves it out, as run ids leave out the
   * configured servers' addresses.
   */
  address?: string;
}

/**
 * Who named the targets. A client of the MCP server may be anyone holding the HTTP token, or an agent
 * steered by the text it reads, so its URLs get no key of ours unless the operator tied one to them.
 * The operator (the CLI user) chose the URL themself.
 */
export type TargetsFrom = 'client' | 'operator';

/**
 * `--target URL --model M`, or `--target ROLE [--model M]` (a role of the configuration, with its
 * server, key variable and model). Greedy decoding unless the role sets a temperature, so a repeated
 * evaluation asks the same questions and can be answered from the cache.
 *
 * The key a URL target is sent: the variable AIDSAFE_EVAL_TARGETS names for that base URL, else the
 * key variable of the first configured endpoint (role, then agent) at that base URL, else — for the
 * operator only — OPENAI_API_KEY. A client's URL must be in AIDSAFE_EVAL_TARGETS when it is set.
 */
export function resolveTarget(config: Config, target: string, model: string | undefined, from: TargetsFrom): TargetSpec {
  if (/^https?:\/\//i.test(target)) {
    let url: URL;
    try {
      url = new URL(target);
    } catch {
      throw new InputError(`target: "${target}" is not a valid URL`);
    }
    const base = evalBaseKey(target);
    if (!base) throw new InputError(`target: "${target}" must be a plain base URL such as http://127.0.0.1:8000/v1 (no user name, password, query or fragment)`);
    if (!model) throw new InputError(`model: the target ${target} needs a model name (--model NAME, or "model" in the tool call)`);
    const rule = config.evalTargets?.find((r) => r.baseURL === base);
    if (from === 'client' && config.evalTargets && !rule) {
      const allowed = config.evalTargets.length ? `only ${config.evalTargets.map((r) => r.baseURL).join(', ')}` : 'no URL targets';
      throw new InputError(`target: ${target} is not an evaluation target this server allows (AIDSAFE_EVAL_TARGETS allows ${allowed}); name a configured role instead (${ROLES.join(', ')})`);
    }
    const apiKeyEnv = rule?.apiKeyEnv ?? configuredKeyFor(config, base) ?? (from === 'operator' ? 'OPENAI_API_KEY' : undefined);
    return { label: `${model} @ ${url.host}`, model, baseURL: target.replace(/\/+$/, ''), apiKeyEnv, temperature: 0, address: base };
  }
  if ((ROLES as readonly string[]).includes(target)) {
    const endpoint = endpointFor(config, target as Role);
    const chosen = model ?? endpoint.model;
    return { label: `${chosen} (${target})`, model: chosen, baseURL: endpoint.baseURL, apiKeyEnv: endpoint.apiKeyEnv, temperature: endpoint.temperature ?? 0, role: target as Role };
  }
  throw new InputError(`target: "${target}" is neither an http(s) URL of an OpenAI-compatible server nor a configured role (${ROLES.join(', ')})`);
}

const DEFAULT_API_URL = 'https://api.openai.com/v1';

/** The key variable of the first configured endpoint (a role's, then each agent's, replicas included) served at `base`. */
function configuredKeyFor(config: Config, base: string): string | undefined {
  const endpoints = [...ROLES.map((role) => endpointFor(config, role)), ...config.agents.map((_, i) => endpointFor(config, 'deliberator', i))];
  for (const endpoint of endpoints) {
    const urls = endpoint.replicas ?? [endpoint.baseURL ?? DEFAULT_API_URL];
    if (urls.some((u) => evalBaseKey(u) === base)) return endpoint.apiKeyEnv;
  }
  return undefined;
}

/** Gives every target a distinct label (two targets with the same model on different servers). */
export function uniqueLabels(targets: TargetSpec[]): TargetSpec[] {
  const seen = new Map<string, number>();
  return targets.map((t) => {
    const n = (seen.get(t.label) ?? 0) + 1;
    seen.set(t.label, n);
    return n === 1 ? t : { ...t, label: `${t.label} #${n}` };
  });
}

export interface TargetReply extends SplitReply {
  model: string;
  usage: TokenUsage;
  calls: number;
  cached: boolean;
}

/**
 * Sends a benchmark prompt to a target as the only message, as a user of that model would: no
 * system prompt, no policies, no output format. Replies are kept in the request cache, so a resumed
 * evaluation asks no prompt twice.
 */
export class TargetClient {
  private readonly client: OpenAI;

  constructor(
    readonly spec: TargetSpec,
    private readonly options: { timeoutMs: number; maxRetries: number; maxReplyBytes?: number; cache?: RequestCache; env?: NodeJS.ProcessEnv },
  ) {
    const apiKey = spec.apiKeyEnv === undefined ? undefined : (options.env ?? process.env)[spec.apiKeyEnv];
    registerSecret(apiKey);
    const unkeyed = spec.apiKeyEnv === undefined;
    this.client = new OpenAI({
      apiKey: apiKey || 'unused',
      baseURL: spec.baseURL ?? DEFAULT_API_URL,
      maxRetries: 0,
      timeout: options.timeoutMs,
      // A target may be any server a client names: one deadline covers its whole reply, and the body is capped.
      fetch: boundedFetch({ timeoutMs: options.timeoutMs, maxBytes: options.maxReplyBytes ?? DEFAULT_MAX_REPLY_BYTES }),
      // A target with no key of ours gets no Authorization header, and none of the client's
      // environment defaults (OPENAI_ORG_ID, OPENAI_PROJECT_ID, OPENAI_ADMIN_KEY) either.
      ...(unkeyed ? { defaultHeaders: { Authorization: null }, organization: null, project: null, adminAPIKey: null } : {}),
    });
  }

  /** Where the target is served, for error messages. */
  get address(): string {
    return this.spec.baseURL ?? DEFAULT_API_URL;
  }

  /**
   * Fails fast, with the address, when nothing answers there: a wrong port or a server that is not up
   * would otherwise cost every sample its full round of retries.
   */
  async checkReachable(signal?: AbortSignal): Promise<void> {
    try {
      await this.client.models.list({ signal, timeout: Math.min(this.options.timeoutMs, 15_000) });
    } catch (error) {
      // Any HTTP answer (404 from a server without /models, 401) means something is listening.
      if (error instanceof APIConnectionError) {
        // The system's reason (ECONNREFUSED, ENOTFOUND) sits a few causes down, under fetch's own error.
        let cause: unknown = error;
        let reason = error.message;
        for (let depth = 0; cause && depth < 5; depth++, cause = (cause as { cause?: unknown }).cause) {
          const { code, message } = cause as { code?: unknown; message?: unknown };
          if (typeof code === 'string') reason = code;
          else if (depth > 0 && typeof message === 'string' && message) reason = message;
        }
        throw new InputError(`target: cannot reach ${this.address} for ${this.spec.label} (${reason}); is the model server running and the URL right (it usually ends in /v1)?`);
      }
    }
  }

  async ask(prompt: string, signal?: AbortSignal): Promise<TargetReply> {
    const messages = [{ role: 'user' as const, content: prompt }];
    const key = createHash('sha256')
      .update(JSON.stringify({ target: true, model: this.spec.model, temperature: this.spec.temperature, ...(this.spec.address ? { address: this.spec.address } : {}), messages }))
      .digest('hex');
    const hit = await this.options.cache?.get(key);
    const cachedValue = hit?.value as { content?: unknown; reasoning?: unknown } | undefined;
    if (hit && typeof cachedValue?.content === 'string') {
      return { ...splitThinking(cachedValue.content, typeof cachedValue.reasoning === 'string' ? cachedValue.reasoning : undefined), model: hit.model, usage: { prompt_tokens: 0, completion_tokens: 0 }, calls: 0, cached: true };
    }
    const { content, reasoning, model, usage } = await this.send(messages, signal);
    await this.options.cache?.put(key, { value: { content, ...(reasoning ? { reasoning } : {}) }, model, usage });
    return { ...splitThinking(content, reasoning), model, usage, calls: 1, cached: false };
  }

  private async send(messages: { role: 'user'; content: string }[], signal?: AbortSignal): Promise<{ content: string; reasoning?: string; model: string; usage: TokenUsage }> {
    const policy = { ...defaultRetryPolicy, maxRetries: this.options.maxRetries };
    for (let attempt = 0; ; attempt++) {
      if (signal?.aborted) throw this.error('cancelled', attempt, 'the request was cancelled');
      try {
        const { data: completion, response } = await this.client.chat.completions.create({ model: this.spec.model, messages, temperature: this.spec.temperature }, { signal }).withResponse();
        // A web page or banner at the target's URL is no answer of the model's: scored as an empty reply, it would count as one.
        const notCompletion = notACompletion(completion, response.headers.get('content-type'), `${this.address.replace(/\/+$/, '')}/chat/completions`, 'the target URL (it usually ends in /v1, and /chat/completions is added to it)');
        if (notCompletion) throw this.error('http', attempt + 1, notCompletion, response.status);
        const message = completion.choices?.[0]?.message as (OpenAI.Chat.Completions.ChatCompletionMessage & { reasoning_content?: unknown; reasoning?: unknown }) | undefined;
        // vLLM and DeepSeek name the separate reasoning field reasoning_content; some gateways call it reasoning.
        const reasoning = [message?.reasoning_content, message?.reasoning].find((r): r is string => typeof r === 'string' && r.trim() !== '');
        return {
          content: message?.content ?? message?.refusal ?? '',
          ...(reasoning ? { reasoning } : {}),
          model: this.spec.model,
          usage: { prompt_tokens: completion.usage?.prompt_tokens ?? 0, completion_tokens: completion.usage?.completion_tokens ?? 0 },
        };
      } catch (error) {
        if (error instanceof ModelError) throw error;
        // A reply cut off at the cap is retried like a server error: the next sample of it may be shorter.
        const kind = error instanceof ReplyTooLargeError ? 'server' : classify(error);
        if (kind === 'cancelled' || signal?.aborted) throw this.error('cancelled', attempt + 1, 'the request was cancelled');
        if (kind === 'fatal' || attempt >= policy.maxRetries) {
          const status = (error as { status?: number }).status;
          throw this.error(kind === 'timeout' ? 'timeout' : kind === 'network' ? 'network' : 'http', attempt + 1, `${this.address}: ${error instanceof Error ? error.message : String(error)}`, status);
        }
        try {
          await sleep(delayFor(error, attempt, policy), signal);
        } catch {
          throw this.error('cancelled', attempt + 1, 'the request was cancelled');
        }
      }
    }
  }

  // The target is no configured role; errors name it by its label, under the judge's type so the engine treats them alike.
  private error(kind: ModelError['kind'], attempts: number, message: string, status?: number): ModelError {
    return new ModelError(kind, 'target' as Role, this.spec.label, attempts, message, undefined, status);
  }
}
