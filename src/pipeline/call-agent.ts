import type { Role } from '../config.js';
import type { ChatMessage, ChatModel, CompletionResult } from '../llm/chat-model.js';
import { ModelError } from '../llm/chat-model.js';
import type { z } from 'zod';
import type { UsageMeter } from './usage.js';

export interface AgentSpec<T> {
  role: Role;
  schemaName: string;
  schema: z.ZodType<T>;
}

/**
 * One model call for one agent, metered; stops before calling when the request was cancelled.
 * `check` finds what the schema cannot (lint findings, unknown clause ids): those replies are sent
 * back for repair.
 */
export async function callAgent<T>(
  model: ChatModel,
  agent: AgentSpec<T>,
  messages: ChatMessage[],
  meter: UsageMeter,
  signal?: AbortSignal,
  check?: (value: T) => string[],
): Promise<CompletionResult<T>> {
  if (signal?.aborted) throw new ModelError('cancelled', agent.role, model.model, 0, 'the request was cancelled');
  let result: CompletionResult<T>;
  try {
    result = await model.complete({ role: agent.role, schemaName: agent.schemaName, schema: agent.schema, messages, signal, ...(check ? { check } : {}) });
  } catch (error) {
    // Replies that never matched the schema still count against the model's first-try rate.
    if (error instanceof ModelError && (error.kind === 'invalid_output' || error.kind === 'refusal')) meter.failed(error.attempts);
    throw error;
  }
  meter.add(agent.role, result);
  return result;
}
