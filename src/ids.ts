import { randomBytes } from 'node:crypto';

/**
 * Ids that sort by creation time as plain strings (newest last), so listing needs no index:
 * 9 base-36 digits of milliseconds, then 8 random base-36 digits.
 */
export function newId(prefix: string, now = Date.now()): string {
  const time = now.toString(36).padStart(9, '0');
  const bytes = randomBytes(8);
  let random = '';
  for (const b of bytes) random += (b % 36).toString(36);
  return `${prefix}_${time}${random}`;
}
