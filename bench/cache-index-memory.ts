import { createHash } from 'node:crypto';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { CacheIndex } from '../src/llm/cache-index.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function heapBytes(): number {
  gc();
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

/**
 * Heap bytes per entry of the request cache's index at `entries` keys: the typed-array table the cache
 * uses, against the Map of 64-hex strings to { file, offset, length } objects it replaced. The keys
 * themselves are made per entry and dropped, as when a cache file is scanned.
 */
export function benchCacheIndex(entries: number): { entries: number; map_bytes_per_entry: number; index_bytes_per_entry: number } {
  const key = (n: number) => createHash('sha256').update(String(n)).digest('hex');
  let before = heapBytes();
  const map = new Map<string, { file: string; offset: number; length: number }>();
  const file = '/data/cache/lq0x2a-1234-abcdef01.jsonl';
  for (let n = 0; n < entries; n++) map.set(key(n), { file, offset: n * 900, length: 900 });
  const mapBytes = heapBytes() - before;
  map.clear();
  before = heapBytes();
  const index = new CacheIndex();
  for (let n = 0; n < entries; n++) index.set(key(n), { file: 0, offset: n * 900, length: 900 });
  const indexBytes = heapBytes() - before;
  if (index.size !== entries) throw new Error('index lost entries');
  return { entries, map_bytes_per_entry: Math.round(mapBytes / entries), index_bytes_per_entry: Math.round(indexBytes / entries) };
}
