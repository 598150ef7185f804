import { appendFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
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
