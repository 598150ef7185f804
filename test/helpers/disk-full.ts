/**
 * A full disk, injected where the product meets the file system. A test file mocks node:fs/promises
 * with `fullDisk` (vi.mock is hoisted, so the file keeps the `vi.hoisted` fault and the mock call;
 * this module only builds the module they install): once `fault.full` says so for a path, writing to
 * it puts a few bytes on disk, as a real ENOSPC mid-write does, and then fails.
 */
type FsPromises = typeof import('node:fs/promises');

export interface DiskFault {
  full: (path: string) => boolean;
}

function enospc(path: string): Error {
  return Object.assign(new Error(`ENOSPC: no space left on device, write '${path}'`), { code: 'ENOSPC', errno: -28, syscall: 'write' });
}

/**
 * node:fs/promises with `writeFile` failing on a full path; with `handles`, also every `write` through
 * a handle `open` gave for such a path (an append log writes that way).
 */
export function fullDisk(real: FsPromises, fault: DiskFault, options: { handles?: boolean } = {}): FsPromises {
  const writeFile: FsPromises['writeFile'] = async (path, data, opts) => {
    if (!fault.full(String(path))) return real.writeFile(path, data, opts);
    await real.writeFile(path, String(data).slice(0, 7), opts);
    throw enospc(String(path));
  };
  if (!options.handles) return { ...real, default: { ...real, writeFile }, writeFile } as FsPromises;
  const open: FsPromises['open'] = async (path, flags, mode) => {
    const handle = await real.open(path, flags, mode);
    return new Proxy(handle, {
      get(target, prop) {
        if (prop === 'write' && fault.full(String(path))) {
          return async (buffer: Buffer) => {
            await target.write(buffer.subarray(0, Math.min(5, buffer.length)));
            throw enospc(String(path));
          };
        }
        const value = Reflect.get(target, prop) as unknown;
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
  };
  return { ...real, default: { ...real, writeFile, open }, writeFile, open } as FsPromises;
}
