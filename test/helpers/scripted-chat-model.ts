import { z } from 'zod';
import { OpenAIChatModel } from '../../src/llm/openai-chat-model.js';
import { defaultRetryPolicy, type FailureKind } from '../../src/llm/retry.js';
import { ScriptedModelServer, type ScriptedServerOptions } from './scripted-model-server.js';

/** What the chat-model tests ask for: a small JSON answer, in a system and a user message. */
export const schema = z.object({ answer: z.string(), score: z.number().int() });
export const messages = [
  { role: 'system' as const, content: 'Reply with JSON.' },
  { role: 'user' as const, content: '{"query":"hello"}' },
];

export interface ChatModelOptions {
  timeoutMs?: number;
  maxRepairs?: number;
  maxRetries?: number;
  maxReplyBytes?: number;
  env?: NodeJS.ProcessEnv;
}

/**
 * A scripted server (answering `{ answer: 'yes', score: 4 }` unless told otherwise) and the real
 * OpenAIChatModel against it, with short retry delays; `retries` collects each retry's kind. The
 * caller closes the server.
 */
export async function scriptedChatModel(options: ScriptedServerOptions = {}, modelOptions: ChatModelOptions = {}): Promise<{ server: ScriptedModelServer; model: OpenAIChatModel; retries: FailureKind[] }> {
  const server = await new ScriptedModelServer({ respond: () => ({ json: { answer: 'yes', score: 4 } }), ...options }).start();
  const retries: FailureKind[] = [];
  const model = new OpenAIChatModel(
    { model: 'scripted-model', baseURL: server.url, apiKeyEnv: 'AIDSAFE_TEST_KEY', temperature: undefined },
    {
      timeoutMs: modelOptions.timeoutMs ?? 10_000,
      retry: { ...defaultRetryPolicy, baseDelayMs: 10, maxDelayMs: 50, maxRetries: modelOptions.maxRetries ?? 6 },
      maxRepairs: modelOptions.maxRepairs ?? 2,
      ...(modelOptions.maxReplyBytes !== undefined ? { maxReplyBytes: modelOptions.maxReplyBytes } : {}),
      onRetry: (kind) => retries.push(kind),
      env: modelOptions.env ?? {},
    },
  );
  return { server, model, retries };
}

/** `setup` for a test file: each call makes a new server and model, and hands the server to `keep` (the file closes it). */
export function chatModelSetup(keep: (server: ScriptedModelServer) => void) {
  return async (options: ScriptedServerOptions = {}, modelOptions: ChatModelOptions = {}) => {
    const made = await scriptedChatModel(options, modelOptions);
    keep(made.server);
    return made;
  };
}
