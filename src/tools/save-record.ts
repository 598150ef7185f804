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
  return answerSaved(record, await trySave(ctx, tool, record));
}

/** Stores a record; when the store cannot take it, logs that and returns why, in words, instead of throwing. */
export async function trySave(ctx: AppContext, tool: string, record: StoredRecord): Promise<string | undefined> {
  try {
    await ctx.store.put(record);
    return undefined;
  } catch (error) {
    const reason = whyNotSaved(error, ctx.store.dir);
    log('error', `${tool}: record ${record.id} was made but not saved: ${reason}`);
    return reason;
  }
}

/**
 * The answer of a tool that paid for `value` and tried to store what it made (the record itself, or
 * grades saved onto one): `saved`, and when a save failed (`notSaved`, from trySave) `save_error`
 * and the first text line that says so (`what` names what the result holds).
 */
export function answerSaved<T extends object>(value: T, notSaved: string | undefined, what = 'The record in structuredContent is'): CallToolResult {
  if (notSaved === undefined) return ok({ ...value, saved: true });
  const result = ok({ ...value, saved: false, save_error: notSaved });
  result.content.unshift({ type: 'text', text: `Not saved: ${notSaved}. ${what} complete, but only in this result: keep this result, and make room so later records are saved.` });
  return result;
}

function whyNotSaved(error: unknown, dir: string): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOSPC') return `the disk holding ${dir} is full (ENOSPC)`;
  if (code === 'EDQUOT') return `the disk quota for ${dir} is used up (EDQUOT)`;
  if (code === 'EROFS') return `${dir} is on a read-only file system (EROFS)`;
  if (code === 'EACCES' || code === 'EPERM') return `this process may not write in ${dir} (${code})`;
  return `writing it under ${dir} failed: ${error instanceof Error ? error.message : String(error)}`;
}
