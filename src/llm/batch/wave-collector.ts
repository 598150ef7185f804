import type { BatchSettings, ResolvedEndpoint, Role } from '../../config.js';
import { log } from '../../log.js';
import { ModelError } from '../chat-model.js';
import type { RawReply } from '../repair-loop.js';
import type { RequestCache } from '../request-cache.js';
import { sleep } from '../retry.js';
import { bodyHash, CHAT_COMPLETIONS, customId, parseResultLine, replyCacheKey, type BatchLine } from './batch-line.js';
import type { BatchLedger, BatchTarget, LedgerBatch } from './batch-ledger.js';
import { currentSample } from './sample-scope.js';
import type { BatchTransport } from './transport.js';

/** One request waiting for a wave, or inside a batch: the line, who waits on it, and how often it was sent. */
interface Ask {
  hash: string;
  line: BatchLine;
  target: BatchTarget;
  role: Role;
  attempts: number;
  waiters: Set<Waiter>;
}

interface Waiter {
  sample: number | undefined;
  resolve: (reply: RawReply) => void;
  reject: (error: Error) => void;
  unlink: () => void;
}

interface OpenBatch extends LedgerBatch {
  /** The requests of this process that wait on it; a batch adopted after a restart starts with none. */
  asks: Map<string, Ask | undefined>;
}

export interface WaveProgress {
  mode: 'provider' | 'files';
  /** Waves sent so far by the run, across restarts. */
  waves: number;
  /** Requests waiting for the next wave, and inside batches not yet back. */
  requests_waiting: number;
  requests_in_batches: number;
  /** Batches by provider status, across the run. */
  batches: Record<string, number>;
  /** The batches still out, newest first (at most 10). */
  open: { id: string; wave: number; status: string; requests: number }[];
}

/**
 * Collects model requests into waves and sends each wave as batch files. A wave goes out as soon as
 * every sample in flight is waiting on the model (the engine says when samples enter and leave), or
 * after `quiet_ms` without a new request, whichever comes first. Each batch is polled with backoff;
 * its results go into the request cache and resolve the waiting calls. A failed line, or a batch that
 * failed or expired, sends its requests again in a later wave, up to `max_attempts` times.
 */
export class WaveCollector {
  private readonly pending = new Map<string, Ask>();
  /** Body hash → the open batch that holds it. */
  private readonly inBatch = new Map<string, OpenBatch>();
  /** Batches not yet closed; closed ones live on only as counts, so memory is bounded by what is out. */
  private readonly open = new Set<OpenBatch>();
  private readonly statusCounts: Record<string, number> = {};
  private readonly waiting = new Map<number, number>();
  private active = 0;
  /** The engine is taking more samples: samples on their way will add to the wave, so it is not sent yet. */
  private filling = false;
  private wave = 0;
  private quietTimer: NodeJS.Timeout | undefined;
  private readonly stopping = new AbortController();
  private readonly work = new Set<Promise<void>>();
  private cancelled: Promise<void> | undefined;

  constructor(
    private readonly options: {
      runId: string;
      settings: BatchSettings;
      cache: RequestCache;
      ledger: BatchLedger;
      transportFor: (target: BatchTarget) => BatchTransport;
      mode: 'provider' | 'files';
    },
  ) {}

  /** Picks up the batches a previous process submitted: polls those still out, and finds those it was sending when it stopped. */
  async resume(): Promise<void> {
    for (const batch of (await this.options.ledger.read()).values()) {
      this.wave = Math.max(this.wave, batch.wave);
      this.statusCounts[batch.status] = (this.statusCounts[batch.status] ?? 0) + 1;
      if (batch.closed) continue;
      const open: OpenBatch = { ...batch, asks: new Map(batch.keys.map((k) => [k, undefined])) };
      this.open.add(open);
      if (!batch.id) {
        const id = await this.options.transportFor(batch.target).find(batch.name).catch(() => undefined);
        if (!id) {
          this.setStatus(open, 'not_submitted', true);
          await this.options.ledger.closed(batch.name, open.status);
          continue;
        }
        open.id = id;
        await this.options.ledger.submitted(batch.name, id);
      }
      for (const key of batch.keys) this.inBatch.set(key, open);
      log('info', `run ${this.options.runId}: resuming batch ${open.id} (wave ${open.wave}, ${batch.keys.length} requests)`);
      this.background(this.pollUntilDone(open));
    }
  }

  setFilling(filling: boolean): void {
    if (this.filling === filling) return;
    this.filling = filling;
    if (!filling) this.check();
  }

