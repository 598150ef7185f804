import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { cliAgainst } from './helpers/fixtures.js';
import { cliJs, type CliResult } from './helpers/cli.js';
import { ScriptedModelServer } from './helpers/scripted-model-server.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const readme = readFileSync(join(root, 'README.md'), 'utf8');

/** The `node dist/cli.js …` lines of the README's first-dataset walkthrough, as argument lists. */
function walkthroughCommands(): string[][] {
  const section = readme.slice(readme.indexOf('## A first dataset in under five minutes'));
  const block = /```sh\n([\s\S]*?)```/.exec(section)![1]!;
  return block
    .split('\n')
    .filter((line) => line.startsWith('node dist/cli.js '))
    .map((line) => line.replace(/\s+#.*$/, '').split(/\s+/).slice(2));
}

function cli(args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<CliResult> {
  const child = spawn(process.execPath, [cliJs, ...args], { cwd, env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  return new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })));
}

/** The README's walkthrough, followed as written from a folder that holds the shipped benchmarks/, against the scripted server. */
describe('README: a first dataset in under five minutes', () => {
  const server = new ScriptedModelServer();
  const { data, env } = cliAgainst(server);

  it('runs, exports and reports, each command as the README gives it', async () => {
    const commands = walkthroughCommands();
    expect(commands.map((args) => args[0])).toEqual(['run', 'export', 'report']);
    const clone = join(data.path, 'clone');
    const dataDir = join(data.path, 'data');
    mkdirSync(clone);
    symlinkSync(join(root, 'benchmarks'), join(clone, 'benchmarks'), 'dir');
    const runEnv = { ...env, AIDSAFE_DATA_DIR: dataDir };

    const [run, exported, report] = commands as [string[], string[], string[]];
    const ran = await cli(run, clone, runEnv);
    expect(ran.code, ran.stderr).toBe(0);
    expect(JSON.parse(ran.stdout)).toMatchObject({ run_id: 'first-run', status: 'done', total: 10, done: 10, failed: 0 });
    expect(server.callsFor('grading')).toHaveLength(10);

    const out = await cli(exported, clone, runEnv);
    expect(out.code, out.stderr).toBe(0);
    const result = JSON.parse(out.stdout) as { count: number; card: string; files: { path: string }[] };
    expect(result.count).toBe(10);
    expect(result.card).toBe(join(clone, 'first-run', 'README.md'));
    // The card's configs name the data file, so datasets.load_dataset("first-run") finds it.
    expect(readFileSync(result.card, 'utf8')).toMatch(/configs:[\s\S]*path: sft\.jsonl/);
    const rows = readFileSync(join(clone, 'first-run', 'sft.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { completion: { content: string }[] });
    expect(rows).toHaveLength(10);
    for (const row of rows) expect(row.completion[0]!.content).toMatch(/^<think>\n[\s\S]+\n<\/think>\n\n\S/);

    const reported = await cli(report, clone, runEnv);
    expect(reported.code, reported.stderr).toBe(0);
    expect(JSON.parse(reported.stdout)).toMatchObject({ path: join(clone, 'first-run', 'report.html'), samples: 10 });
    expect(existsSync(join(clone, 'first-run', 'report.html'))).toBe(true);
    expect(readFileSync(join(clone, 'first-run', 'report.html'), 'utf8')).toMatch(/^<!doctype html>/i);
  }, 120_000);
});
