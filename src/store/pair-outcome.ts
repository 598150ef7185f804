import { PAIR_DROP_REASONS, type PairDropReason, type PreferenceRecord } from './record.js';

/**
 * The two sides' reasoning (thoughts, in characters) is at most this many times longer on one side than
 * the other in a kept pair: beyond it a trainer could learn length instead of policy faithfulness. Both
 * sides come from one writer call each with the same prompt, so their lengths are usually close; the
 * band only drops the outliers. The responses are left out: a compliant answer is naturally longer than
 * a brief decline, in either direction.
 */
export const MAX_PAIR_LENGTH_RATIO = 2;

/** What each drop reason means, for status lines, reports and dataset cards. */
export const PAIR_DROP_TEXT: Record<PairDropReason, string> = {
  chosen_unusable: 'the chosen side could not be written',
  chosen_violates: 'the judge found the chosen side violating',
  rejected_unusable: 'no rejected side was usable (it gave the belief away, or the writer failed)',
  rejected_not_violating: 'the judge found no rejected side violating',
  length: 'the two sides’ reasoning differs too much in length',
  margin: 'the grades’ margin is below min_margin',
  chosen_not_judged: 'made before the chosen side was judged (schema version 1)',
};

/**
 * Whether a pair is training data, and if not why. A pair of schema version 1 was kept without a judge
 * on its chosen side (and sometimes without a confirmed violation on its rejected side): it never is.
 */
export function pairOutcome(pair: Pick<PreferenceRecord, 'schema_version' | 'kept' | 'kept_reason' | 'drop_reason' | 'rejected' | 'attempts'>): 'kept' | PairDropReason {
  if (pair.schema_version !== 1) return pair.kept ? 'kept' : (pair.drop_reason ?? 'rejected_not_violating');
  if (pair.attempts.length > 0 && pair.attempts.every((a) => a.leak !== undefined || a.error !== undefined)) return 'rejected_unusable';
  if (!pair.rejected?.violated) return 'rejected_not_violating';
  if (!pair.kept) return /length/.test(pair.kept_reason) ? 'length' : 'margin';
  return 'chosen_not_judged';
}

export interface PairCounts {
  kept: number;
  dropped: number;
  /** Only the reasons that occurred. */
  dropped_by_reason: Partial<Record<PairDropReason, number>>;
}

/** Pairs kept and dropped by reason, counted as samples finish or as records are read. */
export class PairTally {
  private readonly counts = new Map<'kept' | PairDropReason, number>();

  add(outcome: 'kept' | PairDropReason): void {
    this.counts.set(outcome, (this.counts.get(outcome) ?? 0) + 1);
  }

  get total(): number {
    let n = 0;
    for (const c of this.counts.values()) n += c;
    return n;
  }

  summary(): PairCounts {
    const kept = this.counts.get('kept') ?? 0;
    const dropped_by_reason: PairCounts['dropped_by_reason'] = {};
    for (const reason of PAIR_DROP_REASONS) {
      const n = this.counts.get(reason);
      if (n) dropped_by_reason[reason] = n;
    }
    return { kept, dropped: this.total - kept, dropped_by_reason };
  }
}

/** "3 kept, 2 dropped (1 length, 1 margin)". */
export function pairCountsLine(c: PairCounts): string {
  const reasons = Object.entries(c.dropped_by_reason).map(([r, n]) => `${n} ${r.replace(/_/g, ' ')}`);
  return `${c.kept} kept, ${c.dropped} dropped${reasons.length ? ` (${reasons.join(', ')})` : ''}`;
}

/** Whether a stored outcome label (from a run's log) is one this program writes. */
export function isPairOutcome(value: unknown): value is 'kept' | PairDropReason {
  return value === 'kept' || (PAIR_DROP_REASONS as readonly unknown[]).includes(value);
}