  /** Runs one sample's calls; while it runs, it counts as in flight. */
  async track<T>(work: () => Promise<T>): Promise<T> {
    this.active++;
    try {
      return await work();
    } finally {
      this.active--;
      this.check();
    }
  }

  /** One request: answered from a batch already back, from a batch still out, or in the next wave. */
  async send(endpoint: ResolvedEndpoint, role: Role, body: Record<string, unknown>, signal?: AbortSignal): Promise<RawReply> {
    if (signal?.aborted || this.cancelled) throw new ModelError('cancelled', role, endpoint.model, 0, 'the request was cancelled');
    const hash = bodyHash(body);
    const scope = currentSample();
    const stage = role;
    const turn = scope?.nextTurn(stage) ?? 0;
    // Checked twice around the cache read: a batch's results are cached before it lets go of its requests.
    const joined = this.join(hash, scope?.sample, signal, endpoint.model, role);
    if (joined) return joined;
    const cached = (await this.options.cache.get(replyCacheKey(hash))) ?? (this.holds(hash) ? undefined : await this.options.cache.get(replyCacheKey(hash)));
    if (cached) return cached.value as RawReply;
    const again = this.join(hash, scope?.sample, signal, endpoint.model, role);
    if (again) return again;
    const target: BatchTarget = { baseURL: endpoint.baseURL, apiKeyEnv: endpoint.apiKeyEnv, model: endpoint.model };
    const ask: Ask = { hash, line: { custom_id: customId(scope?.sample, stage, turn, hash), method: 'POST', url: CHAT_COMPLETIONS, body }, target, role, attempts: 0, waiters: new Set() };
    const adopted = this.inBatch.get(hash);
    if (adopted) {
      // In a batch a previous process submitted: wait for it rather than send the request again.
      ask.attempts = 1;
      adopted.asks.set(hash, ask);
    } else {
      this.pending.set(hash, ask);
    }
    return this.join(hash, scope?.sample, signal, endpoint.model, role) as Promise<RawReply>;
  }

  private holds(hash: string): boolean {
    return this.pending.has(hash) || this.inBatch.has(hash);
  }

  /** Waits on a request already pending or in a batch, if it is. */
  private join(hash: string, sample: number | undefined, signal: AbortSignal | undefined, model: string, role: Role): Promise<RawReply> | undefined {
    let ask = this.pending.get(hash);
    const batch = ask ? undefined : this.inBatch.get(hash);
    if (!ask && !batch) return undefined;
    if (batch && !ask) {
      // A request a previous process submitted: this call now waits on it.
      ask = batch.asks.get(hash);
      if (!ask) return undefined;
    }
    const found = ask as Ask;
    return new Promise<RawReply>((resolve, reject) => {
      const onAbort = () => {
        this.drop(found, waiter);
        reject(new ModelError('cancelled', role, model, found.attempts, 'the request was cancelled'));
      };
      const waiter: Waiter = {
        sample,
        resolve,
        reject,
        unlink: () => signal?.removeEventListener('abort', onAbort),
      };
      found.waiters.add(waiter);
      if (sample !== undefined) this.waiting.set(sample, (this.waiting.get(sample) ?? 0) + 1);
      signal?.addEventListener('abort', onAbort, { once: true });
      if (signal?.aborted) return onAbort(); // aborted while the cache was read: the listener would never fire
      this.check();
    });
  }

  private drop(ask: Ask, waiter: Waiter): void {
    if (!ask.waiters.delete(waiter)) return;
    waiter.unlink();
    if (waiter.sample !== undefined) {
      const n = (this.waiting.get(waiter.sample) ?? 1) - 1;
      if (n > 0) this.waiting.set(waiter.sample, n);
      else this.waiting.delete(waiter.sample);
    }
    if (ask.waiters.size === 0 && this.pending.get(ask.hash) === ask) this.pending.delete(ask.hash);
  }

  private settle(ask: Ask, outcome: { reply: RawReply } | { error: Error }): void {
    for (const waiter of [...ask.waiters]) {
      this.drop(ask, waiter);
      if ('reply' in outcome) waiter.resolve(outcome.reply);
      else waiter.reject(outcome.error);
    }
  }

  /** Sends a wave when every sample in flight waits on the model; otherwise after a quiet spell. */
  private check(): void {
    if (this.pending.size === 0 || this.cancelled || this.stopping.signal.aborted) return;
    if (!this.filling && this.waiting.size >= this.active) {
      this.flush();
      return;
    }
    if (this.quietTimer) clearTimeout(this.quietTimer);
    this.quietTimer = setTimeout(() => {
      this.quietTimer = undefined;
      this.flush();
    }, this.options.settings.quiet_ms);
  }

