import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { Config } from '../../config.js';
import { log } from '../../log.js';
import type { ModelFactory } from '../model-router.js';
import type { RequestCache } from '../request-cache.js';
import { parseResultLine, replyCacheKey } from './batch-line.js';
import { BatchChatModel } from './batch-chat-model.js';
import { BatchLedger, type BatchTarget } from './batch-ledger.js';
import { DirectoryTransport } from './directory-transport.js';
import { ProviderTransport } from './provider-transport.js';
import { inSampleScope } from './sample-scope.js';
import type { BatchTransport } from './transport.js';
import { WaveCollector, type WaveProgress } from './wave-collector.js';


/** How a run sends its model calls in batch mode: to the provider's Batch API, or as files in a folder (plus results files given by hand). */
export type BatchMode = { kind: 'api' } | { kind: 'files'; dir: string; results?: string[] };

/** What the run engine sees of batch mode: models to use, a scope per sample, progress, cancel and stop. */
export interface BatchBackend {
  factory: ModelFactory;
  /** Runs one sample's model calls; the sample counts as in flight until they are over. */
  track<T>(sample: number, work: () => Promise<T>): Promise<T>;
  /** The engine is still starting samples (true) or has all it may start for now (false): a wave waits for the samples on their way. */
  filling(filling: boolean): void;
  progress(): WaveProgress;
  /** Cancels the batches still out. */
  cancel(): Promise<void>;
  /** Stops polling; batches still out are resumed by the next process that runs the run. */
  stop(): Promise<void>;
}

export async function openBatchBackend(options: { mode: BatchMode; config: Config; runId: string; runDir: string; cache: RequestCache }): Promise<BatchBackend> {
  const { mode, config, cache } = options;
  if (mode.kind === 'files') for (const file of mode.results ?? []) await importResults(file, cache);
  const transports = new Map<string, BatchTransport>();
  const folder = mode.kind === 'files' ? new DirectoryTransport(resolve(mode.dir)) : undefined;
  const transportFor = (target: BatchTarget): BatchTransport => {
    if (folder) return folder;
    const key = `${target.baseURL ?? ''}\0${target.apiKeyEnv}`;
    let transport = transports.get(key);
    if (!transport) {
      transport = new ProviderTransport({ model: target.model, baseURL: target.baseURL, apiKeyEnv: target.apiKeyEnv, temperature: undefined }, config.requestTimeoutMs);
      transports.set(key, transport);
    }
    return transport;
  };
  const waves = new WaveCollector({
    runId: options.runId,
    settings: config.batch,
    cache,
    ledger: new BatchLedger(join(options.runDir, 'batches.jsonl')),
    transportFor,
    mode: folder ? 'files' : 'provider',
  });
  await waves.resume();
  return {
    factory: (endpoint) => new BatchChatModel(endpoint, waves, { maxRepairs: config.maxRepairs, needsKey: !folder }),
    track: (sample, work) => waves.track(() => inSampleScope(sample, work)),
    filling: (filling) => waves.setFilling(filling),
    progress: () => waves.progress(),
    cancel: () => waves.cancel(),
    stop: () => waves.stop(),
  };
}

/** A results file given by hand: each answered line goes into the request cache, so its request is never sent. */
async function importResults(file: string, cache: RequestCache): Promise<void> {
  const path = resolve(file);
  const text = await readFile(path, 'utf8');
  let answered = 0;
  let failed = 0;
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    const result = parseResultLine(line);
    if (!result) continue;
    if (!result.ok) {
      failed++;
      continue;
    }
    await cache.put(replyCacheKey(result.hash), { value: result.reply, model: result.reply.model ?? 'unknown', usage: result.reply.usage });
    answered++;
  }
  log('info', `batch results ${path}: ${answered} answers read${failed ? `, ${failed} failed lines (their requests go into a later wave)` : ''}`, { dir: dirname(path) });
}
