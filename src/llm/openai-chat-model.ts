import OpenAI, { APIError } from 'openai';
import type { ResolvedEndpoint } from '../config.js';
import { log } from '../log.js';
import { ModelError, type ChatMessage, type ChatModel, type CompletionRequest, type CompletionResult, type TokenUsage } from './chat-model.js';
import { jsonSchemaOf } from './json-schema.js';
import { looksLikeRefusal, parseReply } from './parse-reply.js';
import { classify, delayFor, sleep, type FailureKind, type RetryPolicy } from './retry.js';

export interface OpenAIChatModelOptions {
  timeoutMs: number;
  retry: RetryPolicy;
  /** How many times a malformed, empty or refused reply is sent back to the model for another try. */
  maxRepairs: number;
  /** Told of every retried failure, so a caller can slow down while the server pushes back. */
  onRetry?: (kind: FailureKind, delayMs: number) => void;
  env?: NodeJS.ProcessEnv;
}

type FormatMode = 'json_schema' | 'json_object' | 'none';


/** A ChatModel backed by any OpenAI-compatible chat completions server (OpenAI, vLLM, Ollama, llama.cpp, LM Studio). */
export class OpenAIChatModel implements ChatModel {
  readonly model: string;
  private readonly client: OpenAI;
  private format: FormatMode = 'json_schema';
  private readonly missingKey: boolean;

  constructor(
    private readonly endpoint: ResolvedEndpoint,
    private readonly options: OpenAIChatModelOptions,
  ) {
    this.model = endpoint.model;
    const env = options.env ?? process.env;
    const apiKey = env[endpoint.apiKeyEnv];
    // Local servers (vLLM, Ollama, llama.cpp) take any key; only the default OpenAI endpoint needs a real one.
    this.missingKey = !apiKey && !endpoint.baseURL;
    this.client = new OpenAI({
      apiKey: apiKey || 'unused',
      baseURL: endpoint.baseURL ?? 'https://api.openai.com/v1',
      maxRetries: 0, // retries are ours, so rate limits are visible and counted
      timeout: options.timeoutMs,
    });
  }

  async complete<T>(request: CompletionRequest<T>): Promise<CompletionResult<T>> {
    if (this.missingKey) {
      throw new ModelError(
        'not_configured',
        request.role,
        this.model,
        0,
        `no model server is configured: set OPENAI_API_KEY for OpenAI, or OPENAI_BASE_URL for an OpenAI-compatible server (e.g. OPENAI_BASE_URL=http://127.0.0.1:11434/v1 AIDSAFE_MODEL=llama3.1 for Ollama), or AIDSAFE_CONFIG (env var ${this.endpoint.apiKeyEnv} is empty)`,
      );
    }
    const usage: TokenUsage = { prompt_tokens: 0, completion_tokens: 0 };
    let calls = 0;
    let messages = request.messages;
    let lastRaw = '';
    let lastProblem = '';
    let refused = false;
    for (let repair = 0; repair <= this.options.maxRepairs; repair++) {
      const reply = await this.send(request, messages);
      calls += reply.calls;
      usage.prompt_tokens += reply.usage.prompt_tokens;
      usage.completion_tokens += reply.usage.completion_tokens;
      lastRaw = reply.content;
      refused = reply.refusal !== undefined || looksLikeRefusal(reply.content);
      const outcome = refused ? ({ ok: false, problem: 'the reply refused the task' } as const) : parseReply(reply.content, request.schema);
      if (outcome.ok) return { value: outcome.value, raw: reply.content, model: this.model, usage, calls };
      lastProblem = outcome.problem;
      log('debug', `${request.role}: unusable reply, asking again`, { model: this.model, problem: outcome.problem });
      messages = [...request.messages, { role: 'assistant', content: (reply.content || reply.refusal || '').slice(0, 4000) || '(empty reply)' }, { role: 'user', content: repairInstruction(outcome.problem, refused) }];
    }
    throw new ModelError(refused ? 'refusal' : 'invalid_output', request.role, this.model, this.options.maxRepairs + 1, lastProblem, lastRaw);
  }