  private flush(): void {
    if (this.quietTimer) clearTimeout(this.quietTimer);
    this.quietTimer = undefined;
    if (this.pending.size === 0 || this.cancelled || this.stopping.signal.aborted) return;
    const asks = [...this.pending.values()];
    this.pending.clear();
    const wave = ++this.wave;
    let part = 0;
    for (const group of groupBy(asks, (a) => JSON.stringify(a.target))) {
      for (const file of split(group, this.options.settings)) {
        part++;
        const name = `${this.options.runId}-w${String(wave).padStart(4, '0')}-${String(part).padStart(3, '0')}`;
        this.background(this.submit(name, wave, file));
      }
    }
    log('info', `run ${this.options.runId}: wave ${wave} sent: ${asks.length} requests in ${part} file${part === 1 ? '' : 's'}`);
  }

  private background(work: Promise<void>): void {
    const tracked = work.catch((error: unknown) => log('error', `run ${this.options.runId}: batch handling failed`, { error: String(error) }));
    this.work.add(tracked);
    void tracked.finally(() => this.work.delete(tracked));
  }

  private async submit(name: string, wave: number, asks: Ask[]): Promise<void> {
    const target = asks[0]!.target;
    const batch: OpenBatch = { name, wave, target, keys: asks.map((a) => a.hash), requests: asks.length, status: 'submitting', closed: false, asks: new Map(asks.map((a) => [a.hash, a])) };
    this.open.add(batch);
    this.statusCounts[batch.status] = (this.statusCounts[batch.status] ?? 0) + 1;
    for (const ask of asks) {
      ask.attempts++;
      this.inBatch.set(ask.hash, batch);
    }
    try {
      // Written down before the file goes, so a process that dies mid-submit finds the batch again.
      await this.options.ledger.submitting({ name, wave, target, keys: batch.keys });
      const content = asks.map((a) => JSON.stringify(a.line)).join('\n') + '\n';
      batch.id = await this.options.transportFor(target).submit({ name, content, requests: asks.length });
      this.setStatus(batch, 'submitted');
      await this.options.ledger.submitted(name, batch.id);
      if (this.cancelled) {
        // Cancelled while this file was on its way: cancel it as soon as it has an id.
        await this.cancelBatch(batch);
        return;
      }
    } catch (error) {
      if (this.stopping.signal.aborted) return;
      await this.close(batch, 'not_submitted', `could not submit: ${message(error)}`);
      return;
    }
    await this.pollUntilDone(batch);
  }

  private async pollUntilDone(batch: OpenBatch): Promise<void> {
    const transport = this.options.transportFor(batch.target);
    let wait = this.options.settings.poll_ms;
    while (!this.stopping.signal.aborted && !batch.closed) {
      try {
        await sleep(wait, this.stopping.signal);
      } catch {
        return; // the run stopped; the ledger keeps the batch for the next process
      }
      wait = Math.min(wait * 2, this.options.settings.max_poll_ms);
      let poll;
      try {
        poll = await transport.poll(batch.id as string);
      } catch (error) {
        log('warning', `run ${this.options.runId}: cannot poll batch ${batch.id}, will try again`, { error: message(error) });
        continue;
      }
      if (poll.status !== batch.status) {
        this.setStatus(batch, poll.status);
        await this.options.ledger.status(batch.name, poll.status);
      }
      if (!poll.done) continue;
      let lines: string[];
      try {
        lines = await transport.results(batch.id as string);
      } catch (error) {
        log('warning', `run ${this.options.runId}: cannot read the results of batch ${batch.id}, will try again`, { error: message(error) });
        continue;
      }
      await this.readResults(batch, lines);
      await this.close(batch, poll.status, `batch ${batch.id} ended ${poll.status} without a result for it`);
    }
  }

  /** Caches every answered line and resolves its waiters; failed lines go back for a later wave. */
  private async readResults(batch: OpenBatch, lines: string[]): Promise<void> {
    const answered: { hash: string; reply: RawReply }[] = [];
    for (const text of lines) {
      const result = parseResultLine(text);
      if (!result || this.inBatch.get(result.hash) !== batch) continue;
      if (result.ok) answered.push(result);
      else this.retry(batch, result.hash, result.error);
    }
    // All cached first (the cache writes them together), then let go: a call that finds none of them
    // in a batch any more finds it in the cache.
    await Promise.all(answered.map(({ hash, reply }) => this.options.cache.put(replyCacheKey(hash), { value: reply, model: reply.model ?? batch.target.model, usage: reply.usage })));
    for (const { hash, reply } of answered) {
      this.inBatch.delete(hash);
      const ask = batch.asks.get(hash);
      if (ask) this.settle(ask, { reply });
    }
    this.check();
  }

