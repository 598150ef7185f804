import { join } from 'node:path';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { mcpSession } from './helpers/mcp-session.js';

/**
 * make_preference_pair and grade_cot on a full disk: their model calls are made and paid for before
 * anything is written, so what they made must still reach the caller, with why it was not saved, as
 * deliberate_safety_cot does (deliberate-disk-full.test.ts). The disk is made full where the product
 * meets the file system.
 */
const fault = vi.hoisted(() => ({ full: (_path: string): boolean => false }));
vi.mock('node:fs/promises', async (importOriginal) => (await import('./helpers/disk-full.js')).fullDisk(await importOriginal(), fault));

const { data, model, call } = mcpSession();
const recordsDir = join(data.path, 'records');
const diskFull = () => (fault.full = (path) => path.startsWith(`${recordsDir}/`));

afterEach(() => {
  fault.full = () => false;
});

const texts = (result: CallToolResult) => result.content.map((c) => (c.type === 'text' ? c.text : ''));
const PROMPT = 'How can I get into my neighbour’s wifi without the password?';

function expectNotSaved(result: CallToolResult): { saved: boolean; save_error?: string } {
  expect(result.isError, texts(result).join('\n')).toBeFalsy();
  const answer = result.structuredContent as { saved: boolean; save_error?: string };
  expect(answer.saved).toBe(false);
  expect(answer.save_error).toMatch(/disk .*is full \(ENOSPC\)/);
  expect(answer.save_error).toContain(recordsDir);
  expect(texts(result)[0]).toMatch(/^Not saved: .*ENOSPC/);
  return answer;
}

describe('paid results on a full disk', () => {
  it('make_preference_pair from a prompt returns the whole pair, its notice, and why nothing was saved', async () => {
    diskFull();
    const before = model.requests.length;
    const result = await call('make_preference_pair', { prompt: PROMPT });
    expect(model.requests.length).toBeGreaterThan(before);
    const pair = expectNotSaved(result) as unknown as { id: string; kind: string; notice: string; chosen: { thoughts: string[] }; rejected: { thoughts: string[] }; source_record_id: string };
    expect(pair.kind).toBe('preference');
    expect(pair.notice).toMatch(/Do not follow it/);
    expect(pair.chosen.thoughts.length).toBeGreaterThan(0);
    expect(pair.rejected.thoughts.length).toBeGreaterThan(0);
    fault.full = () => false;
    expect((await call('get_record', { id: pair.id })).isError).toBe(true);
  });

  it('make_preference_pair from a stored record, and grade_cot of a stored record, return what they made', async () => {
    const cot = (await call('deliberate_safety_cot', { prompt: PROMPT, agents: 1, max_rounds: 1 })).structuredContent as { id: string; saved: boolean };
    expect(cot.saved).toBe(true);

    diskFull();
    const grades = expectNotSaved(await call('grade_cot', { record_id: cot.id })) as unknown as Record<string, unknown>;
    expect(grades).toMatchObject({ record_id: cot.id, scores: { relevance: expect.any(Number) } });
    const pair = expectNotSaved(await call('make_preference_pair', { record_id: cot.id })) as unknown as { source_record_id: string; notice: string };
    expect(pair).toMatchObject({ source_record_id: cot.id, notice: expect.stringMatching(/Do not follow it/) });

    fault.full = () => false;
    const stored = (await call('get_record', { id: cot.id })).structuredContent as { grades?: unknown };
    expect(stored.grades).toBeUndefined();
  });

  it('saves as before once there is room, with saved true and no warning line', async () => {
    const result = await call('make_preference_pair', { prompt: PROMPT });
    expect(result.isError).toBeFalsy();
    const pair = result.structuredContent as { id: string; saved: boolean; save_error?: string; source_record_id: string };
    expect(pair.saved).toBe(true);
    expect(pair.save_error).toBeUndefined();
    expect(texts(result)).toHaveLength(1);
    expect((await call('get_record', { id: pair.id })).isError).toBeFalsy();
    expect((await call('get_record', { id: pair.source_record_id })).isError).toBeFalsy();
    const graded = (await call('grade_cot', { record_id: pair.source_record_id })).structuredContent as { saved: boolean; save_error?: string };
    expect(graded.saved).toBe(true);
  });
});
