import { appendFileSync, copyFileSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { PROMPT_TEMPLATE_VERSION } from '../src/agents/shared.js';
import { newId } from '../src/ids.js';
import { emptyUsage } from '../src/pipeline/usage.js';
import { RECORD_SCHEMA_VERSION, type CotRecord } from '../src/store/record.js';
import { RecordStore } from '../src/store/record-store.js';
import { tempDir } from './helpers/fixtures.js';

/** Listings of a records folder, counted where the product meets the file system. */
const listings = vi.hoisted(() => ({ count: 0 }));
vi.mock('node:fs/promises', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs/promises')>();
  const readdir = (async (path: string, options?: unknown) => {
    if (String(path).endsWith('records')) listings.count++;
    return real.readdir(path, options as never);
  }) as typeof real.readdir;
  return { ...real, default: { ...real, readdir }, readdir };
});

let clock = Date.parse('2026-11-28T06:00:00Z');
function record(prompt: string, prefix = 'cot'): CotRecord {
  clock += 1000;
  return {
    schema_version: RECORD_SCHEMA_VERSION,
    kind: 'cot',
    id: newId(prefix, clock),
    prompt,
    policy_ids: ['physical_harm'],
    policy_hashes: { physical_harm: 'sha256:' + 'a'.repeat(64) },
    intents: { explicit: ['e'], implicit: [] },
    initial_thoughts: ['t'],
    initial_draft_response: 'd',
    deliberation: [],
    stop_reason: 'agreement',
    agents: 1,
    max_rounds: 1,
    thoughts: ['t'],
    refined_thoughts: ['t'],
    removed: [],
    response: 'r',
    usage: emptyUsage(),
    models: { intents: 'm', initial_cot: 'm', deliberators: ['m'], refiner: 'm', responder: 'm' },
    prompt_template_version: PROMPT_TEMPLATE_VERSION,
    timings: { total_ms: 1 },
    created_at: new Date(clock).toISOString(),
  } as CotRecord;
}

/** Every page of list(), newest first, as prompts. */
async function allPages(store: RecordStore, limit: number): Promise<string[]> {
  const prompts: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await store.list({ limit, cursor });
    prompts.push(...page.records.map((r) => r.prompt));
    cursor = page.next_cursor;
  } while (cursor);
  return prompts;
}

