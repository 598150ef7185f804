import { realpath, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';

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

/** Never input, whatever folder a client declares: the process's environment, kernel state, devices. */
const SYSTEM_DIRS = ['/proc', '/sys', '/dev'];

export type InputPathCheck =
  | { ok: true; path: string }
  | { ok: false; why: 'outside' | 'missing' | 'system' | 'not_a_file' };

/**
 * Whether a client may have `path` read as an input file: its real path (every link resolved) must lie
 * inside one of `allowedDirs`, outside /proc, /sys and /dev, and be a regular file. Whether a path
 * exists is told only for paths inside an allowed folder, so a client cannot probe the disk.
 */
export async function checkInputPath(path: string, allowedDirs: readonly string[]): Promise<InputPathCheck> {
  try {
    await realpath(resolve(path));
  } catch {
    const parent = await resolveInside(dirname(resolve(path)), allowedDirs);
    return { ok: false, why: parent ? 'missing' : 'outside' };
  }
  const real = await resolveInside(path, allowedDirs);
  if (!real) return { ok: false, why: 'outside' };
  if (SYSTEM_DIRS.some((dir) => real === dir || real.startsWith(dir + sep))) return { ok: false, why: 'system' };
  try {
    if (!(await stat(real)).isFile()) return { ok: false, why: 'not_a_file' };
  } catch {
    return { ok: false, why: 'missing' };
  }
  return { ok: true, path: real };
}
