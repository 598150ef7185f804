import { join } from 'node:path';
import { loadConfig, type Config } from './config.js';
import { ModelRouter, type ModelFactory } from './llm/model-router.js';
import { RequestCache } from './llm/request-cache.js';
import type { FailureKind } from './llm/retry.js';
import { InputError } from './errors.js';
import { builtinPoliciesDir, makeDataFolder, notWritable } from './paths.js';
import type { BatchRun } from './pipeline/batch.js';
import { PolicySet } from './policies/policy-set.js';
import { RecordStore } from './store/record-store.js';
import { RunStore } from './store/run-store.js';
import { userPoliciesDir } from './store/user-policies.js';

/** What every tool works with. Built once at start; tests build their own with a temporary data folder. */
export interface AppContext {
  config: Config;
  policies: PolicySet;
  store: RecordStore;
  runs: RunStore;
  models: ModelRouter;
  /** True on an MCP connection whose models are the client's own (sampling): no server to check before a run. */
  modelsFromClient?: boolean;
  /** The request cache of batch runs, opened (indexed) on first use. */
  requestCache: () => Promise<RequestCache>;
  /** Batch runs started by this process, by run id. */
  batches: Map<string, BatchRun>;
  /** Set when this connection's client roots are not folders it may read (HTTP, unless trusted): the reason, for refusals. */
  rootsIgnored?: string;
  /** Closes open files (the request cache); call before the process ends. */
  close: () => Promise<void>;
}

export async function createContext(options: { config?: Config; modelFactory?: ModelFactory; onRetry?: (kind: FailureKind, delayMs: number) => void } = {}): Promise<AppContext> {
  const config = options.config ?? loadConfig();
  const policies = PolicySet.load(builtinPoliciesDir, [...config.policiesDirs, userPoliciesDir(config.dataDir)]);
  const store = new RecordStore(config.dataDir);
  await makeDataFolder(config.dataDir);
  await store.init().catch((error: NodeJS.ErrnoException) => {
    throw new InputError(notWritable('AIDSAFE_DATA_DIR', config.dataDir, error));
  });
  let cache: Promise<RequestCache> | undefined;
  return {
    config,
    policies,
    store,
    runs: new RunStore(config.dataDir),
    models: new ModelRouter(config, options.modelFactory, options.onRetry),
    requestCache: () => (cache ??= new RequestCache(join(config.dataDir, 'cache')).open()),
    batches: new Map(),
    close: async () => {
      if (cache) await (await cache).close();
    },
  };
}
