import type { CompletionResult } from '../llm/chat-model.js';
import type { Usage } from '../store/record.js';

export function emptyUsage(): Usage {
  return { calls: 0, cached_calls: 0, prompt_tokens: 0, completion_tokens: 0, by_role: {}, by_model: {} };
}

/** Sums token usage over model calls, in total, per role and per model (for prices). */
export class UsageMeter {
  readonly usage: Usage = emptyUsage();

  add(role: string, result: Pick<CompletionResult<unknown>, 'calls' | 'usage' | 'model' | 'cached' | 'firstTry'>): void {
    if (result.cached) {
      this.usage.cached_calls += 1;
      return;
    }
    this.usage.completions = (this.usage.completions ?? 0) + 1;
    if (result.firstTry) this.usage.first_try_valid = (this.usage.first_try_valid ?? 0) + 1;
    const byRole = (this.usage.by_role[role] ??= { calls: 0, prompt_tokens: 0, completion_tokens: 0 });
    const byModel = (this.usage.by_model[result.model] ??= { calls: 0, prompt_tokens: 0, completion_tokens: 0 });
    for (const target of [this.usage, byRole, byModel]) {
      target.calls += result.calls;
      target.prompt_tokens += result.usage.prompt_tokens;
      target.completion_tokens += result.usage.completion_tokens;
    }
  }

  /**
   * A reply that stayed unusable through every repair: it counts as asked for and not valid on the first
   * try, and its attempts as calls (their tokens are not known here).
   */
  failed(attempts: number): void {
    this.usage.completions = (this.usage.completions ?? 0) + 1;
    this.usage.first_try_valid ??= 0;
    this.usage.calls += attempts;
  }

  /** Adds another usage total (a finished sample's) into this one. */
  merge(other: Usage): void {
    this.usage.calls += other.calls;
    this.usage.cached_calls += other.cached_calls ?? 0;
    if (other.completions !== undefined) this.usage.completions = (this.usage.completions ?? 0) + other.completions;
    if (other.first_try_valid !== undefined) this.usage.first_try_valid = (this.usage.first_try_valid ?? 0) + other.first_try_valid;
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
