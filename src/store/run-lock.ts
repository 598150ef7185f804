import { randomBytes } from 'node:crypto';
import { link, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';

/**
 * A lock file that says which process works on a run. Our own design rather than a lock library: the
 * common one (proper-lockfile) removes a stale lock and re-creates it in two steps, so two processes
 * that both find it stale can both end up holding it; and a pid alone cannot tell a dead holder from
 * a new process that got its pid. So:
 *
 * - The lock appears whole or not at all: its content is written to a temp file, then hard-linked to
 *   the lock's name, which fails if the name exists (O_EXCL semantics, without a window in which the
 *   lock is empty).
 * - It holds the pid, the host, the process's start time (Linux: from /proc; it changes when a pid is
 *   reused) and a random token; the holder touches it every HEARTBEAT_MS.
 * - It is stale when its process is gone or is another process with the same pid; on another host, or
 *   where start times cannot be read, when it has not been touched for STALE_MS.
 * - Taking over a stale lock happens under a second exclusive file (`lock.takeover`): the taker checks
 *   that the lock still holds the very content it judged stale, removes it, and then competes for it by
 *   exclusive creation like anyone else, so exactly one process wins. A takeover file left by a taker
 *   that died mid-takeover (a few milliseconds of work) is removed after TAKEOVER_STALE_MS.
 */
export const HEARTBEAT_MS = 10_000;
export const STALE_MS = 60_000;
export const TAKEOVER_STALE_MS = 10_000;

export interface LockOwner {
  pid: number;
  host: string;
  /** The process's start time in clock ticks since boot (Linux), when readable. */
  start?: string;
  token?: string;
}

export class LockHeldError extends Error {
  constructor(readonly owner: LockOwner) {
    super(`held by process ${owner.pid} on ${owner.host}`);
    this.name = 'LockHeldError';
  }
}

/** The kernel's start time of a process on this machine, or undefined where /proc does not say. */
export async function processStart(pid: number): Promise<string | undefined> {
  try {
    const text = await readFile(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which is in parentheses and may hold spaces: state is field 3, starttime field 22.
    return text.slice(text.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

function pidExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'; // it exists, under another user
  }
}

/** Creates `path` with `text` only if it does not exist; false if it does. */
async function createExclusive(path: string, text: string): Promise<boolean> {
  const temp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await writeFile(temp, text);
    await link(temp, path);
    return true;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return false;
    // A file system without hard links: exclusive create, then write. Readers meanwhile see an empty
    // lock, which counts as live while it is fresh.
    if (code === 'EPERM' || code === 'ENOTSUP' || code === 'EOPNOTSUPP' || code === 'ENOSYS') return createThenWrite(path, text);
    throw error;
  } finally {
    await rm(temp, { force: true });
  }
}

async function createThenWrite(path: string, text: string): Promise<boolean> {
  try {
    await writeFile(path, text, { flag: 'wx' });
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
}

async function readLock(path: string): Promise<{ raw: string; owner?: LockOwner; touched: number } | undefined> {
  try {
    const [raw, info] = await Promise.all([readFile(path, 'utf8'), stat(path)]);
    let owner: LockOwner | undefined;
    try {
      const parsed = JSON.parse(raw) as Partial<LockOwner>;
      if (typeof parsed.pid === 'number' && typeof parsed.host === 'string') owner = parsed as LockOwner;
    } catch {
      owner = undefined;
    }
    return { raw, owner, touched: info.mtimeMs };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

async function isLive(lock: { owner?: LockOwner; touched: number }): Promise<boolean> {
  const fresh = Date.now() - lock.touched < STALE_MS;
  const { owner } = lock;
  if (!owner) return fresh; // unreadable: trust only its heartbeat
  if (owner.host !== hostname()) return fresh;
  if (!pidExists(owner.pid)) return false;
  const start = owner.start !== undefined ? await processStart(owner.pid) : undefined;
  if (start !== undefined) return start === owner.start;
  return fresh;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The live holder of the lock at `path`, if any. */
export async function lockOwner(path: string): Promise<LockOwner | undefined> {
  const lock = await readLock(path);
  if (!lock || !(await isLive(lock))) return undefined;
  return lock.owner ?? { pid: 0, host: 'unknown' };
}

/** Takes the lock at `path` or throws LockHeldError; resolves with its release. */
export async function acquireLock(path: string): Promise<() => Promise<void>> {
  const me: LockOwner = { pid: process.pid, host: hostname(), start: await processStart(process.pid), token: randomBytes(16).toString('hex') };
  const text = JSON.stringify(me);
  for (let attempt = 0; attempt < 100; attempt++) {
    if (await createExclusive(path, text)) return holding(path, me.token as string);
    const current = await readLock(path);
    if (!current) continue; // released meanwhile
    if (await isLive(current)) throw new LockHeldError(current.owner ?? { pid: 0, host: 'unknown' });
    if (!(await removeIfUnchanged(path, current.raw, text))) await sleep(10 + Math.random() * 20);
  }
  throw new Error(`could not take the lock ${path}`);
}

/** Under the takeover file, removes the lock if it still holds `staleRaw`. False when another process is taking it over. */
async function removeIfUnchanged(path: string, staleRaw: string, me: string): Promise<boolean> {
  const guard = `${path}.takeover`;
  if (!(await createExclusive(guard, me))) {
    const info = await stat(guard).catch(() => undefined);
    if (info && Date.now() - info.mtimeMs > TAKEOVER_STALE_MS) await rm(guard, { force: true });
    return false;
  }
  try {
    const now = await readLock(path);
    if (now?.raw === staleRaw) await rm(path, { force: true });
    return true;
  } finally {
    await rm(guard, { force: true });
  }
}

function holding(path: string, token: string): () => Promise<void> {
  const heartbeat = setInterval(() => {
    const now = new Date();
    void utimes(path, now, now).catch(() => undefined);
  }, HEARTBEAT_MS);
  heartbeat.unref();
  return async () => {
    clearInterval(heartbeat);
    const lock = await readLock(path).catch(() => undefined);
    if (lock?.owner?.token === token) await rm(path, { force: true });
  };
}
