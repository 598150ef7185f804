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

/** One model call for one agent, metered; stops before calling when the request was cancelled. */
export async function callAgent<T>(
  model: ChatModel,
  agent: AgentSpec<T>,
  messages: ChatMessage[],
  meter: UsageMeter,
  signal?: AbortSignal,
): Promise<CompletionResult<T>> {
  if (signal?.aborted) throw new ModelError('cancelled', agent.role, model.model, 0, 'the request was cancelled');
  const result = await model.complete({ role: agent.role, schemaName: agent.schemaName, schema: agent.schema, messages, signal });
  meter.add(agent.role, result);
  return result;
}
