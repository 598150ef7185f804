import { isPairOutcome, PairTally } from '../store/pair-outcome.js';
import type { Usage } from '../store/record.js';
import type { RunStore, SampleEvent } from '../store/run-store.js';
import { HealthTally, isSampleHealth, type SampleHealth } from './health.js';
import { UsageMeter } from './usage.js';

/** How many failures a status lists. */
export const LISTED_FAILURES = 20;

/** A sample the log leaves unfinished (started, or failed): the ids a retry must reuse. */
export interface OpenSample {
  s: 'started' | 'failed';
  record_id: string;
  pair_id?: string;
  error?: string;
}

/**
 * Where each sample of a run stands, in memory that does not grow with the samples done: a bit per
 * row for "done", entries only for samples the log leaves open (their ids are reused when they run
 * again), counters, and the first failures as they happen. Built by replaying the run's log once.
 */
export class SampleStates {
  private doneBits: Uint8Array;
  private readonly open = new Map<number, OpenSample>();
  done = 0;
  failed = 0;
  /** The first failures still standing, in the order they happened; at most LISTED_FAILURES. */
  readonly failures: { index: number; error: string }[] = [];
  private readonly meter = new UsageMeter();
  /** Pairs of the samples done, kept and dropped by reason, from the "done" lines that name them. */
  readonly pairs = new PairTally();
  /** Health contributions of the samples done, from the "done" lines that carry one. */
  readonly health = new HealthTally();

  constructor(rows: number) {
    this.doneBits = new Uint8Array(Math.ceil(rows / 8));
  }

  static async fromLog(runs: RunStore, runId: string, rows: number): Promise<SampleStates> {
    const states = new SampleStates(rows);
    await runs.replay(runId, (event) => states.replayed(event));
    for (const [index, open] of states.open) {
      if (states.failures.length >= LISTED_FAILURES) break;
      if (open.s === 'failed') states.failures.push({ index, error: open.error ?? '' });
    }
    return states;
  }

  /** Usage of every sample in the log. */
  get usage(): Usage {
    return this.meter.usage;
  }

  isDone(index: number): boolean {
    return ((this.doneBits[index >> 3] ?? 0) & (1 << (index & 7))) !== 0;
  }

  /** The ids an unfinished sample was started with, and whether it had failed. */
  openSample(index: number): OpenSample | undefined {
    return this.open.get(index);
  }

  /** A sample finished: it is done for good, and leaves the failures if it had failed before. */
  succeeded(index: number, pair?: string, health?: SampleHealth): void {
    if (isPairOutcome(pair) && !this.isDone(index)) this.pairs.add(pair);
    if (health && !this.isDone(index)) this.health.add(health);
    if (this.open.get(index)?.s === 'failed') {
      this.failed--;
      this.unlist(index);
    }
    this.open.delete(index);
    this.setDone(index, true);
  }

  /** A sample failed. Only one the log had left open keeps an entry (it may be retried by a later session, with the ids it has). */
  failedWith(index: number, error: string): void {
    const prior = this.open.get(index);
    if (prior?.s === 'failed') {
      prior.error = error;
      const listed = this.failures.find((f) => f.index === index);
      if (listed) listed.error = error;
      return;
    }
    this.open.delete(index);
    this.failed++;
    if (this.failures.length < LISTED_FAILURES) this.failures.push({ index, error });
  }

  private replayed(event: SampleEvent): void {
    if (event.usage) this.meter.merge(event.usage);
    const i = event.i;
    if (!Number.isInteger(i) || i < 0) return;
    // The last event for an index tells its state.
    const wasFailed = this.open.get(i)?.s === 'failed';
    if (event.s === 'done') {
      if (isPairOutcome(event.pair) && !this.isDone(i)) this.pairs.add(event.pair);
      if (isSampleHealth(event.health) && !this.isDone(i)) this.health.add(event.health);
      if (wasFailed) this.failed--;
      this.open.delete(i);
      this.setDone(i, true);
      return;
    }
    this.setDone(i, false);
    if (event.s === 'failed' && !wasFailed) this.failed++;
    if (event.s === 'started' && wasFailed) this.failed--;
    // Deleted first, so the entries keep the order in which their samples last opened.
    this.open.delete(i);
    this.open.set(i, { s: event.s, record_id: event.record_id, ...(event.pair_id ? { pair_id: event.pair_id } : {}), ...(event.error !== undefined ? { error: event.error } : {}) });
  }

  private setDone(index: number, value: boolean): void {
    if (index >> 3 >= this.doneBits.length) {
      const grown = new Uint8Array(Math.max((index >> 3) + 1, this.doneBits.length * 2));
      grown.set(this.doneBits);
      this.doneBits = grown;
    }
    if (this.isDone(index) === value) return;
    this.doneBits[index >> 3]! ^= 1 << (index & 7);
    this.done += value ? 1 : -1;
  }

  /** Takes a failure off the list, and fills the list up again from failures the log left open. */
  private unlist(index: number): void {
    const at = this.failures.findIndex((f) => f.index === index);
    if (at < 0) return;
    this.failures.splice(at, 1);
    if (this.failed <= this.failures.length) return;
    const listed = new Set(this.failures.map((f) => f.index));
    for (const [i, open] of this.open) {
      if (this.failures.length >= LISTED_FAILURES) break;
      if (open.s === 'failed' && i !== index && !listed.has(i)) this.failures.push({ index: i, error: open.error ?? '' });
    }
  }
}