describe('record store listing', () => {
  let data: { path: string; remove: () => void };
  let store: RecordStore;
  beforeEach(async () => {
    data = tempDir();
    store = new RecordStore(data.path);
    await store.init();
    listings.count = 0;
  });
  afterEach(() => data.remove());

  it('pages newest first across kinds, and a page after the first lists no folder', async () => {
    const written: string[] = [];
    for (let i = 0; i < 30; i++) {
      const r = record(`prompt ${i}`, i % 3 === 0 ? 'pref' : 'cot');
      await store.put(r);
      written.push(r.prompt);
    }
    expect(await allPages(store, 7)).toEqual(written.reverse());
    const afterFirst = listings.count;
    for (let i = 30; i < 40; i++) await store.put(record(`prompt ${i}`));
    const first = await store.list({ limit: 5 });
    expect(first.records.map((r) => r.prompt)).toEqual(['prompt 39', 'prompt 38', 'prompt 37', 'prompt 36', 'prompt 35']);
    const next = await store.list({ limit: 5, cursor: first.next_cursor });
    expect(next.records.map((r) => r.prompt)).toEqual(['prompt 34', 'prompt 33', 'prompt 32', 'prompt 31', 'prompt 30']);
    expect(listings.count).toBe(afterFirst);
  });

  it('writes records compact and still reads pretty-printed ones', async () => {
    const compact = record('compact');
    await store.put(compact);
    const text = readFileSync(join(store.dir, `${compact.id}.json`), 'utf8');
    expect(text).toBe(JSON.stringify(compact));
    const old = record('pretty, from an older version');
    writeFileSync(join(store.dir, `${old.id}.json`), JSON.stringify(old, null, 2));
    expect(await store.get(old.id)).toEqual(old);
    expect((await store.list({ limit: 10 })).records.map((r) => r.prompt)).toEqual(['pretty, from an older version', 'compact']);
  });

  it('builds the index from a folder written without one, and rebuilds it when it is deleted', async () => {
    const older = [record('a'), record('b'), record('c')];
    for (const r of older) writeFileSync(join(store.dir, `${r.id}.json`), JSON.stringify(r, null, 2));
    expect(await allPages(store, 2)).toEqual(['c', 'b', 'a']);
    expect(readFileSync(join(data.path, 'records.index'), 'utf8')).toContain(older[0]!.id);
    await store.put(record('d'));
    rmSync(join(data.path, 'records.index'));
    const fresh = new RecordStore(data.path);
    expect(await allPages(fresh, 10)).toEqual(['d', 'c', 'b', 'a']);
  });

  it('finds records copied in from another data folder, in time order among its own', async () => {
    const other = tempDir();
    try {
      const source = new RecordStore(other.path);
      await source.init();
      const mine = [record('mine 1'), record('theirs 1'), record('mine 2'), record('theirs 2')];
      for (const r of mine) await (r.prompt.startsWith('mine') ? store : source).put(r);
      expect(await allPages(store, 10)).toEqual(['mine 2', 'mine 1']);
      for (const name of readdirSync(source.dir)) copyFileSync(join(source.dir, name), join(store.dir, name));
      expect(await allPages(store, 3)).toEqual(['theirs 2', 'mine 2', 'theirs 1', 'mine 1']);
      expect(await allPages(new RecordStore(data.path), 3)).toEqual(['theirs 2', 'mine 2', 'theirs 1', 'mine 1']);
    } finally {
      other.remove();
    }
  });

  it('finds a record whose writer died after the rename, before its stamp', async () => {
    await store.put(record('first'));
    expect(await allPages(store, 10)).toEqual(['first']);
    // What put leaves behind when killed between the two appends: the intent line and the file.
    const orphan = record('orphan');
    appendFileSync(join(data.path, 'records.index'), `${orphan.id}\n`);
    writeFileSync(join(store.dir, `${orphan.id}.json`), JSON.stringify(orphan));
    expect(await allPages(store, 10)).toEqual(['orphan', 'first']);
    // And when killed before the intent was even appended.
    const unannounced = record('unannounced');
    writeFileSync(join(store.dir, `${unannounced.id}.json`), JSON.stringify(unannounced));
    expect(await allPages(new RecordStore(data.path), 10)).toEqual(['unannounced', 'orphan', 'first']);
  });

  it('two stores on one data folder see each other’s records, each once, while both write', async () => {
    const other = new RecordStore(data.path);
    const batch = (s: RecordStore, tag: string) => Array.from({ length: 40 }, (_, i) => record(`${tag} ${i}`)).map((r) => ({ s, r }));
    const writes = [...batch(store, 'a'), ...batch(other, 'b')];
    const expected = writes.map(({ r }) => r).sort((x, y) => (x.id.slice(x.id.indexOf('_')) < y.id.slice(y.id.indexOf('_')) ? 1 : -1)).map((r) => r.prompt);
    for (let i = 0; i < writes.length; i += 8) {
      await Promise.all(writes.slice(i, i + 8).map(({ s, r }) => s.put(r)));
      await Promise.all([store.list({ limit: 3 }), other.list({ limit: 3 })]);
    }
    expect(await allPages(store, 9)).toEqual(expected);
    expect(await allPages(other, 9)).toEqual(expected);
    expect(await allPages(new RecordStore(data.path), 9)).toEqual(expected);
  });

  it('skips an id whose file is gone, and survives a torn line in the index', async () => {
    const kept = record('kept');
    const gone = record('gone');
    await store.put(kept);
    await store.put(gone);
    rmSync(join(store.dir, `${gone.id}.json`));
    expect(await allPages(store, 1)).toEqual(['kept']);
    expect(await store.ids()).toEqual([kept.id]);
    appendFileSync(join(data.path, 'records.index'), 'cot_0mi\n');
    const late = record('late');
    await store.put(late);
    expect(await allPages(new RecordStore(data.path), 10)).toEqual(['late', 'kept']);
  });

  it('says when a cursor is not a record id of this store', async () => {
    await store.put(record('only'));
    await expect(store.list({ limit: 1, cursor: 'cot_zzzzzzzzzzzzzzzzz' })).rejects.toThrow(/cursor "cot_zzzzzzzzzzzzzzzzz" is not a record id in this store/);
  });

  it('a folder touched without new records costs one scan, not one per page', async () => {
    await store.put(record('one'));
    await store.list({ limit: 1 });
    const before = listings.count;
    const now = statSync(store.dir).mtime;
    utimesSync(store.dir, now, new Date(now.getTime() + 5_000));
    await store.list({ limit: 1 });
    await store.list({ limit: 1 });
    await new RecordStore(data.path).list({ limit: 1 });
    expect(listings.count).toBe(before + 1);
  });
});
