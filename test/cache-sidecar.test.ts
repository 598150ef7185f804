import { createHash } from 'node:crypto';
import { appendFileSync, openSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync, writeSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readSidecar, sidecarPath } from '../src/llm/cache-sidecar.js';
import { RequestCache } from '../src/llm/request-cache.js';
import { mergeDataFolders } from '../src/store/merge.js';
import { tempDir } from './helpers/fixtures.js';

const SEGMENT = 4_096;
const sha = (n: number) => createHash('sha256').update(String(n)).digest('hex');
const reply = (n: number) => ({ value: { n, text: 'x'.repeat(100) }, model: 'm', usage: { prompt_tokens: n, completion_tokens: 1 } });
/** An mtime that survives `utimes` exactly, so a test can put a segment's stamp back after changing its bytes. */
const FIXED = new Date(1_700_000_000_000);

describe('request cache sidecar indexes', () => {
  const dir = tempDir();
  afterAll(() => dir.remove());

  /** A cache of `count` replies in segments of `SEGMENT` bytes; returns the folder and its segments, oldest first. */
  async function filled(name: string, count = 200): Promise<{ folder: string; segments: string[] }> {
    const folder = join(dir.path, name);
    const cache = await new RequestCache(folder, SEGMENT).open();
    for (let n = 0; n < count; n++) await cache.put(sha(n), reply(n));
    await cache.close();
    return { folder, segments: segmentsIn(folder) };
  }
  const segmentsIn = (folder: string) =>
    readdirSync(folder)
      .filter((n) => n.endsWith('.jsonl'))
      .sort()
      .map((n) => join(folder, n));
  const full = (segments: string[]) => segments.filter((path) => statSync(path).size >= SEGMENT);

  async function expectAll(folder: string, count = 200): Promise<void> {
    const cache = await new RequestCache(folder, SEGMENT).open();
    expect(cache.size).toBe(count);
    for (let n = 0; n < count; n++) expect(await cache.get(sha(n))).toEqual(reply(n));
    await cache.close();
  }

  /** Overwrites a segment with blank lines of the same size and puts its mtime back: only its sidecar still knows its entries. */
  function blankKeepingStamp(path: string): void {
    const size = statSync(path).size;
    writeFileSync(path, '\n'.repeat(size));
    utimesSync(path, FIXED, FIXED);
  }

  it('writes a sidecar for each full segment that lists what a scan of it finds, and none for the open one', async () => {
    const { segments } = await filled('sealed');
    const sealed = full(segments);
    expect(sealed.length).toBeGreaterThan(5);
    for (const path of segments) {
      const has = readdirSync(join(path, '..')).includes(sidecarPath(path).split('/').pop()!);
      expect(has).toBe(sealed.includes(path));
    }
    for (const path of sealed) {
      const { size, mtimeMs } = statSync(path);
      const offsets: number[] = [];
      (await readSidecar(path, { size, mtimeMs }))!.forEach((_words, offset) => offsets.push(offset));
      const lines = readFileSync(path, 'utf8').split('\n').slice(0, -1);
      expect(offsets).toHaveLength(lines.length);
      expect(offsets[0]).toBe(0);
    }
  });

  it('loads a full segment from its sidecar at open, without reading the segment', async () => {
    const { folder, segments } = await filled('loaded');
    const first = full(segments)[0]!;
    // Give the segment an exact mtime and let the next open write its sidecar for that stamp.
    utimesSync(first, FIXED, FIXED);
    await expectAll(folder);
    blankKeepingStamp(first);
    const cache = await new RequestCache(folder, SEGMENT).open();
    // The index still holds the blanked segment's keys, so they came from the sidecar; reading them finds no line.
    expect(cache.size).toBe(200);
    expect(await cache.get(sha(0))).toBeUndefined();
    expect(await cache.get(sha(199))).toEqual(reply(199));
    await cache.close();
  });

  it('scans a full segment whose sidecar is missing, and writes the sidecar again', async () => {
    const { folder, segments } = await filled('missing');
    const sealed = full(segments);
    for (const path of sealed) rmSync(sidecarPath(path));
    await expectAll(folder);
    for (const path of sealed) {
      const { size, mtimeMs } = statSync(path);
      expect(await readSidecar(path, { size, mtimeMs })).toBeDefined();
    }
  });

  it('scans a segment that changed after its sidecar was written', async () => {
    const { folder, segments } = await filled('stale');
    const first = full(segments)[0]!;
    appendFileSync(first, JSON.stringify({ k: sha(500), ...reply(500) }) + '\n');
    const cache = await new RequestCache(folder, SEGMENT).open();
    expect(cache.size).toBe(201);
    expect(await cache.get(sha(500))).toEqual(reply(500));
    await cache.close();
    // The open that scanned it wrote a sidecar for the segment as it is now.
    const { size, mtimeMs } = statSync(first);
    expect(await readSidecar(first, { size, mtimeMs })).toBeDefined();
  });

  it('scans a segment whose sidecar is damaged or cut short', async () => {
    const { folder, segments } = await filled('damaged');
    const [a, b] = full(segments);
    // A flipped byte in an entry's offset: the checksum fails, so the wrong offset is never used.
    const bytes = readFileSync(sidecarPath(a!));
    bytes[32 + 16] = bytes[32 + 16]! ^ 0x01;
    writeFileSync(sidecarPath(a!), bytes);
    const whole = readFileSync(sidecarPath(b!));
    writeFileSync(sidecarPath(b!), whole.subarray(0, whole.length - 40));
    await expectAll(folder);
  });

  it('loses nothing when a crash cuts a sidecar write short', async () => {
    const { folder, segments } = await filled('crash');
    const first = full(segments)[0]!;
    const whole = readFileSync(sidecarPath(first));
    rmSync(sidecarPath(first));
    // What a crash mid-write leaves: part of the sidecar under its temporary name, none under its own.
    const fd = openSync(`${sidecarPath(first)}.12345.tmp`, 'w');
    writeSync(fd, whole.subarray(0, whole.length >> 1));
    closeSync(fd);
    await expectAll(folder);
    expect(readdirSync(folder).filter((n) => n.endsWith('.jsonl'))).toHaveLength(segments.length);
  });

  it('merges only the segments: the merged folder writes its own sidecars, and merging again adds nothing', async () => {
    const { folder } = await filled(join('shard', 'cache'));
    const into = join(dir.path, 'merged');
    const first = await mergeDataFolders([join(folder, '..')], into);
    expect(readdirSync(join(into, 'cache')).every((n) => n.endsWith('.jsonl'))).toBe(true);
    // Opening the merged cache writes sidecars stamped with the copies' times, unlike the shard's.
    await expectAll(join(into, 'cache'));
    expect(readdirSync(join(into, 'cache')).some((n) => n.endsWith('.idx'))).toBe(true);
    const again = await mergeDataFolders([join(folder, '..')], into);
    expect(again.cache).toEqual({ ...first.cache, copied: 0, skipped: first.cache.copied });
  });
});
