import type { ModelError } from '../llm/chat-model.js';

/**
 * A dead endpoint, a wrong key or a wrong model name fails every sample the same way; going on would
 * spend hours producing nothing. Eight is the default concurrency, so the first wave decides, and each
 * of those samples already went through every retry of its calls: eight identical failures in a row
 * is an outage or a misconfiguration, not bad luck. One success and the run goes on to the end.
 */
export const FAIL_FAST_SAMPLES = 8;

/** Watches how a session's first samples fail (same kind, same HTTP status) until one succeeds. */
export class FailFast {
  /** How the samples finished so far failed, until one succeeds (then it is cleared for good). */
  private opening: string[] | undefined = [];

  /** `after` 0 never stops; a run smaller than the threshold is judged on all of its samples. */
  constructor(private readonly after: number) {}

  succeeded(): void {
    this.opening = undefined;
  }

  /** How many samples failed and how, when the opening samples all failed for one reason. */
  failed(error: ModelError): { samples: number; reason: string } | undefined {
    const opening = this.opening;
    if (!opening || this.after === 0) return undefined;
    opening.push(`${error.kind}${error.status ? ` ${error.status}` : ''}`);
    if (opening.length < this.after) return undefined;
    if (opening.some((reason) => reason !== opening[0])) {
      this.opening = undefined;
      return undefined;
    }
    return { samples: opening.length, reason: opening[0]! };
  }
}
