import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { notWritable } from '../src/paths.js';
import { startCli, type CliResult } from './helpers/cli.js';
import { tempDir } from './helpers/fixtures.js';
import { ScriptedModelServer } from './helpers/scripted-model-server.js';

/** The CLI, stopped after `ms` if it has not ended by then (a hang is the failure these tests look for). */
async function cliWithin(ms: number, args: string[], env: NodeJS.ProcessEnv): Promise<CliResult & { ms: number }> {
  const started = Date.now();
  const { child, done } = startCli(args, env);
  const timer = setTimeout(() => child.kill('SIGKILL'), ms);
  const result = await done;
  clearTimeout(timer);
  return { ...result, ms: Date.now() - started };
}

const data = tempDir();
afterAll(() => data.remove());

describe('a data folder or merge target under /proc, /sys or /dev', () => {
  it('is refused at once with a message, not spun on', async () => {
    for (const dir of ['/proc/aidsafe-test/data', '/sys/aidsafe-test', '/dev/aidsafe-test/data']) {
      const result = await cliWithin(15_000, ['runs'], { AIDSAFE_DATA_DIR: dir });
      expect(result.signal, `${dir} hung`).toBeNull();
      expect(result.code).not.toBe(0);
      expect(result.stderr).toContain(`the data folder ${dir} is under /proc, /sys or /dev; set AIDSAFE_DATA_DIR to an ordinary folder`);
    }
    const source = join(data.path, 'source');
    mkdirSync(join(source, 'records'), { recursive: true });
    const merge = await cliWithin(15_000, ['merge', '--from', source, '--into', '/proc/aidsafe-test/merged'], {});
    expect(merge.signal, 'merge hung').toBeNull();
    expect(merge.code).not.toBe(0);
    expect(merge.stderr).toContain('--into /proc/aidsafe-test/merged is under /proc, /sys or /dev; give --into an ordinary folder');
  });

  it('is refused through a link that leads there', async () => {
    const link = join(data.path, 'to-proc');
    execFileSync('ln', ['-s', '/proc', link]);
    const result = await cliWithin(15_000, ['runs'], { AIDSAFE_DATA_DIR: join(link, 'aidsafe', 'data') });
    expect(result.signal).toBeNull();
    expect(result.stderr).toContain('is under /proc, /sys or /dev');
  });
});

describe('a data folder that cannot be written', () => {
  it('says the folder is not writable and why, for each way a write fails', () => {
    const error = (code: string) => Object.assign(new Error(code), { code });
    expect(notWritable('AIDSAFE_DATA_DIR', '/data', error('EROFS'))).toBe('the data folder /data is not writable: it is on a read-only file system (EROFS); set AIDSAFE_DATA_DIR to a folder this user can write');
    expect(notWritable('AIDSAFE_DATA_DIR', '/data', error('EACCES'))).toMatch(/^the data folder \/data is not writable: permission denied \(EACCES\)/);
    expect(notWritable('AIDSAFE_DATA_DIR', '/data', error('EPERM'))).toMatch(/not writable: permission denied \(EPERM\)/);
    // Node's recursive mkdir on a read-only mount answers ENOENT; so does a folder that is gone right after it was made.
    expect(notWritable('AIDSAFE_DATA_DIR', '/data', error('ENOENT'))).toMatch(/not writable: it could not be made \(read-only, or its mount went away\) \(ENOENT\)/);
    expect(notWritable('--into', '/merged', error('EIO'))).toBe('--into /merged is not writable: EIO; give --into a folder this user can write');
  });

  it('names a data folder below a file', async () => {
    const file = join(data.path, 'a-file');
    writeFileSync(file, 'not a folder\n');
    const result = await cliWithin(15_000, ['runs'], { AIDSAFE_DATA_DIR: join(file, 'data') });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain(`the data folder ${join(file, 'data')} is not writable: a part of the path is a file, not a folder (ENOTDIR)`);
  });

  it('names a read-only data folder as not writable, one to be made and one there already that a run writes into', async () => {
    // chmod does not stop root; the immutable attribute does, where the file system has it.
    const readOnly = join(data.path, 'read-only');
    const existing = join(data.path, 'existing');
    mkdirSync(readOnly);
    mkdirSync(join(existing, 'records'), { recursive: true });
    const input = join(data.path, 'prompts.csv');
    writeFileSync(input, 'prompt\nhello\n');
    const folders = [readOnly, existing];
    for (const dir of folders) chmodSync(dir, 0o555);
    const root = process.getuid?.() === 0;
    let immutable = false;
    if (root) {
      try {
        for (const dir of folders) execFileSync('chattr', ['+i', dir], { stdio: 'ignore' });
        immutable = true;
      } catch {
        // no chattr or no right to use it: only the message mapping above can be checked here
      }
    }
    // A model server that answers, so that the run gets past its endpoint check to the data folder.
    const model = await new ScriptedModelServer().start();
    try {
      const made = await cliWithin(15_000, ['runs'], { AIDSAFE_DATA_DIR: join(readOnly, 'data') });
      const run = await cliWithin(15_000, ['run', '--input', input], { AIDSAFE_DATA_DIR: existing, OPENAI_BASE_URL: model.url, AIDSAFE_MODEL: 'm' });
      if (!root || immutable) {
        expect(made.code).not.toBe(0);
        expect(made.stderr).toMatch(new RegExp(`the data folder ${join(readOnly, 'data')} is not writable: permission denied \\((EACCES|EPERM)\\)`));
        expect(existsSync(join(readOnly, 'data'))).toBe(false);
        expect(run.code).not.toBe(0);
        expect(run.stderr).toMatch(new RegExp(`the data folder ${existing} is not writable: permission denied \\((EACCES|EPERM)\\); set AIDSAFE_DATA_DIR`));
      } else expect(made.code, made.stderr).toBe(0);
    } finally {
      await model.close();
      if (immutable) for (const dir of folders) execFileSync('chattr', ['-i', dir]);
      for (const dir of folders) chmodSync(dir, 0o755);
    }
  });

  it('refuses to merge into a folder it cannot write, before writing anything', async () => {
    const source = join(data.path, 'merge-source');
    mkdirSync(join(source, 'records'), { recursive: true });
    writeFileSync(join(source, 'records', 'cot_0123456789abcdef.json'), '{"id":"cot_0123456789abcdef"}');
    const file = join(data.path, 'merge-file');
    writeFileSync(file, '');
    const result = await cliWithin(15_000, ['merge', '--from', source, '--into', join(file, 'merged')], {});
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain(`--into ${join(file, 'merged')} is not writable: a part of the path is a file, not a folder (ENOTDIR); give --into a folder this user can write`);
  });
});
