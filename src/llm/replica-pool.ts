import { log } from '../log.js';
import { ModelError, type ChatModel, type CompletionRequest, type CompletionResult } from './chat-model.js';
import { delayFor, sleep, type FailureKind, type RetryPolicy } from './retry.js';

export interface Replica {
  url: string;
  /** A backend that tries once: the pool decides where a failed request goes next. */
  model: ChatModel;
}

export interface ReplicaPoolOptions {
  /** Attempts across the replicas, and the backoff when no replica is free to take a retry at once. */
  retry: RetryPolicy;
  onRetry?: (kind: FailureKind, delayMs: number) => void;
  /** Failures in a row (network, timeout, 5xx) after which a replica is rested. */
  failuresBeforeRest?: number;
  /** The first rest; each rest that ends in another failure doubles it, up to maxRestMs. */
  restMs?: number;
  maxRestMs?: number;
  now?: () => number;
}

export const REPLICA_FAILURES_BEFORE_REST = 3;
export const REPLICA_REST_MS = 30_000;
export const REPLICA_MAX_REST_MS = 600_000;

interface ReplicaState extends Replica {
  outstanding: number;
  failuresInARow: number;
  restUntil: number;
  nextRestMs: number;
  /** Back from a rest and not yet answered: one more failure rests it again, for longer. */
  onTrial: boolean;
}

/**
 * Replicas of one model behind one ChatModel. Each request goes to the replica with the fewest
 * requests outstanding (ties taken in turn); a replica that fails again and again is rested, with a
 * log line, and tried again when its rest is over. A failed attempt moves on to another replica at
 * once when one is free, and backs off when none is. Which replica answered is nobody else's
 * business: the cache key and the run id are made from the model and its settings alone.
 */
export class ReplicaPool implements ChatModel {
  readonly model: string;
  private readonly replicas: ReplicaState[];
  private cursor = 0;
  private readonly failuresBeforeRest: number;
  private readonly restMs: number;
  private readonly maxRestMs: number;
  private readonly now: () => number;

  constructor(
    replicas: Replica[],
    private readonly options: ReplicaPoolOptions,
  ) {
    if (replicas.length === 0) throw new Error('a replica pool needs at least one replica');
    this.model = replicas[0]!.model.model;
    this.failuresBeforeRest = options.failuresBeforeRest ?? REPLICA_FAILURES_BEFORE_REST;
    this.restMs = options.restMs ?? REPLICA_REST_MS;
    this.maxRestMs = options.maxRestMs ?? REPLICA_MAX_REST_MS;
    this.now = options.now ?? Date.now;
    this.replicas = replicas.map((r) => ({ ...r, outstanding: 0, failuresInARow: 0, restUntil: 0, nextRestMs: this.restMs, onTrial: false }));
  }

  async complete<T>(request: CompletionRequest<T>): Promise<CompletionResult<T>> {
    for (let attempt = 0; ; attempt++) {
      if (request.signal?.aborted) throw new ModelError('cancelled', request.role, this.model, attempt, 'the request was cancelled');
      const replica = this.pick();
      replica.outstanding++;
      let failure: { error: ModelError; kind: FailureKind };
      try {
        const result = await replica.model.complete(request);
        this.answered(replica);
        return result;
      } catch (error) {
        const kind = error instanceof ModelError ? retryable(error) : undefined;
        if (!kind || request.signal?.aborted) throw error;
        failure = { error: error as ModelError, kind };
      } finally {
        replica.outstanding--;
      }
      if (failure.kind !== 'rate_limit') this.failed(replica, failure.error);
      if (attempt >= this.options.retry.maxRetries) throw exhausted(failure.error, attempt + 1, replica.url);
      // Another replica can take the retry at once; a pool that is all resting, or pushing back, waits.
      const elsewhere = failure.kind !== 'rate_limit' && this.replicas.some((r) => r !== replica && r.restUntil <= this.now());
      const delay = elsewhere ? 0 : delayFor(undefined, attempt, this.options.retry);
      this.options.onRetry?.(failure.kind, delay);
      log('debug', `${request.role}: ${failure.kind} from replica ${replica.url}, retrying`, { model: this.model, delay_ms: delay });
      try {
        await sleep(delay, request.signal);
      } catch {
        throw new ModelError('cancelled', request.role, this.model, attempt + 1, 'the request was cancelled');
      }
    }
  }

  private pick(): ReplicaState {
    const now = this.now();
    const awake = this.replicas.filter((r) => r.restUntil <= now);
    // All resting: the one whose rest ends first is tried rather than failing the request outright.
    if (awake.length === 0) return this.replicas.reduce((a, b) => (b.restUntil < a.restUntil ? b : a));
    const fewest = Math.min(...awake.map((r) => r.outstanding));
    const n = this.replicas.length;
    for (let step = 0; step < n; step++) {
      const i = (this.cursor + step) % n;
      const candidate = this.replicas[i]!;
      if (candidate.restUntil <= now && candidate.outstanding === fewest) {
        this.cursor = (i + 1) % n;
        return candidate;
      }
    }
    return awake[0]!;
  }

  private answered(replica: ReplicaState): void {
    if (replica.onTrial) log('info', `replica ${replica.url} answers again; back in the pool`, { model: this.model });
    replica.failuresInARow = 0;
    replica.onTrial = false;
    replica.nextRestMs = this.restMs;
  }

  private failed(replica: ReplicaState, error: ModelError): void {
    const now = this.now();
    if (replica.restUntil > now) return; // requests sent before the rest began are still coming back
    replica.failuresInARow++;
    if (!replica.onTrial && replica.failuresInARow < this.failuresBeforeRest) return;
    const restMs = replica.nextRestMs;
    log('warning', `replica ${replica.url} failed ${replica.failuresInARow} time${replica.failuresInARow === 1 ? '' : 's'} in a row${replica.onTrial ? ' after a rest' : ''}; resting it for ${Math.round(restMs / 1000)} s, then trying it again`, {
      model: this.model,
      error: reasonOf(error),
      until: new Date(now + restMs).toISOString(),
    });
    replica.restUntil = now + restMs;
    replica.nextRestMs = Math.min(restMs * 2, this.maxRestMs);
    replica.failuresInARow = 0;
    replica.onTrial = true;
  }
}

/** Failures that say something about the replica (or its load), not about the request. */
function retryable(error: ModelError): FailureKind | undefined {
  if (error.kind === 'network' || error.kind === 'timeout') return error.kind;
  if (error.kind !== 'http' || error.status === undefined) return undefined;
  if (error.status === 429) return 'rate_limit';
  if (error.status === 408 || error.status === 409 || error.status >= 500) return 'server';
  return undefined;
}

function reasonOf(error: ModelError): string {
  return error.message.replace(/^.*? failed after \d+ attempts?: /, '');
}

function exhausted(error: ModelError, attempts: number, url: string): ModelError {
  return new ModelError(error.kind, error.role, error.model, attempts, `${reasonOf(error)} (last tried on replica ${url})`, error.raw, error.status);
}
