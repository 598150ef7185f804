import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './helpers/cli.js';
import { BENCHMARKS, tempDir } from './helpers/fixtures.js';
import { ScriptedModelServer } from './helpers/scripted-model-server.js';
import { fileURLToPath } from 'node:url';

describe('eval targets served at one host:port under different paths', () => {
  const server = new ScriptedModelServer();
  const data = tempDir();
  let env: NodeJS.ProcessEnv;
  let origin = '';
  beforeAll(async () => {
    await server.start();
    origin = new URL(server.url).origin;
    env = { OPENAI_BASE_URL: server.url, AIDSAFE_MODEL: 'judge-model', AIDSAFE_DATA_DIR: data.path, AIDSAFE_SUITES_DIR: fileURLToPath(BENCHMARKS) };
  });
  afterAll(async () => {
    await server.close();
    data.remove();
  });

  const evaluate = async (path: string) => {
    const result = await runCli(['eval', '--target', `${origin}${path}`, '--model', 'base-model', '--suite', 'xstest', '--limit', '3', '--json'], env);
    expect(result.code, result.stderr).toBe(0);
    return JSON.parse(result.stdout) as { eval_id: string; status: string };
  };
  const asked = () => server.requests.filter((r) => r.role === 'target').length;

  it('are two evaluations: the second asks its own server instead of resuming the first', async () => {
    const a = await evaluate('/a/v1');
    expect(a.status).toBe('done');
    expect(asked()).toBe(3);
    const b = await evaluate('/b/v1/');
    expect(b.status).toBe('done');
    expect(b.eval_id).not.toBe(a.eval_id);
    // Not answered from the first target's cached replies either: the same model name there may be another model.
    expect(asked()).toBe(6);
    // The same target again, however its URL is written, is the same evaluation.
    const again = await evaluate('/a/v1/');
    expect(again.eval_id).toBe(a.eval_id);
    expect(asked()).toBe(6);
  });
});
