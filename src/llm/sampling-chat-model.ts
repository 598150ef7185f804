import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { ModelPreferences } from '@modelcontextprotocol/sdk/types.js';
import type { Role } from '../config.js';
import { ModelError, type ChatModel, type CompletionRequest, type CompletionResult } from './chat-model.js';
import { completeWithRepairs, NOT_CONFIGURED_HELP } from './repair-loop.js';

/** What each role needs most from the client's model: judging roles want intelligence, the intent list speed. */
const PRIORITIES: Record<Role, Omit<ModelPreferences, 'hints'>> = {
  intents: { intelligencePriority: 0.4, speedPriority: 0.8, costPriority: 0.5 },
  initial_cot: { intelligencePriority: 0.7, speedPriority: 0.5, costPriority: 0.4 },
  deliberator: { intelligencePriority: 0.8, speedPriority: 0.4, costPriority: 0.4 },
  refiner: { intelligencePriority: 0.9, speedPriority: 0.3, costPriority: 0.3 },
  responder: { intelligencePriority: 0.7, speedPriority: 0.5, costPriority: 0.4 },
  whisperer: { intelligencePriority: 0.7, speedPriority: 0.5, costPriority: 0.4 },
  judge: { intelligencePriority: 0.9, speedPriority: 0.3, costPriority: 0.3 },
  grader: { intelligencePriority: 0.9, speedPriority: 0.3, costPriority: 0.3 },
};

export const SAMPLING_MODEL = 'mcp-sampling';

/**
 * A ChatModel that asks the connected client's own model, through MCP sampling/createMessage. The
 * JSON Schema of the reply is stated in the system prompt (every role's prompt carries it); replies
 * are parsed and repaired like any other backend's. Clients report no token counts, so usage counts
 * calls only.
 */
export class SamplingChatModel implements ChatModel {
  readonly model = SAMPLING_MODEL;

  constructor(
    private readonly server: Server,
    private readonly options: { maxRepairs: number; timeoutMs: number; modelHint?: string; maxTokens?: number },
  ) {}

  async complete<T>(request: CompletionRequest<T>): Promise<CompletionResult<T>> {
    if (!this.server.getClientCapabilities()?.sampling) {
      throw new ModelError('not_configured', request.role, this.model, 0, `no model server is configured and this client does not offer MCP sampling: ${NOT_CONFIGURED_HELP}`);
    }
    return completeWithRepairs(request, this.model, this.options.maxRepairs, async (messages) => {
      if (request.signal?.aborted) throw new ModelError('cancelled', request.role, this.model, 0, 'the request was cancelled');
      const systemPrompt = messages
        .filter((m) => m.role === 'system')
        .map((m) => m.content)
        .join('\n\n');
      const conversation = messages
        .filter((m) => m.role !== 'system')
        .map((m) => ({ role: m.role as 'user' | 'assistant', content: { type: 'text' as const, text: m.content } }));
      try {
        const result = await this.server.createMessage(
          {
            messages: conversation,
            systemPrompt,
            includeContext: 'none',
            maxTokens: this.options.maxTokens ?? 4096,
            modelPreferences: { ...PRIORITIES[request.role], ...(this.options.modelHint ? { hints: [{ name: this.options.modelHint }] } : {}) },
            metadata: { aidsafe_role: request.role, schema: request.schemaName },
          },
          { signal: request.signal, timeout: this.options.timeoutMs },
        );
        const content = result.content.type === 'text' ? result.content.text : '';
        return { content, usage: { prompt_tokens: 0, completion_tokens: 0 }, model: result.model || this.model };
      } catch (error) {
        if (request.signal?.aborted) throw new ModelError('cancelled', request.role, this.model, 1, 'the request was cancelled');
        throw new ModelError('http', request.role, this.model, 1, `the client's sampling request failed: ${error instanceof Error ? error.message : String(error)}`);
      }
    });
  }
}