  /** Ends a batch: whatever it did not answer goes back for a later wave. */
  private async close(batch: OpenBatch, status: string, why: string): Promise<void> {
    for (const key of batch.keys) if (this.inBatch.get(key) === batch) this.retry(batch, key, why);
    this.setStatus(batch, status, true);
    // A closed batch is only counted from now on: its requests are let go, so memory stays bounded by what is out.
    batch.keys = [];
    batch.asks.clear();
    this.check();
    await this.options.ledger.closed(batch.name, status);
  }

  private setStatus(batch: OpenBatch, status: string, close = false): void {
    this.statusCounts[batch.status] = (this.statusCounts[batch.status] ?? 1) - 1;
    this.statusCounts[status] = (this.statusCounts[status] ?? 0) + 1;
    batch.status = status;
    if (close) {
      batch.closed = true;
      this.open.delete(batch);
    }
  }

  private retry(batch: OpenBatch, hash: string, why: string): void {
    this.inBatch.delete(hash);
    const ask = batch.asks.get(hash);
    if (!ask || ask.waiters.size === 0) return; // nobody waits on it now; a sample that asks again starts afresh
    if (ask.attempts >= this.options.settings.max_attempts) {
      this.settle(ask, { error: new ModelError('http', ask.role, ask.target.model, ask.attempts, `the batch request failed ${ask.attempts} time${ask.attempts === 1 ? '' : 's'}: ${why}`) });
      return;
    }
    log('info', `run ${this.options.runId}: request ${ask.line.custom_id} goes into the next wave (${why})`);
    this.pending.set(hash, ask);
  }

  /** Cancels the batches still out (at the provider, or by withdrawing the request files) and fails every waiting call. */
  cancel(): Promise<void> {
    this.cancelled ??= (async () => {
      if (this.quietTimer) clearTimeout(this.quietTimer);
      // A batch still without an id is cancelled by its submit, once it has one.
      for (const batch of [...this.open]) await this.cancelBatch(batch);
      const asks = [...this.pending.values(), ...[...this.inBatch.entries()].map(([hash, batch]) => batch.asks.get(hash))];
      for (const ask of asks) if (ask) this.settle(ask, { error: new ModelError('cancelled', ask.role, ask.target.model, ask.attempts, 'the run was cancelled') });
    })();
    return this.cancelled;
  }

  private async cancelBatch(batch: OpenBatch): Promise<void> {
    if (batch.closed || !batch.id) return;
    batch.closed = true; // before the request, so the batch is cancelled once
    this.open.delete(batch);
    try {
      await this.options.transportFor(batch.target).cancel(batch.id);
      this.setStatus(batch, 'cancelled');
      await this.options.ledger.closed(batch.name, 'cancelled');
    } catch (error) {
      log('warning', `run ${this.options.runId}: cannot cancel batch ${batch.id}`, { error: message(error) });
    }
  }

  /** Stops polling; batches still out stay in the ledger, so the run resumes them when started again. */
  async stop(): Promise<void> {
    if (this.quietTimer) clearTimeout(this.quietTimer);
    this.stopping.abort();
    await this.cancelled;
    await Promise.all([...this.work]);
    await this.options.ledger.close();
  }

  progress(): WaveProgress {
    const open: WaveProgress['open'] = [];
    for (const batch of this.open) if (batch.id) open.push({ id: batch.id, wave: batch.wave, status: batch.status, requests: batch.requests });
    const batches = Object.fromEntries(Object.entries(this.statusCounts).filter(([, n]) => n > 0));
    return { mode: this.options.mode, waves: this.wave, requests_waiting: this.pending.size, requests_in_batches: this.inBatch.size, batches, open: open.reverse().slice(0, 10) };
  }
}

function groupBy<T>(items: T[], key: (item: T) => string): T[][] {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const group = groups.get(k);
    if (group) group.push(item);
    else groups.set(k, [item]);
  }
  return [...groups.values()];
}

/** Files that fit the provider's limits on requests and bytes per file. */
function split(asks: Ask[], settings: BatchSettings): Ask[][] {
  const files: Ask[][] = [];
  let current: Ask[] = [];
  let bytes = 0;
  for (const ask of asks) {
    const size = Buffer.byteLength(JSON.stringify(ask.line)) + 1;
    if (current.length > 0 && (current.length >= settings.max_requests_per_file || bytes + size > settings.max_bytes_per_file)) {
      files.push(current);
      current = [];
      bytes = 0;
    }
    current.push(ask);
    bytes += size;
  }
  if (current.length > 0) files.push(current);
  return files;
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
