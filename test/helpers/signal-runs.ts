import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll } from 'vitest';
import { cliJs } from './cli.js';
import { BENCHMARKS } from './fixtures.js';
import { serverJs } from './raw-stdio.js';
import { ScriptedModelServer } from './scripted-model-server.js';

/** The rows the signalled runs take. */
export const xstest = fileURLToPath(new URL('xstest.jsonl', BENCHMARKS));

/**
 * The model server for runs stopped by a signal: slow enough that a signal finds the run with samples
 * in flight. Started before the calling file's tests (once dist/ is known to be built), closed after.
 */
export function slowModelForSignals(): ScriptedModelServer {
  const model = new ScriptedModelServer({ latencyMs: 150 });
  beforeAll(async () => {
    if (!existsSync(cliJs) || !existsSync(serverJs)) throw new Error('dist/ is missing: run `npm run build` first (npm test does it)');
    await model.start();
  });
  afterAll(() => model.close());
  return model;
}

export async function until(condition: () => boolean, timeoutMs = 15_000): Promise<void> {
  const start = Date.now();
  while (!condition()) {
    if (Date.now() - start > timeoutMs) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 20));
  }
}

export const manifestOf = (dataDir: string, runId: string) => JSON.parse(readFileSync(join(dataDir, 'runs', runId, 'run.json'), 'utf8')) as { status: string; stop_reason?: string };
