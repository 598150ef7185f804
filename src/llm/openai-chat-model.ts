import OpenAI, { APIError } from 'openai';
import { DEFAULT_MAX_REPLY_BYTES, type ResolvedEndpoint } from '../config.js';
import { log, registerSecret } from '../log.js';
import { boundedFetch, ReplyTooLargeError } from './bounded-fetch.js';
import { ModelError, type ChatMessage, type ChatModel, type CompletionRequest, type CompletionResult } from './chat-model.js';
import { strictSchemaOf } from './json-schema.js';
import { completeWithRepairs, NOT_CONFIGURED_HELP, type RawReply } from './repair-loop.js';
import { classify, delayFor, sleep, type FailureKind, type RetryPolicy } from './retry.js';

export interface OpenAIChatModelOptions {
  /** One deadline for each HTTP request: connecting, headers and the whole body. */
  timeoutMs: number;
  /** A reply body longer than this is cut off while it streams and repaired like a malformed reply; default 4 MB. */
  maxReplyBytes?: number;
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
  /** The response format each output schema is sent with; lowered per schema when the server rejects one. */
  private readonly formats = new Map<string, FormatMode>();
  private readonly missingKey: boolean;

  constructor(
    private readonly endpoint: ResolvedEndpoint,
    private readonly options: OpenAIChatModelOptions,
  ) {
    this.model = endpoint.model;
    const env = options.env ?? process.env;
    const apiKey = env[endpoint.apiKeyEnv];
    registerSecret(apiKey);
    // Local servers (vLLM, Ollama, llama.cpp) take any key; only the default OpenAI endpoint needs a real one.
    this.missingKey = !apiKey && !endpoint.baseURL;
    this.client = new OpenAI({
      apiKey: apiKey || 'unused',
      baseURL: endpoint.baseURL ?? 'https://api.openai.com/v1',
      maxRetries: 0, // retries are ours, so rate limits are visible and counted
      timeout: options.timeoutMs,
      // The client's timeout ends at the headers; this one runs to the body's last byte, and caps its length.
      fetch: boundedFetch({ timeoutMs: options.timeoutMs, maxBytes: options.maxReplyBytes ?? DEFAULT_MAX_REPLY_BYTES }),
    });
  }

  async complete<T>(request: CompletionRequest<T>): Promise<CompletionResult<T>> {
    if (this.missingKey) {
      throw new ModelError('not_configured', request.role, this.model, 0, `no model server is configured (env var ${this.endpoint.apiKeyEnv} is empty): ${NOT_CONFIGURED_HELP}`);
    }
    return completeWithRepairs(request, this.model, this.options.maxRepairs, (messages) => this.send(request, messages));
  }

