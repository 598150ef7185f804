import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { findChromium } from './helpers/browser.js';
import { tempDir } from './helpers/fixtures.js';

describe('the browser tests find Chromium, and never install it', () => {
  const dir = tempDir();
  afterAll(() => dir.remove());
  const bin = join(dir.path, 'bin');
  mkdirSync(bin);
  const fake = join(bin, 'chromium-browser');
  writeFileSync(fake, '#!/bin/sh\n');
  chmodSync(fake, 0o755);
  const notExecutable = join(dir.path, 'chrome.txt');
  writeFileSync(notExecutable, '');

  it('takes AIDSAFE_CHROMIUM first, then the PATH', () => {
    expect(findChromium({ AIDSAFE_CHROMIUM: fake, PATH: '' })).toEqual({ path: fake });
    expect(findChromium({ PATH: `/nonexistent:${bin}` })).toEqual({ path: fake });
  });

  it('gives a reason to skip when there is none', () => {
    expect(findChromium({ PATH: dir.path })).toEqual({ reason: expect.stringContaining('no Chromium on the PATH (chromium, chromium-browser, google-chrome-stable, google-chrome) and AIDSAFE_CHROMIUM is not set') });
    expect(findChromium({ AIDSAFE_CHROMIUM: notExecutable, PATH: bin })).toEqual({ reason: `AIDSAFE_CHROMIUM=${notExecutable} is not an executable file` });
  });
});
