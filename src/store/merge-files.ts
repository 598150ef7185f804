import { constants, createWriteStream } from 'node:fs';
import { lstat, mkdir, open, readdir, readFile, rename, rm } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { dirname, join, relative } from 'node:path';
import { tempBeside } from './write-file.js';

/** What happens to one file of a source folder: copied in, already there, or replacing a shorter copy of itself. */
export type FileAction = 'copy' | 'skip' | 'update';

export interface PlannedFile {
  from: string;
  to: string;
  action: FileAction;
}

export class MergeConflictError extends Error {
  override name = 'MergeConflictError';
}

/** How two versions of one file relate, for files that only grow (logs, cache segments) or never change (records). */
export type Comparison = 'same' | 'source-longer' | 'target-longer' | 'different';

export async function compareFiles(source: string, target: string, sameContent?: (a: Buffer, b: Buffer) => boolean): Promise<Comparison> {
  const [a, b] = await Promise.all([readFile(source), readFile(target)]);
  if (a.equals(b) || sameContent?.(a, b)) return 'same';
  if (a.length > b.length && a.subarray(0, b.length).equals(b)) return 'source-longer';
  if (b.length > a.length && b.subarray(0, a.length).equals(a)) return 'target-longer';
  return 'different';
}

/** Every regular file under `dir`, as paths relative to it; none when it does not exist. */
export async function filesUnder(dir: string): Promise<string[]> {
  return (await entriesUnder(dir)).files;
}

/**
 * The regular files under `dir` (relative to it) and the symbolic links there (full paths), never
 * following a link, not even when `dir` itself is one: a source folder's link may point anywhere on
 * the merging machine, so merge copies none.
 */
export async function entriesUnder(dir: string): Promise<{ files: string[]; links: string[] }> {
  const self = await lstat(dir).catch((error: NodeJS.ErrnoException) => error);
  if (self instanceof Error) {
    if (self.code === 'ENOENT' || self.code === 'ENOTDIR') return { files: [], links: [] };
    throw self;
  }
  if (self.isSymbolicLink()) return { files: [], links: [dir] };
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return {
    files: entries.filter((e) => e.isFile()).map((e) => relative(dir, join(e.parentPath, e.name))),
    links: entries.filter((e) => e.isSymbolicLink()).map((e) => join(e.parentPath, e.name)),
  };
}

/** Whether `path` is a symbolic link (not followed). */
export async function isLink(path: string): Promise<boolean> {
  return (await lstat(path).catch(() => undefined))?.isSymbolicLink() ?? false;
}

/** Copies to a temp name beside the target, then renames: a reader of the target folder never sees half a file. */
export async function copyFileAtomic(from: string, to: string): Promise<void> {
  await mkdir(dirname(to), { recursive: true });
  const temp = tempBeside(to);
  try {
    // O_NOFOLLOW: a file swapped for a link after it was listed is refused (ELOOP), not followed.
    const source = await open(from, constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0));
    await pipeline(source.createReadStream(), createWriteStream(temp));
    await rename(temp, to);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}
