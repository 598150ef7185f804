import type { CompletionResult } from '../llm/chat-model.js';
import type { Usage } from '../store/record.js';

export function emptyUsage(): Usage {
  return { calls: 0, cached_calls: 0, prompt_tokens: 0, completion_tokens: 0, by_role: {}, by_model: {} };
}

/** Sums token usage over model calls, in total, per role and per model (for prices). */
export class UsageMeter {
  readonly usage: Usage = emptyUsage();

  add(role: string, result: Pick<CompletionResult<unknown>, 'calls' | 'usage' | 'model' | 'cached'>): void {
    if (result.cached) {
      this.usage.cached_calls += 1;
      return;
    }
    const byRole = (this.usage.by_role[role] ??= { calls: 0, prompt_tokens: 0, completion_tokens: 0 });
    const byModel = (this.usage.by_model[result.model] ??= { calls: 0, prompt_tokens: 0, completion_tokens: 0 });
    for (const target of [this.usage, byRole, byModel]) {
      target.calls += result.calls;
      target.prompt_tokens += result.usage.prompt_tokens;
      target.completion_tokens += result.usage.completion_tokens;
    }
  }

  /** Adds another usage total (a finished sample's) into this one. */
  merge(other: Usage): void {
    this.usage.calls += other.calls;
    this.usage.cached_calls += other.cached_calls ?? 0;
    this.usage.prompt_tokens += other.prompt_tokens;
    this.usage.completion_tokens += other.completion_tokens;
    for (const key of ['by_role', 'by_model'] as const) {
      for (const [name, counts] of Object.entries(other[key] ?? {})) {
        const entry = (this.usage[key][name] ??= { calls: 0, prompt_tokens: 0, completion_tokens: 0 });
        entry.calls += counts.calls;
        entry.prompt_tokens += counts.prompt_tokens;
        entry.completion_tokens += counts.completion_tokens;
      }
    }
  }
}
