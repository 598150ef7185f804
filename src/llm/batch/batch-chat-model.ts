import type { ResolvedEndpoint } from '../../config.js';
import { ModelError, type ChatModel, type CompletionRequest, type CompletionResult } from '../chat-model.js';
import { strictSchemaOf } from '../json-schema.js';
import { completeWithRepairs, NOT_CONFIGURED_HELP } from '../repair-loop.js';
import type { WaveCollector } from './wave-collector.js';

/**
 * A ChatModel whose requests go out in batch waves. The repair loop is the online one: a repair is
 * simply another request, in a later wave. Replies are asked for with the role's strict JSON schema
 * (a batch cannot learn, mid-run, that a server rejects it, as the online backend does).
 */
export class BatchChatModel implements ChatModel {
  readonly model: string;

  constructor(
    private readonly endpoint: ResolvedEndpoint,
    private readonly waves: WaveCollector,
    private readonly options: { maxRepairs: number; needsKey: boolean; env?: NodeJS.ProcessEnv },
  ) {
    this.model = endpoint.model;
  }

  complete<T>(request: CompletionRequest<T>): Promise<CompletionResult<T>> {
    const env = this.options.env ?? process.env;
    if (this.options.needsKey && !env[this.endpoint.apiKeyEnv] && !this.endpoint.baseURL) {
      return Promise.reject(new ModelError('not_configured', request.role, this.model, 0, `no model server is configured (env var ${this.endpoint.apiKeyEnv} is empty): ${NOT_CONFIGURED_HELP}`));
    }
    const format = { type: 'json_schema', json_schema: { name: request.schemaName, schema: strictSchemaOf(request.schema), strict: true } };
    return completeWithRepairs(request, this.model, this.options.maxRepairs, (messages) =>
      this.waves.send(
        this.endpoint,
        request.role,
        { model: this.model, messages, ...(this.endpoint.temperature !== undefined ? { temperature: this.endpoint.temperature } : {}), response_format: format },
        request.signal,
      ),
    );
  }
}
