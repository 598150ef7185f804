import { endpointFor, type Config, type ResolvedEndpoint, type Role } from '../config.js';
import { registerSecret } from '../log.js';
import { CachedChatModel } from './cached-chat-model.js';
import type { ChatModel } from './chat-model.js';
import { LazyChatModel } from './lazy-chat-model.js';
import type { RequestCache } from './request-cache.js';
import type { FailureKind } from './retry.js';

/** Builds a backend for one server; `tries: 'once'` leaves retrying to the caller (a replica pool). */
export type ModelFactory = (endpoint: ResolvedEndpoint, options?: { tries?: 'once' }) => ChatModel;

/** Hands each role (and each deliberation agent) its ChatModel, one instance per distinct endpoint. */
export class ModelRouter {
  private readonly models = new Map<string, ChatModel>();
  private readonly factory: ModelFactory;

  constructor(
    readonly config: Config,
    private readonly baseFactory?: ModelFactory,
    private readonly onRetry?: (kind: FailureKind, delayMs: number) => void,
    private readonly cache?: RequestCache,
  ) {
    this.factory =
      baseFactory ??
      ((endpoint, options) => {
        registerSecret(process.env[endpoint.apiKeyEnv]);
        return new LazyChatModel(endpoint.model, async () => {
          const [{ OpenAIChatModel }, { defaultRetryPolicy }] = await Promise.all([import('./openai-chat-model.js'), import('./retry.js')]);
          return new OpenAIChatModel(endpoint, {
            timeoutMs: config.requestTimeoutMs,
            maxReplyBytes: config.maxReplyBytes,
            retry: { ...defaultRetryPolicy, maxRetries: options?.tries === 'once' ? 0 : config.maxRetries },
            maxRepairs: config.maxRepairs,
            onRetry,
          });
        });
      });
  }

  /** The same configuration with another backend (MCP sampling through one client's connection). */
  withFactory(factory: ModelFactory): ModelRouter {
    return new ModelRouter(this.config, factory);
  }

  /** A router for one batch run: the same configuration, its own retry listener, a request cache, and (in batch mode) its own backend. */
  derive(options: { onRetry?: (kind: FailureKind, delayMs: number) => void; cache?: RequestCache; factory?: ModelFactory }): ModelRouter {
    return new ModelRouter(this.config, options.factory ?? this.baseFactory, options.onRetry, options.cache);
  }

  forRole(role: Role, agentIndex?: number): ChatModel {
    const endpoint = endpointFor(this.config, role, agentIndex);
    const key = JSON.stringify(endpoint);
    let model = this.models.get(key);
    if (!model) {
      model = endpoint.replicas ? this.pool(endpoint, endpoint.replicas) : this.factory(endpoint);
      if (this.cache) model = new CachedChatModel(model, endpoint, this.cache);
      this.models.set(key, model);
    }
    return model;
  }

  private pool(endpoint: ResolvedEndpoint, urls: string[]): ChatModel {
    const replicas = urls.map((url) => ({ url, model: this.factory({ ...endpoint, baseURL: url, replicas: undefined }, { tries: 'once' }) }));
    return new LazyChatModel(endpoint.model, async () => {
      const [{ ReplicaPool }, { defaultRetryPolicy }] = await Promise.all([import('./replica-pool.js'), import('./retry.js')]);
      return new ReplicaPool(replicas, { retry: { ...defaultRetryPolicy, maxRetries: this.config.maxRetries }, onRetry: this.onRetry });
    });
  }
}
