import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { lstat, mkdir, readlink, realpath, rename, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { InputError } from '../errors.js';

/** A temp file's name beside `path`, unique within this process too. */
export function tempBeside(path: string): string {
  return `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
}

/**
 * Writes beside the target, then renames: a reader never sees half a file. A failed write (a full
 * disk) removes its temp file.
 */
export async function writeFileAtomic(path: string, text: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temp = tempBeside(path);
  try {
    await writeFile(temp, text);
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}

/**
 * Where a finished output file goes. A new file or a regular one (through any links, which stay links)
 * is replaced by rename; anything else the path names (a device such as /dev/null, a FIFO, /dev/stdout)
 * is written into, since a rename would put a regular file in its place.
 */
export type OutputTarget = { replace: string } | { writeInto: string };

export async function outputTarget(path: string): Promise<OutputTarget> {
  let info;
  try {
    info = await stat(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    // Nothing there, or a link to nothing: the file is made where the link points.
    const link = await lstat(path).catch(() => undefined);
    return { replace: link?.isSymbolicLink() ? resolve(dirname(path), await readlink(path)) : path };
  }
  if (info.isDirectory()) throw new InputError(`out: ${path} is a folder; give a file name`);
  if (!info.isFile()) return { writeInto: path };
  try {
    return { replace: await realpath(path) };
  } catch {
    return { writeInto: path }; // a regular file only reachable through /proc/…/fd
  }
}

/** A temp file to build the output in: beside a file it will replace, or in the system's temp folder. */
export async function outputTemp(target: OutputTarget): Promise<string> {
  const path = 'replace' in target ? tempBeside(target.replace) : join(tmpdir(), `aidsafe-mcp-${process.pid}-${randomBytes(4).toString('hex')}.tmp`);
  await mkdir(dirname(path), { recursive: true });
  return path;
}

/**
 * This process's own standard output named as a file. Written through process.stdout: when it is a
 * socket (as under a process manager), opening /dev/stdout fails with ENXIO.
 */
function isOwnStdout(path: string): boolean {
  return ['/dev/stdout', '/dev/fd/1', '/proc/self/fd/1'].includes(path);
}

/** Puts a finished temp file in place (rename), or copies it into a device or FIFO; the temp is gone after. */
export async function finishOutput(temp: string, target: OutputTarget): Promise<void> {
  try {
    if ('replace' in target) await rename(temp, target.replace);
    else if (isOwnStdout(target.writeInto)) await pipeline(createReadStream(temp), process.stdout, { end: false });
    else await pipeline(createReadStream(temp), createWriteStream(target.writeInto));
  } finally {
    await rm(temp, { force: true });
  }
}

/** Writes a whole output file (a report) to `path` as the user named it: see outputTarget. */
export async function writeOutput(path: string, text: string): Promise<void> {
  const target = await outputTarget(path);
  if ('writeInto' in target) {
    if (isOwnStdout(target.writeInto)) await new Promise<void>((done, fail) => process.stdout.write(text, (error) => (error ? fail(error) : done())));
    else await writeFile(target.writeInto, text);
    return;
  }
  await writeFileAtomic(target.replace, text);
}