  /** One answered request, retrying transport failures. */
  private async send(request: CompletionRequest<unknown>, messages: ChatMessage[]): Promise<RawReply> {
    for (let attempt = 0; ; attempt++) {
      if (request.signal?.aborted) throw new ModelError('cancelled', request.role, this.model, attempt, 'the request was cancelled');
      // The client leaves a listener on the signal it is given; a child signal per request keeps a
      // long pipeline from piling listeners onto the caller's signal.
      const child = linkedSignal(request.signal);
      try {
        const { data: completion, response } = await this.client.chat.completions
          .create(
            {
              model: this.model,
              messages,
              ...(this.endpoint.temperature !== undefined ? { temperature: this.endpoint.temperature } : {}),
              ...this.responseFormat(request),
            },
            { signal: child.signal },
          )
          .withResponse();
        const notCompletion = notACompletion(completion, response.headers.get('content-type'), this.completionsURL);
        if (notCompletion) throw new ModelError('http', request.role, this.model, attempt + 1, notCompletion, undefined, response.status);
        const message = completion.choices[0]?.message;
        return {
          content: message?.content ?? '',
          refusal: message?.refusal ?? undefined,
          usage: { prompt_tokens: completion.usage?.prompt_tokens ?? 0, completion_tokens: completion.usage?.completion_tokens ?? 0 },
        };
      } catch (error) {
        if (error instanceof ModelError) throw error;
        // Cut off at the cap: no content to parse, but the model can be asked again for a shorter reply.
        if (error instanceof ReplyTooLargeError && !request.signal?.aborted) {
          log('debug', `${request.role}: reply cut off at ${error.limit} bytes`, { model: this.model, content_type: error.contentType, head: error.head.slice(0, 120) });
          return { content: '', usage: { prompt_tokens: 0, completion_tokens: 0 }, problem: error.message };
        }
        if (this.downgradeFormat(request.schemaName, error)) continue;
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

  private get completionsURL(): string {
    return `${this.client.baseURL.replace(/\/+$/, '')}/chat/completions`;
  }

  private responseFormat(request: CompletionRequest<unknown>) {
    const format = this.formats.get(request.schemaName) ?? 'json_schema';
    if (format === 'none') return {};
    if (format === 'json_object') return { response_format: { type: 'json_object' as const } };
    return {
      response_format: {
        type: 'json_schema' as const,
        json_schema: { name: request.schemaName, schema: strictSchemaOf(request.schema), strict: true },
      },
    };
  }

  /**
   * Some servers reject json_schema, or one schema's features, or any response_format; that schema
   * then falls back one step (json_schema → json_object → none), for good. Per schema, because a
   * server that cannot compile one schema (a keyword its grammar engine lacks) still enforces the others.
   */
  private downgradeFormat(schemaName: string, error: unknown): boolean {
    const format = this.formats.get(schemaName) ?? 'json_schema';
    if (format === 'none' || !rejectsResponseFormat(error)) return false;
    const next = format === 'json_schema' ? 'json_object' : 'none';
    this.formats.set(schemaName, next);
    log('info', `model server rejected the response format of ${schemaName}; using ${next}`, { model: this.model, status: (error as APIError).status });
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

/**
 * Why a status-200 body is not a chat completion, or undefined when it is one. The client hands back
 * a non-JSON body as a string: a web page or a plain-text banner means the base URL points at the
 * wrong server or path, which asking again will not change, so the message says what came back and
 * where to look (`where`: what to check, for a URL that is not a configured endpoint).
 */
export function notACompletion(body: unknown, contentType: string | null, url: string, where = 'the base URL (base_url or OPENAI_BASE_URL; it usually ends in /v1, and /chat/completions is added to it)'): string | undefined {
  if (typeof body === 'object' && body !== null && Array.isArray((body as { choices?: unknown }).choices)) return undefined;
  const type = contentType ?? 'no content type';
  const check = `check ${where}`;
  if (typeof body === 'string') {
    const head = body.trim().slice(0, 120).replace(/\s+/g, ' ');
    return `${url} answered 200 with ${type}, not a chat completion: ${head ? JSON.stringify(head) : 'an empty body'}${body.trim().length > 120 ? ' …' : ''}; ${check}`;
  }
  const shown = body === undefined ? 'an empty body' : truncate(JSON.stringify(body), 120);
  return `${url} answered 200 with ${type} that has no "choices", so it is not a chat completion: ${shown}; ${check}`;
}

function truncate(text: string, length: number): string {
  return text.length > length ? `${text.slice(0, length)} …` : text;
}

// How servers word a rejected response format: OpenAI "Invalid schema for response_format 'x': …";
// vLLM "The provided JSON schema contains features not supported by xgrammar" or "Grammar error: …";
// llama.cpp "response_format type must be one of "text" or "json_object"" or "JSON schema conversion
// failed"; Ollama "invalid JSON schema in format" or "invalid format: expected "json" or a JSON schema".
// llama.cpp and Ollama answer some of these with a 500, so the status alone does not decide.
const FORMAT_REJECTION = /response[_ ]?format|json[ _-]?schema|\bschema\b|grammar|guided[_ ]decoding|structured output|invalid format/i;

function rejectsResponseFormat(error: unknown): boolean {
  if (!(error instanceof APIError) || ![400, 422, 500].includes(error.status ?? 0)) return false;
  return FORMAT_REJECTION.test(error.message);
}

/** The server's reason; the client's message already starts with the HTTP status, so it is not added again. */
function describe(error: unknown): string {
  if (error instanceof APIError) return error.status === undefined || error.message.startsWith(String(error.status)) ? error.message : `${error.status} ${error.message}`;
  return error instanceof Error ? error.message : String(error);
}
