import { loadConfig, type Config } from './config.js';
import type { FailureKind } from './llm/retry.js';
import { ModelRouter, type ModelFactory } from './llm/model-router.js';
import { builtinPoliciesDir } from './paths.js';
import { PolicySet } from './policies/policy-set.js';
import { RecordStore } from './store/record-store.js';

/** What every tool works with. Built once at start; tests build their own with a temporary data folder. */
export interface AppContext {
  config: Config;
  policies: PolicySet;
  store: RecordStore;
  models: ModelRouter;
}

export async function createContext(options: { config?: Config; modelFactory?: ModelFactory; onRetry?: (kind: FailureKind, delayMs: number) => void } = {}): Promise<AppContext> {
  const config = options.config ?? loadConfig();
  const policies = PolicySet.load(builtinPoliciesDir, config.policiesDirs);
  const store = new RecordStore(config.dataDir);
  await store.init();
  return { config, policies, store, models: new ModelRouter(config, options.modelFactory, options.onRetry) };
}
