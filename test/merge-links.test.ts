import { existsSync, lstatSync, readdirSync, readFileSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './helpers/cli.js';
import { BENCHMARKS, tempDir } from './helpers/fixtures.js';
import { ScriptedModelServer } from './helpers/scripted-model-server.js';

const xstest = fileURLToPath(new URL('xstest.jsonl', BENCHMARKS));
const json = (stdout: string) => JSON.parse(stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;

/** Every file under a folder, as text, following nothing. */
function contents(dir: string): string {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => readFileSync(join(e.parentPath, e.name), 'utf8'))
    .join('\n');
}

describe('merge of a source folder that holds symbolic links', () => {
  const server = new ScriptedModelServer();
  const root = tempDir();
  const source = join(root.path, 'source');
  const outside = join(root.path, 'outside');
  beforeAll(async () => {
    await server.start();
  });
  afterAll(async () => {
    await server.close();
    root.remove();
  });

  it('copies none of them, not even a run log, and lists each as skipped', async () => {
    const run = await runCli(['run', '--input', xstest, '--limit', '2', '--run-id', 'linked', '--concurrency', '2'], { OPENAI_BASE_URL: server.url, AIDSAFE_MODEL: 'scripted-model', AIDSAFE_DATA_DIR: source });
    expect(run.code, run.stderr).toBe(0);
    const log = join(source, 'runs', 'linked', 'samples.jsonl');
    // A secret outside the folder that reads as a run log, and the log replaced by a link to it.
    writeFileSync(outside, readFileSync(log, 'utf8') + JSON.stringify({ i: 99, s: 'started', record_id: 'cot_secret0000000', at: 'SECRET-OUTSIDE-FILE' }) + '\n');
    renameSync(log, `${log}.moved`);
    symlinkSync(outside, log);
    const recordLink = join(source, 'records', 'cot_linked0000000000.json');
    symlinkSync(outside, recordLink);
    const cacheLink = join(source, 'cache', 'linked.jsonl');
    symlinkSync(outside, cacheLink);

    const into = join(root.path, 'merged');
    const result = await runCli(['merge', '--from', source, '--into', into], {});
    expect(result.code, result.stderr).toBe(0);
    expect(contents(into)).not.toContain('SECRET-OUTSIDE-FILE');
    expect(existsSync(join(into, 'runs', 'linked'))).toBe(false);
    const report = json(result.stdout) as { links: string[]; runs: { total: number }; records: { copied: number } };
    expect([...report.links].sort()).toEqual([cacheLink, log, recordLink].sort());
    expect(result.stderr).toContain('skipped 3 symbolic links (merge copies no links)');
    expect(report.runs.total).toBe(0);
    expect(report.records.copied).toBe(2);
    for (const entry of readdirSync(into, { recursive: true, withFileTypes: true })) expect(lstatSync(join(entry.parentPath, entry.name)).isSymbolicLink()).toBe(false);
  });

  it('does not follow a source folder whose records/ is itself a link', async () => {
    const second = join(root.path, 'second');
    const run = await runCli(['run', '--input', xstest, '--limit', '1', '--concurrency', '1'], { OPENAI_BASE_URL: server.url, AIDSAFE_MODEL: 'scripted-model', AIDSAFE_DATA_DIR: second });
    expect(run.code, run.stderr).toBe(0);
    renameSync(join(second, 'records'), join(root.path, 'elsewhere'));
    symlinkSync(join(root.path, 'elsewhere'), join(second, 'records'));
    const result = await runCli(['merge', '--from', second, '--into', join(root.path, 'merged-2')], {});
    expect(result.code, result.stderr).toBe(0);
    const report = json(result.stdout) as { links: string[]; records: { copied: number } };
    expect(report.links).toEqual([join(second, 'records')]);
    expect(report.records.copied).toBe(0);
  });
});