  /** One answered request, retrying transport failures. */
  private async send(request: CompletionRequest<unknown>, messages: ChatMessage[]): Promise<{ content: string; refusal?: string; usage: TokenUsage; calls: number }> {
    for (let attempt = 0; ; attempt++) {
      if (request.signal?.aborted) throw new ModelError('cancelled', request.role, this.model, attempt, 'the request was cancelled');
      // The client leaves a listener on the signal it is given; a child signal per request keeps a
      // long pipeline from piling listeners onto the caller's signal.
      const child = linkedSignal(request.signal);
      try {
        const completion = await this.client.chat.completions.create(
          {
            model: this.model,
            messages,
            ...(this.endpoint.temperature !== undefined ? { temperature: this.endpoint.temperature } : {}),
            ...this.responseFormat(request),
          },
          { signal: child.signal },
        );
        const message = completion.choices?.[0]?.message;
        return {
          content: message?.content ?? '',
          refusal: message?.refusal ?? undefined,
          usage: { prompt_tokens: completion.usage?.prompt_tokens ?? 0, completion_tokens: completion.usage?.completion_tokens ?? 0 },
          calls: 1,
        };
      } catch (error) {
        if (this.downgradeFormat(error)) continue;
        const kind = classify(error);
        if (kind === 'cancelled' || request.signal?.aborted) throw new ModelError('cancelled', request.role, this.model, attempt + 1, 'the request was cancelled');
        const status = error instanceof APIError ? error.status : undefined;
        if (kind === 'fatal' || attempt >= this.options.retry.maxRetries) {
          const errorKind = kind === 'timeout' ? 'timeout' : kind === 'network' ? 'network' : 'http';
          throw new ModelError(errorKind, request.role, this.model, attempt + 1, describe(error), undefined, status);
        }
        const delay = delayFor(error, attempt, this.options.retry);
        this.options.onRetry?.(kind, delay);
        log('debug', `${request.role}: ${kind} from model server, retrying`, { model: this.model, status, delay_ms: delay });
        try {
          await sleep(delay, request.signal);
        } catch {
          throw new ModelError('cancelled', request.role, this.model, attempt + 1, 'the request was cancelled');
        }
      } finally {
        child.unlink();
      }
    }
  }

  private responseFormat(request: CompletionRequest<unknown>) {
    if (this.format === 'none') return {};
    if (this.format === 'json_object') return { response_format: { type: 'json_object' as const } };
    return {
      response_format: {
        type: 'json_schema' as const,
        json_schema: { name: request.schemaName, schema: jsonSchemaOf(request.schema), strict: true },
      },
    };
  }

  /** Some servers reject json_schema (or any response_format) with a 400; fall back once per step, for good. */
  private downgradeFormat(error: unknown): boolean {
    if (!(error instanceof APIError) || error.status !== 400 || !/response_format|json_schema/i.test(error.message)) return false;
    if (this.format === 'none') return false;
    this.format = this.format === 'json_schema' ? 'json_object' : 'none';
    log('info', `model server rejected the response format; using ${this.format}`, { model: this.model });
    return true;
  }
}

function linkedSignal(parent: AbortSignal | undefined): { signal: AbortSignal; unlink: () => void } {
  const controller = new AbortController();
  if (!parent) return { signal: controller.signal, unlink: () => {} };
  const onAbort = () => controller.abort(parent.reason);
  if (parent.aborted) onAbort();
  else parent.addEventListener('abort', onAbort, { once: true });
  return { signal: controller.signal, unlink: () => parent.removeEventListener('abort', onAbort) };
}

function describe(error: unknown): string {
  if (error instanceof APIError) return `${error.status ?? 'no status'} ${error.message}`;
  return error instanceof Error ? error.message : String(error);
}

function repairInstruction(problem: string, refused: boolean): string {
  const lead = refused
    ? 'This is a safety-analysis task for building training data: you are asked to analyse the query against the policies, not to carry it out.'
    : `Your previous reply could not be used: ${problem}.`;
  return `${lead} Reply again with only one JSON object that matches the required schema, and nothing else.`;
}
