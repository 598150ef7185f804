import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { contextFor, tempDir } from './helpers/fixtures.js';

/**
 * An existing, empty data folder on a read-only mount. Making a folder there fails with EROFS, except
 * through Node's recursive mkdir, which answers ENOENT: the mount is simulated where the product meets
 * the file system, with both answers as Linux and Node 20 give them (checked on a tmpfs mounted `ro`).
 */
const mount = vi.hoisted(() => ({ readOnly: '' }));
vi.mock('node:fs/promises', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs/promises')>();
  const mkdir = (async (path, options) => {
    const p = String(path);
    if (mount.readOnly && (p === mount.readOnly || p.startsWith(`${mount.readOnly}/`))) {
      const exists = await real.stat(p).then(() => true, () => false);
      const recursive = typeof options === 'object' && options?.recursive;
      if (exists && recursive) return undefined;
      const code = exists ? 'EEXIST' : recursive ? 'ENOENT' : 'EROFS';
      throw Object.assign(new Error(`${code}: mkdir '${p}'`), { code, syscall: 'mkdir', path: p });
    }
    return real.mkdir(path, options);
  }) as typeof real.mkdir;
  return { ...real, default: { ...real, mkdir }, mkdir };
});

const data = tempDir();
afterAll(() => data.remove());

describe('a data folder on a read-only mount', () => {
  it('that exists and is empty is named as on a read-only file system, not as one that could not be made', async () => {
    const dir = join(data.path, 'mounted-ro');
    mkdirSync(dir);
    mount.readOnly = dir;
    try {
      const error = await contextFor('http://127.0.0.1:9/v1', dir).then(() => undefined, (e: unknown) => e as Error);
      expect(error?.message).toBe(`the data folder ${dir} is not writable: it is on a read-only file system (EROFS); set AIDSAFE_DATA_DIR to a folder this user can write`);
    } finally {
      mount.readOnly = '';
    }
  });
});
