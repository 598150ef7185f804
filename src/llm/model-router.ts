import { endpointFor, type Config, type ResolvedEndpoint, type Role } from '../config.js';
import { registerSecret } from '../log.js';
import type { ChatModel } from './chat-model.js';
import { OpenAIChatModel } from './openai-chat-model.js';
import { defaultRetryPolicy, type FailureKind } from './retry.js';

export type ModelFactory = (endpoint: ResolvedEndpoint) => ChatModel;

/** Hands each role (and each deliberation agent) its ChatModel, one instance per distinct endpoint. */
export class ModelRouter {
  private readonly models = new Map<string, ChatModel>();
  private readonly factory: ModelFactory;

  constructor(
    private readonly config: Config,
    factory?: ModelFactory,
    onRetry?: (kind: FailureKind, delayMs: number) => void,
  ) {
    this.factory =
      factory ??
      ((endpoint) => {
        registerSecret(process.env[endpoint.apiKeyEnv]);
        return new OpenAIChatModel(endpoint, {
          timeoutMs: config.requestTimeoutMs,
          retry: { ...defaultRetryPolicy, maxRetries: config.maxRetries },
          maxRepairs: config.maxRepairs,
          onRetry,
        });
      });
  }

  forRole(role: Role, agentIndex?: number): ChatModel {
    const endpoint = endpointFor(this.config, role, agentIndex);
    const key = JSON.stringify(endpoint);
    let model = this.models.get(key);
    if (!model) {
      model = this.factory(endpoint);
      this.models.set(key, model);
    }
    return model;
  }
}
