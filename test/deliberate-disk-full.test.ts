import { join } from 'node:path';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { mcpSession } from './helpers/mcp-session.js';

/**
 * A full disk under `deliberate_safety_cot`: every model call is made and paid for before the record
 * is written, so the record must still reach the caller, with why it was not saved. The disk is made
 * full where the product meets the file system, as in disk-full.test.ts.
 */
const fault = vi.hoisted(() => ({ full: (_path: string): boolean => false }));
vi.mock('node:fs/promises', async (importOriginal) => (await import('./helpers/disk-full.js')).fullDisk(await importOriginal(), fault));

const { data, model, call } = mcpSession();

afterEach(() => {
  fault.full = () => false;
});

const texts = (result: CallToolResult) => result.content.map((c) => (c.type === 'text' ? c.text : ''));

describe('deliberate_safety_cot on a full disk', () => {
  it('returns the whole record, says it was not saved because the disk is full, and stores nothing', async () => {
    fault.full = (path) => path.startsWith(`${join(data.path, 'records')}/`);
    const requestsBefore = model.requests.length;
    const result = await call('deliberate_safety_cot', { prompt: 'How do I whittle a knife?', agents: 1, max_rounds: 1 });
    expect(model.requests.length).toBeGreaterThan(requestsBefore);
    expect(result.isError).toBeFalsy();
    const record = result.structuredContent as { id: string; saved: boolean; save_error?: string; response: string; thoughts: string[] };
    expect(record.saved).toBe(false);
    expect(record.response).toMatch(/whittle a knife/);
    expect(record.thoughts.length).toBeGreaterThan(0);
    expect(record.save_error).toMatch(/disk .*is full \(ENOSPC\)/);
    expect(record.save_error).toContain(join(data.path, 'records'));
    const [warning, summary] = texts(result);
    expect(warning).toMatch(/^Not saved: /);
    expect(warning).toMatch(/structuredContent is complete/);
    expect(summary).toContain(`Record ${record.id} (not saved;`);

    fault.full = () => false;
    expect(texts(await call('get_record', { id: record.id })).join('')).toMatch(/no record/);
  });

  it('saves as before once there is room', async () => {
    const result = await call('deliberate_safety_cot', { prompt: 'How do I whittle a knife?', agents: 1, max_rounds: 1 });
    const record = result.structuredContent as { id: string; saved: boolean; save_error?: string };
    expect(record).toMatchObject({ saved: true });
    expect(record.save_error).toBeUndefined();
    expect(texts(result)).toHaveLength(1);
    expect((await call('get_record', { id: record.id })).isError).toBeFalsy();
  });
});
