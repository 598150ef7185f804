import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './helpers/cli.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { connectClient, contextFor, BENCHMARKS, tempDir } from './helpers/fixtures.js';
import { HubStandIn } from './helpers/hub-stand-in.js';
import { ScriptedModelServer } from './helpers/scripted-model-server.js';

const TOKEN = 'hf_test_secret_token_4b2f9d';

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

describe('export --push-to-hub against a loopback stand-in for the Hub', () => {
  const data = tempDir();
  const model = new ScriptedModelServer();
  const hub = new HubStandIn(TOKEN);
  let env: NodeJS.ProcessEnv;
  beforeAll(async () => {
    await model.start();
    await hub.start();
    env = { OPENAI_BASE_URL: model.url, AIDSAFE_MODEL: 'scripted-model', AIDSAFE_DATA_DIR: data.path, HF_ENDPOINT: hub.url };
    const run = await runCli(['run', '--input', fileURLToPath(new URL('xstest.jsonl', BENCHMARKS)), '--limit', '12', '--run-id', 'hub-run'], env);
    expect(run.code, run.stderr).toBe(0);
  });
  afterAll(async () => {
    await model.close();
    await hub.close();
    data.remove();
  });

  it('uploads the split files and the card as README.md in one commit, creating a private dataset repo', async () => {
    const out = join(data.path, 'hub', 'sft.jsonl');
    const result = await runCli(['export', '--format', 'sft', '--out', out, '--split', 'train=0.5,test=0.5', '--push-to-hub', 'safety-lab/xstest-cot', '--private'], { ...env, HF_TOKEN: TOKEN });
    expect(result.code, result.stderr).toBe(0);
    const printed = JSON.parse(result.stdout) as { hub: { url: string; commit: string } };
    expect(printed.hub).toEqual({ url: `${hub.url}/datasets/safety-lab/xstest-cot`, commit: 'c1' });
    const repo = hub.repos.get('safety-lab/xstest-cot')!;
    expect(repo.private).toBe(true);
    expect(repo.commits).toHaveLength(1);
    const files = repo.commits[0]!.files;
    expect([...files.keys()].sort()).toEqual(['README.md', 'sft.test.jsonl', 'sft.train.jsonl']);
    expect(files.get('sft.train.jsonl')!.equals(readFileSync(join(data.path, 'hub', 'sft.train.jsonl')))).toBe(true);
    expect(files.get('README.md')!.toString()).toContain('path: sft.train.jsonl');
    // A second push to the same repo is a new commit, not an error.
    const again = await runCli(['export', '--format', 'sft', '--out', out, '--push-to-hub', 'safety-lab/xstest-cot'], { ...env, HF_TOKEN: TOKEN });
    expect(again.code, again.stderr).toBe(0);
    expect(repo.commits).toHaveLength(2);
  });

  it('the token is sent only to the Hub: never printed, stored in the data folder or written into the export', async () => {
    expect(hub.requests.every((r) => r.authorization === `Bearer ${TOKEN}`)).toBe(true);
    for (const file of filesUnder(data.path)) expect(readFileSync(file).includes(TOKEN), file).toBe(false);
  });

  it('a missing token, a 403 or an unreachable Hub is a clear error (exit 1) and leaves the local export in place', async () => {
    const out = join(data.path, 'fail', 'dpo.jsonl');
    const cases: [NodeJS.ProcessEnv, RegExp][] = [
      [env, /push_to_hub: HF_TOKEN is not set/],
      [{ ...env, HF_TOKEN: 'hf_wrong' }, /rejected HF_TOKEN \(401\)/],
      [{ ...env, HF_TOKEN: TOKEN, HF_ENDPOINT: 'http://127.0.0.1:9' }, /cannot reach the Hub at http:\/\/127.0.0.1:9/],
    ];
    hub.forbidden = false;
    for (const [e, message] of cases) {
      const result = await runCli(['export', '--format', 'aidsafe', '--out', out, '--push-to-hub', 'safety-lab/other'], e);
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(message);
      expect(result.stderr).toContain(`The export is in place: ${out}`);
      expect(result.stderr + result.stdout).not.toContain(TOKEN);
      expect(readFileSync(out, 'utf8').split('\n').filter(Boolean)).toHaveLength(12);
    }
    hub.forbidden = true;
    const forbidden = await runCli(['export', '--format', 'aidsafe', '--out', out, '--push-to-hub', 'someone-else/data'], { ...env, HF_TOKEN: TOKEN });
    expect(forbidden.code).toBe(1);
    expect(forbidden.stderr).toMatch(/may not write to someone-else\/data \(403\)/);
    hub.forbidden = false;
    const bad = await runCli(['export', '--format', 'sft', '--out', out, '--push-to-hub', 'no-slash'], env);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--push-to-hub must be OWNER\/NAME/);
  });

  it('export_dataset (MCP) pushes with push_to_hub and private, reading HF_TOKEN from the server’s environment', async () => {
    const saved = { token: process.env.HF_TOKEN, endpoint: process.env.HF_ENDPOINT };
    const { client, close } = await connectClient(await contextFor(model.url, data.path));
    const call = async (args: Record<string, unknown>) => (await client.callTool({ name: 'export_dataset', arguments: args })) as CallToolResult;
    try {
      process.env.HF_ENDPOINT = hub.url;
      delete process.env.HF_TOKEN;
      const missing = await call({ format: 'sft', run_id: 'hub-run', push_to_hub: 'safety-lab/from-chat' });
      expect(missing.isError).toBe(true);
      expect((missing.content[0] as { text: string }).text).toMatch(/HF_TOKEN is not set.*The export is in place: .*exports/);
      process.env.HF_TOKEN = TOKEN;
      const pushed = await call({ format: 'sft', run_id: 'hub-run', file_type: 'parquet', push_to_hub: 'safety-lab/from-chat', private: true });
      expect(pushed.isError, JSON.stringify(pushed.content)).toBeFalsy();
      expect(pushed.structuredContent).toMatchObject({ hub: { url: `${hub.url}/datasets/safety-lab/from-chat`, commit: 'c1' } });
      expect(JSON.stringify(pushed)).not.toContain(TOKEN);
      expect([...hub.repos.get('safety-lab/from-chat')!.commits[0]!.files.keys()].sort()).toEqual(['README.md', 'sft.parquet']);
      const bad = await call({ format: 'sft', push_to_hub: 'nope' });
      expect((bad.content[0] as { text: string }).text).toMatch(/push_to_hub must be OWNER\/NAME/);
    } finally {
      await close();
      if (saved.token === undefined) delete process.env.HF_TOKEN;
      else process.env.HF_TOKEN = saved.token;
      if (saved.endpoint === undefined) delete process.env.HF_ENDPOINT;
      else process.env.HF_ENDPOINT = saved.endpoint;
    }
  });
});
