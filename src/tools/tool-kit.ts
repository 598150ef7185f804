import type { RequestHandlerExtra } from '@modelcontextprotocol/sdk/shared/protocol.js';
import type { CallToolResult, ServerNotification, ServerRequest, ToolAnnotations } from '@modelcontextprotocol/sdk/types.js';
import { InputError } from '../errors.js';
import { ModelError } from '../llm/chat-model.js';
import { log } from '../log.js';
import type { ProgressListener } from '../pipeline/progress.js';
import { UnknownPolicyError } from '../policies/policy-set.js';
import { DELIBERATION_VIEW_URI } from '../views/deliberation-view.js';
import { summaryOf } from './result-summary.js';

export type ToolExtra = RequestHandlerExtra<ServerRequest, ServerNotification>;

/**
 * Links a tool to the deliberation view, for hosts that render MCP Apps; others ignore it. Only the
 * current `ui.resourceUri` form: hosts read it first, and the deprecated flat "ui/resourceUri" key
 * would repeat the address in every conversation.
 */
export const withDeliberationView = { ui: { resourceUri: DELIBERATION_VIEW_URI } };

/** A tool's kind decides its annotations, in one place. */
export const annotations = {
  /** Reads local state only. */
  read: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  /** Calls a model server (an open world) and may save a new record; never changes existing ones. */
  generate: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true },
  /** Changes local state without destroying data (stops a run, writes a new export file). */
  local: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
} satisfies Record<string, ToolAnnotations>;

export { InputError };

/** A result carries its value once, as structuredContent; the text block is a short summary of it. */
export function ok<T extends object>(value: T): CallToolResult {
  return { content: [{ type: 'text', text: summaryOf(value) }], structuredContent: value as Record<string, unknown> };
}

export function fail(message: string): CallToolResult {
  return { content: [{ type: 'text', text: message }], isError: true };
}

/** Runs a handler; every failure becomes an isError result the caller can act on, never a crash. */
export async function guard(tool: string, work: () => Promise<CallToolResult>): Promise<CallToolResult> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof InputError || error instanceof UnknownPolicyError) return fail(error.message);
    if (error instanceof ModelError) {
      log('warning', `${tool}: ${error.message}`);
      return fail(`Model call failed — ${error.message}`);
    }
    log('error', `${tool}: unexpected error`, { error: error instanceof Error ? (error.stack ?? error.message) : String(error) });
    return fail(`${tool} failed unexpectedly: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/**
 * Progress notifications, when the client asked for them with a progress token. A tool may run
 * several pipeline phases, each counting from 1; progress must only increase, so phases are chained.
 */
export function progressFor(extra: ToolExtra): ProgressListener | undefined {
  const token = extra._meta?.progressToken;
  if (token === undefined) return undefined;
  let offset = 0;
  let lastStep = 0;
  return async ({ step, total, message }) => {
    if (step <= lastStep) offset += lastStep;
    lastStep = step;
    await extra.sendNotification({ method: 'notifications/progress', params: { progressToken: token, progress: offset + step, total: offset + total, message } });
  };
}
