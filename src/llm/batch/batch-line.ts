import { createHash } from 'node:crypto';
import type { RawReply } from '../repair-loop.js';

/** One request line of an OpenAI Batch API input file (also what `vllm run-batch -i` reads). */
export interface BatchLine {
  custom_id: string;
  method: 'POST';
  url: '/v1/chat/completions';
  body: Record<string, unknown>;
}

export const CHAT_COMPLETIONS = '/v1/chat/completions';

/**
 * The identity of one request line: a hash of its body (model, messages, sampling, response format).
 * 128 bits are plenty to tell requests apart and keep custom ids short.
 */
export function bodyHash(body: Record<string, unknown>): string {
  return createHash('sha256').update(JSON.stringify(body)).digest('hex').slice(0, 32);
}

/** `s<sample>-<stage>-t<turn>-<hash>`: readable in a results file, and the hash finds the request again. */
export function customId(sample: number | undefined, stage: string, turn: number, hash: string): string {
  return `s${sample ?? 'x'}-${stage}-t${turn}-${hash}`;
}

export function hashOfCustomId(id: string): string | undefined {
  const match = /-([0-9a-f]{32})$/.exec(id);
  return match?.[1];
}

/** Where a batch reply is kept in the request cache: its own key space, apart from the keys of whole completions. */
export function replyCacheKey(hash: string): string {
  return createHash('sha256').update(`batch-line\0${hash}`).digest('hex');
}

export type LineResult = { hash: string; ok: true; reply: RawReply } | { hash: string; ok: false; error: string };

/**
 * One line of a batch output or error file. Both OpenAI and `vllm run-batch` write
 * `{id, custom_id, response: {status_code, request_id, body}, error}`; a line whose `response` is the
 * completion itself is taken too. Anything else in the file is skipped.
 */
export function parseResultLine(text: string): LineResult | undefined {
  let line: { custom_id?: unknown; response?: unknown; error?: unknown };
  try {
    line = JSON.parse(text) as typeof line;
  } catch {
    return undefined;
  }
  const hash = typeof line.custom_id === 'string' ? hashOfCustomId(line.custom_id) : undefined;
  if (!hash) return undefined;
  const response = (line.response ?? undefined) as { status_code?: number; body?: unknown; choices?: unknown } | undefined;
  const completion = (response && 'body' in response ? response.body : response) as Completion | undefined;
  const status = response?.status_code ?? (completion?.choices ? 200 : undefined);
  if (line.error || status === undefined || status >= 300 || !Array.isArray(completion?.choices)) {
    return { hash, ok: false, error: describeError(line.error, status, completion) };
  }
  const message = completion.choices[0]?.message;
  return {
    hash,
    ok: true,
    reply: {
      content: message?.content ?? '',
      ...(message?.refusal ? { refusal: message.refusal } : {}),
      usage: { prompt_tokens: completion.usage?.prompt_tokens ?? 0, completion_tokens: completion.usage?.completion_tokens ?? 0 },
      ...(completion.model ? { model: completion.model } : {}),
    },
  };
}

interface Completion {
  model?: string;
  choices?: { message?: { content?: string | null; refusal?: string | null } }[];
  usage?: { prompt_tokens?: number; completion_tokens?: number };
  error?: { message?: string };
}

function describeError(error: unknown, status: number | undefined, body: Completion | undefined): string {
  const message = (error as { message?: string } | null)?.message ?? body?.error?.message ?? (error ? JSON.stringify(error) : 'no completion in the result');
  return status !== undefined ? `${status} ${message}` : message;
}
