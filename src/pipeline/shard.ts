import { InputError } from '../errors.js';
import { normalise, unitHash } from '../exports/normalise.js';
import type { InputRow } from '../inputs/read-prompts.js';

/** 1-based: shard {index: 2, count: 4} is the second of four. */
export interface Shard {
  index: number;
  count: number;
}

/**
 * How rows are assigned to shards; recorded in a run's manifest and part of its id, so a run made
 * with another method never resumes with other rows. Runs without it took rows by index modulo count.
 */
export const SHARD_BY = 'prompt-hash';

/**
 * Whether a row belongs to a shard. The one place that decides it, so every reader of rows agrees.
 * By a hash of the normalised prompt, not the row's position: rows added to the input, or taken
 * away, never move the other rows to another shard, and equal prompts land in the same shard.
 */
export function inShard(row: InputRow, shard: Shard): boolean {
  return Math.floor(unitHash(normalise(row.prompt)) * shard.count) === shard.index - 1;
}

/** "I/N" with 1 ≤ I ≤ N, as written on the command line and in a run's manifest. */
export function formatShard(shard: Shard): string {
  return `${shard.index}/${shard.count}`;
}

/**
 * A shard as asked for: "I/N", or "auto" to take it from the scheduler that started this process:
 * a Kubernetes Indexed Job (JOB_COMPLETION_INDEX, 0-based, with AIDSAFE_SHARD_COUNT set to the job's
 * completions) or a Slurm job array (SLURM_ARRAY_TASK_ID, SLURM_ARRAY_TASK_MIN, SLURM_ARRAY_TASK_COUNT).
 * `field` names the option in messages (`--shard`, `shard`).
 */
export function parseShard(value: string, field: string, env: NodeJS.ProcessEnv = process.env): Shard {
  if (value === 'auto') return shardFromScheduler(field, env);
  const m = /^(\d+)\/(\d+)$/.exec(value);
  const index = Number(m?.[1]);
  const count = Number(m?.[2]);
  if (!m || count < 1 || index < 1 || index > count) throw new InputError(`${field} must be I/N with 1 ≤ I ≤ N, e.g. 1/4, or "auto" (got "${value}")`);
  return { index, count };
}

function shardFromScheduler(field: string, env: NodeJS.ProcessEnv): Shard {
  if (env.JOB_COMPLETION_INDEX !== undefined) {
    const index = whole(env.JOB_COMPLETION_INDEX, 'JOB_COMPLETION_INDEX', field);
    if (env.AIDSAFE_SHARD_COUNT === undefined) throw new InputError(`${field} auto: JOB_COMPLETION_INDEX is set but AIDSAFE_SHARD_COUNT is not; set it to the Indexed Job's completions`);
    const count = whole(env.AIDSAFE_SHARD_COUNT, 'AIDSAFE_SHARD_COUNT', field);
    return checked(index, count, `JOB_COMPLETION_INDEX=${index} with AIDSAFE_SHARD_COUNT=${count}`, field);
  }
  if (env.SLURM_ARRAY_TASK_ID !== undefined) {
    const id = whole(env.SLURM_ARRAY_TASK_ID, 'SLURM_ARRAY_TASK_ID', field);
    const min = whole(env.SLURM_ARRAY_TASK_MIN ?? '', 'SLURM_ARRAY_TASK_MIN', field);
    const count = whole(env.SLURM_ARRAY_TASK_COUNT ?? '', 'SLURM_ARRAY_TASK_COUNT', field);
    // A stepped or sparse array (--array=0-10:2, --array=1,5,9) does not number its tasks 0…count−1 from its minimum.
    return checked(id - min, count, `SLURM_ARRAY_TASK_ID=${id}, SLURM_ARRAY_TASK_MIN=${min}, SLURM_ARRAY_TASK_COUNT=${count} (use a contiguous array such as --array=0-3)`, field);
  }
  throw new InputError(
    `${field} auto: no scheduler found; set JOB_COMPLETION_INDEX and AIDSAFE_SHARD_COUNT (a Kubernetes Indexed Job), or run as a Slurm job array (SLURM_ARRAY_TASK_ID, SLURM_ARRAY_TASK_MIN, SLURM_ARRAY_TASK_COUNT), or give the shard as I/N`,
  );
}

function whole(value: string, name: string, field: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isInteger(n) || n < 0) throw new InputError(`${field} auto: ${name} must be a whole number ≥ 0 (got "${value}")`);
  return n;
}

function checked(zeroBased: number, count: number, source: string, field: string): Shard {
  if (count < 1 || zeroBased < 0 || zeroBased >= count) throw new InputError(`${field} auto: ${source} does not name one of ${count} shards`);
  return { index: zeroBased + 1, count };
}
