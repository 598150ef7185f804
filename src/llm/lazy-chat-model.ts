import type { ChatModel, CompletionRequest, CompletionResult } from './chat-model.js';

/**
 * A ChatModel built at its first request: the OpenAI client and what it brings are loaded then, not
 * when the server starts (an MCP client waits for `initialize` at every start, and many sessions
 * never call a model).
 */
export class LazyChatModel implements ChatModel {
  private built: Promise<ChatModel> | undefined;

  constructor(
    readonly model: string,
    private readonly build: () => Promise<ChatModel>,
  ) {}

  async complete<T>(request: CompletionRequest<T>): Promise<CompletionResult<T>> {
    this.built ??= this.build();
    return (await this.built).complete(request);
  }
}
