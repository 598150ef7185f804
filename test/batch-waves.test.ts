import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { BatchLedger } from '../src/llm/batch/batch-ledger.js';
import { DirectoryTransport } from '../src/llm/batch/directory-transport.js';
import { WaveCollector } from '../src/llm/batch/wave-collector.js';
import { RequestCache } from '../src/llm/request-cache.js';
import { tempDir } from './helpers/fixtures.js';

describe('wave collector', () => {
  const data = tempDir();
  afterAll(() => data.remove());

  it('a call cancelled while the cache is read is rejected, not left waiting for a wave that never comes', async () => {
    const cache = await new RequestCache(join(data.path, 'cache')).open();
    const waves = new WaveCollector({
      runId: 'run-abort',
      settings: { ...loadConfig({}).batch, quiet_ms: 60_000 },
      cache,
      ledger: new BatchLedger(join(data.path, 'batches.jsonl')),
      transportFor: () => new DirectoryTransport(join(data.path, 'waves')),
      mode: 'files',
    });
    const controller = new AbortController();
    const endpoint = { model: 'm', baseURL: 'http://127.0.0.1:9/v1', apiKeyEnv: 'OPENAI_API_KEY', temperature: undefined };
    const call = waves.track(() => waves.send(endpoint, 'intents', { model: 'm', messages: [] }, controller.signal));
    controller.abort(); // the call is now awaiting the cache
    const outcome = await Promise.race([call.then(() => 'answered', (e: Error) => e.message), new Promise((r) => setTimeout(() => r('still waiting'), 2_000))]);
    expect(outcome).toMatch(/cancelled/);
    await waves.stop();
    await cache.close();
  });
});
