import { createServer, type RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll } from 'vitest';
import { BENCHMARKS, tempDir } from './fixtures.js';
import { ScriptedModelServer } from './scripted-model-server.js';

export interface EvalTargetStand {
  /** The scripted server the judge roles are pointed at. */
  judge: ScriptedModelServer;
  data: { path: string; remove: () => void };
  /** The target's origin, http://127.0.0.1:PORT, once the file's beforeAll has run. */
  readonly base: string;
}

/**
 * An evaluation target someone else runs, answering as `handle` does, on a loopback port, beside a
 * scripted judge and a fresh data folder, with the suites read from benchmarks/: started before the
 * calling file's tests and closed after them (`beforeClose` first, for replies left hanging).
 */
export function evalTargetStand(handle: RequestListener, beforeClose?: () => void): EvalTargetStand {
  const target = createServer(handle);
  const judge = new ScriptedModelServer({ latencyMs: 1 });
  const data = tempDir();
  let base = '';
  beforeAll(async () => {
    await judge.start();
    await new Promise<void>((resolve) => target.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(target.address() as AddressInfo).port}`;
    process.env.AIDSAFE_SUITES_DIR = fileURLToPath(BENCHMARKS);
  });
  afterAll(async () => {
    delete process.env.AIDSAFE_SUITES_DIR;
    beforeClose?.();
    target.closeAllConnections();
    await new Promise((resolve) => target.close(resolve));
    await judge.close();
    data.remove();
  });
  return {
    judge,
    data,
    get base() {
      return base;
    },
  };
}
