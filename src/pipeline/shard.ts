import type { InputRow } from '../inputs/read-prompts.js';

/** 1-based: shard {index: 2, count: 4} is the second of four. */
export interface Shard {
  index: number;
  count: number;
}

/** Whether a row belongs to a shard. The one place that decides it, so every reader of rows agrees. */
export function inShard(row: InputRow, shard: Shard): boolean {
  return row.index % shard.count === shard.index - 1;
}
