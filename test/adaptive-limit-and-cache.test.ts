import { createHash } from 'node:crypto';
import { appendFileSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CacheIndex } from '../src/llm/cache-index.js';
import { RequestCache } from '../src/llm/request-cache.js';
import { AdaptiveLimit } from '../src/pipeline/adaptive-limit.js';
import { tempDir } from './helpers/fixtures.js';

describe('AdaptiveLimit', () => {
  it('halves on a rate limit, counts a burst once, and climbs back one step per window of successes', () => {
    let now = 0;
    const limit = new AdaptiveLimit(16, 1_000, () => now);
    limit.onRateLimit();
    limit.onRateLimit(); // same burst
    expect(limit.limit).toBe(8);
    expect(limit.cuts).toBe(1);
    for (let i = 0; i < 20; i++) limit.onSuccess();
    expect(limit.limit).toBe(8); // still cooling down
    now = 1_500;
    limit.onRateLimit();
    expect(limit.limit).toBe(4);
    now = 3_000;
    for (let i = 0; i < 4; i++) limit.onSuccess();
    expect(limit.limit).toBe(5);
    for (let i = 0; i < 200; i++) limit.onSuccess();
    expect(limit.limit).toBe(16);
    now = 10_000;
    for (let i = 0; i < 10; i++) {
      limit.onRateLimit();
      now += 1_001;
    }
    expect(limit.limit).toBe(1);
  });
});

describe('RequestCache', () => {
  const dir = tempDir();
  afterAll(() => dir.remove());
  const key = (n: number) => n.toString(16).padStart(64, '0');

  it('finds replies written by an earlier process, and skips a line a crash cut short', async () => {
    const first = await new RequestCache(dir.path).open();
    await Promise.all([1, 2, 3].map((n) => first.put(key(n), { value: { n }, model: 'm', usage: { prompt_tokens: n, completion_tokens: 1 } })));
    expect(await first.get(key(2))).toEqual({ value: { n: 2 }, model: 'm', usage: { prompt_tokens: 2, completion_tokens: 1 } });
    await first.close();
    const [file] = readdirSync(dir.path);
    appendFileSync(join(dir.path, file!), `{"k":"${key(4)}","value":{"n":4},"mod`); // torn write

    const second = await new RequestCache(dir.path).open();
    expect(second.size).toBe(3);
    expect(await second.get(key(3))).toMatchObject({ value: { n: 3 } });
    expect(await second.get(key(4))).toBeUndefined();
    await second.put(key(5), { value: { n: 5 }, model: 'm', usage: { prompt_tokens: 0, completion_tokens: 0 } });
    await second.release(); // files close; the index stays and files reopen on use
    expect(await second.get(key(5))).toMatchObject({ value: { n: 5 } });
    expect(await second.get(key(1))).toMatchObject({ value: { n: 1 } });
    await second.close();
    expect(readdirSync(dir.path)).toHaveLength(2); // each process appends to a file of its own
  });
});

describe('RequestCache at scale', () => {
  const dir = tempDir();
  afterAll(() => dir.remove());
  const sha = (n: number) => createHash('sha256').update(String(n)).digest('hex');
  const reply = (n: number, text = '') => ({ value: { n, text }, model: 'm', usage: { prompt_tokens: n, completion_tokens: 1 } });

  it("splits a process's file into segments of bounded size, and a new process finds the replies in all of them", async () => {
    const folder = join(dir.path, 'segments');
    const cache = await new RequestCache(folder, 4_096).open();
    for (let n = 0; n < 200; n++) await cache.put(sha(n), reply(n, 'x'.repeat(100)));
    await cache.close();
    const sizes = readdirSync(folder)
      .filter((name) => name.endsWith('.jsonl'))
      .map((name) => statSync(join(folder, name)).size);
    expect(sizes.length).toBeGreaterThan(5);
    // A segment is closed at the first write that finds it full: it ends at most one line past the bound.
    for (const size of sizes) expect(size).toBeLessThan(4_096 + 400);
    const reopened = await new RequestCache(folder, 4_096).open();
    expect(reopened.size).toBe(200);
    for (const n of [0, 57, 199]) expect(await reopened.get(sha(n))).toEqual(reply(n, 'x'.repeat(100)));
    await reopened.close();
  });

  it('indexes a file read in chunks: lines longer than a chunk and lines across chunk edges, with multi-byte text', async () => {
    const folder = join(dir.path, 'chunks');
    mkdirSync(folder);
    const lines: string[] = [];
    const texts = new Map<number, string>();
    for (let n = 0; n < 400; n++) {
      // Some replies far longer than the 1 MiB read size; the rest of varied length, so edges fall everywhere.
      const text = n % 97 === 0 ? 'é'.repeat(700_000) : 'ü'.repeat((n * 7919) % 20_000);
      texts.set(n, text);
      lines.push(JSON.stringify({ k: sha(n), ...reply(n, text) }));
    }
    writeFileSync(join(folder, 'a.jsonl'), lines.join('\n') + '\n' + `{"k":"${sha(1000)}","value":{"n":1000},"mo`);
    const cache = await new RequestCache(folder).open();
    expect(cache.size).toBe(400);
    for (let n = 0; n < 400; n++) expect((await cache.get(sha(n)))?.value).toEqual({ n, text: texts.get(n) });
    expect(await cache.get(sha(1000))).toBeUndefined();
    await cache.close();
  });

  it('keeps 200,000 keys in a compact index that answers each exactly', () => {
    const index = new CacheIndex();
    const keys: string[] = [];
    for (let n = 0; n < 200_000; n += 1) {
      const key = n % 10 === 0 ? sha(n) : n.toString(16).padStart(64, '0');
      keys.push(key);
      index.set(key, { file: n % 7, offset: n * 1_000, length: n % 5_000 });
    }
    index.set(keys[3]!, { file: 9, offset: 1, length: 2 }); // a key written again points at its newest line
    expect(index.size).toBe(200_000);
    for (const n of [0, 1, 10, 199_999, 123_457]) expect(index.get(keys[n]!)).toEqual({ file: n % 7, offset: n * 1_000, length: n % 5_000 });
    expect(index.get(keys[3]!)).toEqual({ file: 9, offset: 1, length: 2 });
    expect(index.get(sha(-1))).toBeUndefined();
  });
});
