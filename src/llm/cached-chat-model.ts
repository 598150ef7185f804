import type { ResolvedEndpoint } from '../config.js';
import type { ChatModel, CompletionRequest, CompletionResult } from './chat-model.js';
import { requestKey, type RequestCache } from './request-cache.js';

/** Answers a request from the cache when the identical request was answered before; otherwise calls through and remembers. */
export class CachedChatModel implements ChatModel {
  constructor(
    private readonly inner: ChatModel,
    private readonly endpoint: ResolvedEndpoint,
    private readonly cache: RequestCache,
  ) {}

  get model(): string {
    return this.inner.model;
  }

  async complete<T>(request: CompletionRequest<T>): Promise<CompletionResult<T>> {
    const key = requestKey(this.endpoint, request as CompletionRequest<unknown>);
    const hit = await this.cache.get(key);
    if (hit) {
      const parsed = request.schema.safeParse(hit.value);
      if (parsed.success) return { value: parsed.data, raw: JSON.stringify(hit.value), model: hit.model, usage: { prompt_tokens: 0, completion_tokens: 0 }, calls: 0, cached: true };
    }
    const result = await this.inner.complete(request);
    await this.cache.put(key, { value: result.value, model: result.model, usage: result.usage });
    return result;
  }
}
