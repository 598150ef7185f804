import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';

/** Names Chromium goes by on the PATH (Debian, Ubuntu and Fedora packages, Google's build). */
const NAMES = ['chromium', 'chromium-browser', 'google-chrome-stable', 'google-chrome'];

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/**
 * The Chromium the browser tests drive: AIDSAFE_CHROMIUM when it is set, else the first of NAMES on the
 * PATH. The suite never installs one; without it, the browser tests are skipped with the reason.
 */
export function findChromium(env: NodeJS.ProcessEnv = process.env): { path: string } | { reason: string } {
  const chosen = env.AIDSAFE_CHROMIUM;
  if (chosen) return executable(chosen) ? { path: chosen } : { reason: `AIDSAFE_CHROMIUM=${chosen} is not an executable file` };
  for (const dir of (env.PATH ?? '').split(delimiter).filter(Boolean)) {
    for (const name of NAMES) if (executable(join(dir, name))) return { path: join(dir, name) };
  }
  return { reason: `no Chromium on the PATH (${NAMES.join(', ')}) and AIDSAFE_CHROMIUM is not set; install one (Debian: apt-get install chromium) or point AIDSAFE_CHROMIUM at it` };
}

const found = findChromium();
/** Why the browser tests are skipped; undefined when a Chromium is there. */
export const NO_CHROMIUM: string | undefined = 'reason' in found ? found.reason : undefined;
if (NO_CHROMIUM) process.stderr.write(`browser tests skipped: ${NO_CHROMIUM}\n`);

export async function launchBrowser(): Promise<Browser> {
  if ('reason' in found) throw new Error(found.reason);
  return chromium.launch({
    executablePath: found.path,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
  });
}
