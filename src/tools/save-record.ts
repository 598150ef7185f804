import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { AppContext } from '../context.js';
import { log } from '../log.js';
import type { StoredRecord } from '../store/record.js';
import { ok } from './tool-kit.js';

/**
 * The result of a tool that made a record with paid model calls and then stores it. When the store
 * cannot take it (a full or read-only disk), the record is still the answer: it comes back whole (as structuredContent),
 * with `saved: false`, `save_error` and a first text line saying it was not saved and why, rather
 * than an error that would throw the paid work away. Not `isError`, since what was asked for was
 * made; a caller that needs it stored reads `saved`.
 */
export async function saveAndReturn<T extends StoredRecord>(ctx: AppContext, tool: string, record: T, save: boolean): Promise<CallToolResult> {
  if (!save) return ok({ ...record, saved: false });
  try {
    await ctx.store.put(record);
  } catch (error) {
    const reason = whyNotSaved(error, ctx.store.dir);
    log('error', `${tool}: record ${record.id} was made but not saved: ${reason}`);
    const result = ok({ ...record, saved: false, save_error: reason });
    result.content.unshift({ type: 'text', text: `Not saved: ${reason}. The record in this result's structuredContent is complete, but it is kept nowhere else; keep it from here, and make room so later records are saved.` });
    return result;
  }
  return ok({ ...record, saved: true });
}

function whyNotSaved(error: unknown, dir: string): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOSPC') return `the disk holding ${dir} is full (ENOSPC)`;
  if (code === 'EDQUOT') return `the disk quota for ${dir} is used up (EDQUOT)`;
  if (code === 'EROFS') return `${dir} is on a read-only file system (EROFS)`;
  if (code === 'EACCES' || code === 'EPERM') return `this process may not write in ${dir} (${code})`;
  return `writing it under ${dir} failed: ${error instanceof Error ? error.message : String(error)}`;
}
