import type { z } from 'zod';
import type { Role } from '../config.js';
import { redact } from '../log.js';

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export interface TokenUsage {
  prompt_tokens: number;
  completion_tokens: number;
}

export interface CompletionRequest<T> {
  role: Role;
  /** The name the output schema is sent under (response_format.json_schema.name). */
  schemaName: string;
  schema: z.ZodType<T>;
  messages: ChatMessage[];
  signal?: AbortSignal;
  /**
   * Checks a schema-valid reply for what a schema cannot say (meta-commentary in thoughts, unknown
   * clause ids, thoughts a refiner left unaccounted for). Problems are sent back for repair like a
   * malformed reply; a reply that still has some after the last repair is returned anyway, and the
   * caller cleans it deterministically.
   */
  check?(value: T): string[];
}

export interface CompletionResult<T> {
  value: T;
  /** The reply text that was parsed into `value`. */
  raw: string;
  model: string;
  /** Summed over every HTTP request this completion needed, repairs and retries included. */
  usage: TokenUsage;
  /** HTTP requests that reached the model server and got an answer. */
  calls: number;
  /** True when the reply came from the request cache: no model call, no tokens spent. */
  cached?: boolean;
  /** How many times a reply was sent back because `check` found problems. */
  checkRepairs?: number;
  /** Whether the first reply parsed against the schema (a repair after a `check` finding still counts as valid). */
  firstTry?: boolean;
}

/** The one interface the pipeline knows. Backends and wrappers implement it. */
export interface ChatModel {
  readonly model: string;
  complete<T>(request: CompletionRequest<T>): Promise<CompletionResult<T>>;
}

export type ModelErrorKind = 'invalid_output' | 'refusal' | 'http' | 'network' | 'timeout' | 'cancelled' | 'not_configured';

/**
 * A model call that failed for good: which role, which model, after how many attempts, and why.
 * Its message and raw text are redacted here, once: a server may echo the API key back in an error
 * (`401 … Bearer <key>`), and everything downstream (tool results, run logs, records) stores them as is.
 */
export class ModelError extends Error {
  override name = 'ModelError';
  /** The last reply text, kept so a failed sample can be inspected. */
  readonly raw?: string;
  constructor(
    readonly kind: ModelErrorKind,
    readonly role: Role,
    readonly model: string,
    readonly attempts: number,
    message: string,
    raw?: string,
    readonly status?: number,
  ) {
    super(redact(`${role} (model ${model}) failed after ${attempts} attempt${attempts === 1 ? '' : 's'}: ${message}`));
    if (raw !== undefined) this.raw = redact(raw);
  }
}
