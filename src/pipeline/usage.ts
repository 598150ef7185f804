import type { CompletionResult } from '../llm/chat-model.js';
import type { Usage } from '../store/record.js';

/** Sums token usage over a sample's model calls, in total and per role. */
export class UsageMeter {
  readonly usage: Usage = { calls: 0, prompt_tokens: 0, completion_tokens: 0, by_role: {} };

  add(role: string, result: Pick<CompletionResult<unknown>, 'calls' | 'usage'>): void {
    const entry = (this.usage.by_role[role] ??= { calls: 0, prompt_tokens: 0, completion_tokens: 0 });
    for (const target of [this.usage, entry]) {
      target.calls += result.calls;
      target.prompt_tokens += result.usage.prompt_tokens;
      target.completion_tokens += result.usage.completion_tokens;
    }
  }
}
