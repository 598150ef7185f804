import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { processStart } from '../src/store/run-lock.js';
import { RunStore } from '../src/store/run-store.js';
import { tempDir } from './helpers/fixtures.js';

const data = tempDir();
afterAll(() => data.remove());

/** The pid of a process that has ended. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(child.stdout);
}

function writeLock(id: string, owner: Record<string, unknown>, ageMs = 0): void {
  const dir = join(data.path, 'runs', id);
  mkdirSync(dir, { recursive: true });
  const path = join(dir, 'lock');
  writeFileSync(path, JSON.stringify(owner));
  const when = new Date(Date.now() - ageMs);
  utimesSync(path, when, when);
}

describe('run lock', () => {
  it('a stale lock contested by several takers at once goes to exactly one of them', async () => {
    const dead = deadPid();
    for (let round = 0; round < 25; round++) {
      const id = `stale-${round}`;
      writeLock(id, { pid: dead, host: hostname() });
      // Each taker is its own RunStore, as separate processes would be, and they start a little apart,
      // so that one may find the lock stale while another has already replaced it.
      const takers = Array.from({ length: 6 }, (_, i) => new Promise((r) => setTimeout(r, (i * round) % 4)).then(() => new RunStore(data.path).lock(id)));
      const results = await Promise.allSettled(takers);
      const won = results.filter((r) => r.status === 'fulfilled');
      expect(won, `round ${round}`).toHaveLength(1);
      for (const lost of results.filter((r) => r.status === 'rejected')) expect(String(lost.reason)).toMatch(/run_id: run "stale-\d+" is already running in process \d+/);
      await (won[0] as PromiseFulfilledResult<() => Promise<void>>).value();
      expect(readdirSync(join(data.path, 'runs', id))).toEqual([]);
    }
  });

  it('a lock whose pid now belongs to another process (another start time) is stale', async () => {
    const store = new RunStore(data.path);
    const start = await processStart(process.pid);
    expect(start, 'this test needs /proc').toBeDefined();
    writeLock('reused-pid', { pid: process.pid, host: hostname(), start: String(Number(start) - 1), token: 'old' });
    expect(await store.lockHolder('reused-pid')).toBeUndefined();
    const release = await store.lock('reused-pid');
    expect(await store.lockHolder('reused-pid')).toEqual({ pid: process.pid });
    await expect(new RunStore(data.path).lock('reused-pid')).rejects.toThrow(/already running in process/);
    await release();
    expect(await store.lockHolder('reused-pid')).toBeUndefined();
  });

  it('a lock without a start time, or from another host, is live while its holder touches it and stale after', async () => {
    const store = new RunStore(data.path);
    writeLock('old-format', { pid: process.pid, host: hostname() });
    expect(await store.lockHolder('old-format')).toEqual({ pid: process.pid });
    writeLock('old-format', { pid: process.pid, host: hostname() }, 2 * 60_000);
    expect(await store.lockHolder('old-format')).toBeUndefined();
    writeLock('elsewhere', { pid: 1, host: 'another-host', start: '1', token: 't' });
    await expect(store.lock('elsewhere')).rejects.toThrow(/already running in process 1/);
    writeLock('elsewhere', { pid: 1, host: 'another-host', start: '1', token: 't' }, 2 * 60_000);
    await (await store.lock('elsewhere'))();
  });

  it('a lock of a process that has ended is taken over at once', async () => {
    writeLock('crashed', { pid: deadPid(), host: hostname(), start: '1', token: 't' });
    const store = new RunStore(data.path);
    expect(await store.lockHolder('crashed')).toBeUndefined();
    await (await store.lock('crashed'))();
  });
});
