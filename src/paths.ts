import { constants } from 'node:fs';
import { access, mkdir, open, readlink, realpath, stat, type FileHandle } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { InputError } from './errors.js';
import { OpenedFile } from './inputs/opened-file.js';

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

function isSystemPath(path: string): boolean {
  return SYSTEM_DIRS.some((dir) => path === dir || path.startsWith(dir + sep));
}

/**
 * Makes a data folder (or a merge target) and every missing folder above it, one level at a time.
 * Not Node's recursive mkdir: under /proc it never returns (it loops at full CPU), and where it cannot
 * make a folder (a read-only mount, no permission) it says ENOENT. So /proc, /sys and /dev are refused
 * first, and each level is made once, its failure told as it is. With `writable`, a folder that is
 * there already must also be writable (a merge writes into it; a data folder may be read only to export).
 * `setting` is where the user chose the folder, for the messages.
 */
export async function makeDataFolder(dir: string, setting: Setting = 'AIDSAFE_DATA_DIR', options: { writable?: boolean } = {}): Promise<void> {
  const what = setting === '--into' ? '--into' : 'the data folder';
  const path = resolve(dir);
  const missing: string[] = [];
  let existing = path;
  for (;;) {
    const info = await stat(existing).catch((error: NodeJS.ErrnoException) => error);
    if (!(info instanceof Error)) {
      if (!info.isDirectory()) throw new InputError(`${what} ${path} cannot be made: ${existing} is a file, not a folder`);
      break;
    }
    if (info.code !== 'ENOENT') throw new InputError(notWritable(setting, path, info));
    if (dirname(existing) === existing) break;
    missing.unshift(existing);
    existing = dirname(existing);
  }
  // Through the folder that exists, so a link into /proc is refused as /proc itself.
  const real = await realpath(existing).catch(() => existing);
  if (isSystemPath(path) || isSystemPath(real)) throw new InputError(`${what} ${path} is under /proc, /sys or /dev; ${setting === '--into' ? 'give --into' : 'set AIDSAFE_DATA_DIR to'} an ordinary folder`);
  await makeLevels(missing, (error) => new InputError(notWritable(setting, path, error)));
  const made = await stat(path).catch((error: NodeJS.ErrnoException) => error);
  if (made instanceof Error || !made.isDirectory()) throw new InputError(notWritable(setting, path, made instanceof Error ? made : undefined));
  if (options.writable) await access(path, constants.W_OK).catch((error: NodeJS.ErrnoException) => Promise.reject(new InputError(notWritable(setting, path, error))));
}

/**
 * Makes `path`, a folder inside the data folder `dataDir` (which exists), and the folders between them,
 * one level at a time; a failure says the data folder is not writable, and why, instead of the ENOENT
 * Node's recursive mkdir gives on a read-only mount.
 */
export async function makeFolderIn(dataDir: string, path: string): Promise<void> {
  const missing: string[] = [];
  for (let level = resolve(path); level !== dirname(level); level = dirname(level)) {
    const info = await stat(level).catch((error: NodeJS.ErrnoException) => error);
    if (!(info instanceof Error)) break;
    if (info.code !== 'ENOENT') throw new InputError(notWritable('AIDSAFE_DATA_DIR', dataDir, info));
    missing.unshift(level);
  }
  await makeLevels(missing, (error) => new InputError(notWritable('AIDSAFE_DATA_DIR', dataDir, error)));
}

async function makeLevels(levels: string[], failure: (error: NodeJS.ErrnoException) => Error): Promise<void> {
  for (const level of levels) {
    try {
      await mkdir(level);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw failure(error as NodeJS.ErrnoException);
    }
  }
}

type Setting = 'AIDSAFE_DATA_DIR' | '--into';

const WRITE_ERRORS: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EROFS: 'it is on a read-only file system',
  // A folder just made that is still not there: a read-only or vanishing mount answers so.
  ENOENT: 'it could not be made (read-only, or its mount went away)',
  ENOTDIR: 'a part of the path is a file, not a folder',
  ENOSPC: 'the disk is full',
};

