/**
 * Concurrency that backs off while the model server answers 429 and creeps back after: halve on a
 * rate limit (at most once per cool-down, so one burst of 429s counts once), add one after a
 * window of successes as large as the current limit.
 */
export class AdaptiveLimit {
  private current: number;
  private successes = 0;
  private lastCut = -Infinity;
  cuts = 0;

  constructor(
    readonly max: number,
    private readonly coolDownMs = 2_000,
    private readonly now: () => number = Date.now,
  ) {
    this.current = max;
  }

  get limit(): number {
    return this.current;
  }

  onRateLimit(): void {
    const t = this.now();
    if (t - this.lastCut < this.coolDownMs) return;
    this.lastCut = t;
    this.cuts += 1;
    this.current = Math.max(1, Math.floor(this.current / 2));
    this.successes = 0;
  }

  onSuccess(): void {
    if (this.current >= this.max || this.now() - this.lastCut < this.coolDownMs) return;
    this.successes += 1;
    if (this.successes >= this.current) {
      this.current += 1;
      this.successes = 0;
    }
  }
}
