import { realpath } from 'node:fs/promises';
import { homedir } from 'node:os';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';

/**
 * The data folder. A client starts the server in a folder nobody chose, so the default is a
 * per-user location, never the working directory.
 */
export function defaultDataDir(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string {
  if (env.AIDSAFE_DATA_DIR) return env.AIDSAFE_DATA_DIR;
  if (platform === 'darwin') return join(homedir(), 'Library', 'Application Support', 'aidsafe-mcp');
  if (platform === 'win32' && env.APPDATA) return join(env.APPDATA, 'aidsafe-mcp');
  const base = env.XDG_DATA_HOME || join(homedir(), '.local', 'share');
  return join(base, 'aidsafe-mcp');
}

/** The built-in policies ship next to dist/ and src/ alike. */
export const builtinPoliciesDir = new URL('../policies/', import.meta.url);

/** The benchmark prompt sets used for decontamination ship beside them. */
export const builtinBenchmarksDir = new URL('../benchmarks/', import.meta.url);

/**
 * The real path of `path` when it lies inside one of `allowedDirs` (links resolved on both sides,
 * so a symlink cannot lead outside); otherwise undefined.
 */
export async function resolveInside(path: string, allowedDirs: readonly string[]): Promise<string | undefined> {
  let real: string;
  try {
    real = await realpath(resolve(path));
  } catch {
    return undefined;
  }
  for (const dir of allowedDirs) {
    let root: string;
    try {
      root = await realpath(resolve(dir));
    } catch {
      continue;
    }
    const rel = relative(root, real);
    if (rel === '' || (!rel.startsWith('..' + sep) && rel !== '..' && !isAbsolute(rel))) return real;
  }
  return undefined;
}