/** What a failure to make or write a data folder means for the user, and what to do about it. */
export function notWritable(setting: Setting, path: string, error?: NodeJS.ErrnoException): string {
  const code = error?.code ?? 'ENOENT';
  const what = setting === '--into' ? '--into' : 'the data folder';
  const fix = setting === '--into' ? 'give --into a folder this user can write' : 'set AIDSAFE_DATA_DIR to a folder this user can write';
  return `${what} ${path} is not writable: ${WRITE_ERRORS[code] ?? code}${WRITE_ERRORS[code] ? ` (${code})` : ''}; ${fix}`;
}

export type InputPathCheck =
  | { ok: true; path: string }
  | { ok: false; why: 'outside' | 'missing' | 'system' | 'not_a_file' };

/**
 * Whether a client may have `path` read as an input file: its real path (every link resolved) must lie
 * inside one of `allowedDirs`, outside /proc, /sys and /dev, and be a regular file. Whether a path
 * exists is told only for paths inside an allowed folder, so a client cannot probe the disk.
 * A check of the name only: to read the file, use openInputFile, which checks what it opened.
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
  if (isSystemPath(real)) return { ok: false, why: 'system' };
  try {
    if (!(await stat(real)).isFile()) return { ok: false, why: 'not_a_file' };
  } catch {
    return { ok: false, why: 'missing' };
  }
  return { ok: true, path: real };
}

export type InputFileOpen = { ok: true; file: OpenedFile } | { ok: false; why: 'outside' | 'missing' | 'system' | 'not_a_file' };

/** Points in openInputFile where a test can change the disk, to show that a name swapped there is not followed. */
export interface OpenHooks {
  afterCheck?: () => Promise<void>;
  afterOpen?: () => Promise<void>;
}

/**
 * Opens an input file a client named, once, and checks what was opened rather than the name: a link
 * swapped between a check by name and an open by name would let the open read a file outside the
 * allowed folders. The name is checked first (so nothing outside is ever opened on request), its real
 * path is opened without following a last link, and the descriptor must then be that real path's file
 * (same device and inode) while the real path is still its own, inside an allowed folder; on Linux the
 * kernel's own name for the descriptor must also be that path. All reads then go through it.
 * A hard link inside an allowed folder is that file by nature, wherever its other names are.
 */
export async function openInputFile(path: string, allowedDirs: readonly string[], hooks: OpenHooks = {}): Promise<InputFileOpen> {
  const checked = await checkInputPath(path, allowedDirs);
  if (!checked.ok) return checked;
  await hooks.afterCheck?.();
  let handle: FileHandle;
  try {
    handle = await open(checked.path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0) | (constants.O_NOFOLLOW ?? 0));
  } catch {
    return { ok: false, why: 'outside' }; // gone or turned into a link since it was checked
  }
  try {
    await hooks.afterOpen?.();
    const held = await handle.stat();
    if (!held.isFile()) return await refuse(handle, 'not_a_file');
    const named = await stat(checked.path).catch(() => undefined);
    const stillReal = (await realpath(checked.path).catch(() => undefined)) === checked.path;
    if (!named || !stillReal || named.dev !== held.dev || named.ino !== held.ino || !(await resolveInside(checked.path, allowedDirs))) return await refuse(handle, 'outside');
    const kernelName = await readlink(`/proc/self/fd/${handle.fd}`).catch(() => undefined);
    if (kernelName !== undefined && kernelName !== checked.path) return await refuse(handle, 'outside');
    return { ok: true, file: new OpenedFile(checked.path, handle) };
  } catch (error) {
    await handle.close();
    throw error;
  }
}

async function refuse(handle: FileHandle, why: 'outside' | 'not_a_file'): Promise<InputFileOpen> {
  await handle.close();
  return { ok: false, why };
}
