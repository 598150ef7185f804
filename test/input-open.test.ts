import { linkSync, mkdirSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readPromptFile } from '../src/inputs/read-prompts.js';
import { openInputFile } from '../src/paths.js';
import { tempDir } from './helpers/fixtures.js';

const root = tempDir();
afterAll(() => root.remove());

/** An allowed folder with a prompt file, and a secret outside it that reads as a prompt file too. */
function setUp(name: string) {
  const base = join(root.path, name);
  const allowed = join(base, 'allowed');
  mkdirSync(join(allowed, 'sub'), { recursive: true });
  const outside = join(base, 'outside');
  mkdirSync(outside);
  const secret = join(outside, 'prompts.csv');
  writeFileSync(secret, 'prompt\nSECRET FROM OUTSIDE\n');
  const file = join(allowed, 'sub', 'prompts.csv');
  writeFileSync(file, 'prompt\nan allowed prompt\n');
  /** Points the checked name at the secret: the file moves away and a link to the secret takes its name. */
  const swap = () => {
    renameSync(file, `${file}.moved`);
    symlinkSync(secret, file);
  };
  return { allowed, outside, secret, file, swap };
}

const prompts = async (input: Parameters<typeof readPromptFile>[0]) => (await readPromptFile(input)).rows.map((r) => r.prompt);

describe('an input file a client names, opened once and checked through its descriptor', () => {
  it('reads the file that was checked when its name is pointed outside after the check', async () => {
    const { allowed, file, swap } = setUp('after-check');
    const opened = await openInputFile(file, [allowed]);
    expect(opened.ok).toBe(true);
    if (!opened.ok) return;
    swap();
    // The name now leads outside: reading by it (what a check by name, then an open by name, did) gets the secret.
    expect(await prompts(file)).toEqual(['SECRET FROM OUTSIDE']);
    try {
      expect(await prompts(opened.file)).toEqual(['an allowed prompt']);
      // Every later pass (a run reads its rows again to resume) goes through the same descriptor.
      expect(await prompts(opened.file)).toEqual(['an allowed prompt']);
    } finally {
      await opened.file.close();
    }
  });

  it('refuses a name swapped for a link between the check and the open', async () => {
    const { allowed, file, swap } = setUp('before-open');
    expect(await openInputFile(file, [allowed], { afterCheck: async () => swap() })).toEqual({ ok: false, why: 'outside' });
  });

  it('refuses a folder on the path swapped for a link to the outside between the check and the open', async () => {
    const { allowed, outside, file } = setUp('folder-swap');
    const sub = join(allowed, 'sub');
    const swapFolder = async () => {
      renameSync(sub, `${sub}.moved`);
      symlinkSync(outside, sub);
    };
    expect(await openInputFile(file, [allowed], { afterCheck: swapFolder })).toEqual({ ok: false, why: 'outside' });
  });

  it('refuses when what was opened is no longer the file its real path names', async () => {
    const { allowed, file } = setUp('after-open');
    const replace = async () => {
      writeFileSync(`${file}.new`, 'prompt\nanother\n');
      renameSync(`${file}.new`, file);
    };
    expect(await openInputFile(file, [allowed], { afterOpen: replace })).toEqual({ ok: false, why: 'outside' });
  });

  it('takes a hard link inside an allowed folder: it is that file, wherever its other names are', async () => {
    const { allowed, secret } = setUp('hard-link');
    const hard = join(allowed, 'hard.csv');
    linkSync(secret, hard);
    const opened = await openInputFile(hard, [allowed]);
    expect(opened.ok).toBe(true);
    if (opened.ok) {
      expect(await prompts(opened.file)).toEqual(['SECRET FROM OUTSIDE']);
      await opened.file.close();
    }
  });

  it('still refuses a link that leads outside, and a missing file, by name', async () => {
    const { allowed, secret } = setUp('by-name');
    const link = join(allowed, 'link.csv');
    symlinkSync(secret, link);
    expect(await openInputFile(link, [allowed])).toEqual({ ok: false, why: 'outside' });
    expect(await openInputFile(join(allowed, 'none.csv'), [allowed])).toEqual({ ok: false, why: 'missing' });
    expect(await openInputFile(secret, [allowed])).toEqual({ ok: false, why: 'outside' });
  });
});
