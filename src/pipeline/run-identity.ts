import { createHash } from 'node:crypto';
import { PROMPT_TEMPLATE_VERSION } from '../agents/shared.js';
import { endpointFor, ROLES, type Config, type ResolvedEndpoint } from '../config.js';
import type { AppContext } from '../context.js';
import { InputError } from '../errors.js';
import { RUN_ID_PATTERN, type RunManifest, type RunOptions } from '../store/run-store.js';

/**
 * A hash of what decides a run's output: each role's model and sampling settings, and the prompt
 * templates. Not where the model is served (a server restarted on another port gives the same
 * outputs) and never the key.
 */
export function configHash(config: Config): string {
  const settings = (endpoint: ResolvedEndpoint) => ({ model: endpoint.model, temperature: endpoint.temperature ?? null });
  const endpoints = ROLES.map((role) => [role, settings(endpointFor(config, role))]);
  const agents = config.agents.map((_, i) => settings(endpointFor(config, 'deliberator', i)));
  return createHash('sha256').update(JSON.stringify({ endpoints, agents, templates: PROMPT_TEMPLATE_VERSION })).digest('hex').slice(0, 16);
}

/** The hash run ids were derived from before they left out the server address; kept so older runs still resume. */
function addressedConfigHash(config: Config): string {
  const endpoints = ROLES.map((role) => [role, endpointFor(config, role)]);
  const agents = config.agents.map((_, i) => endpointFor(config, 'deliberator', i));
  return createHash('sha256').update(JSON.stringify({ endpoints, agents, templates: PROMPT_TEMPLATE_VERSION })).digest('hex').slice(0, 16);
}

/**
 * The id a run gets when none is asked for. A shard's id also holds how rows were assigned, so a
 * shard made by row index never resumes as one made by prompt hash. The same input, options and
 * config without a shard give the id of the whole job, which is the id `merge` gives its shards' union.
 */
export function derivedRunId(inputInfo: Pick<RunManifest['input'], 'sha256' | 'column' | 'limit' | 'shard' | 'shard_by'>, options: RunOptions, configDigest: string, prefix = 'run'): string {
  const identity = JSON.stringify({ sha256: inputInfo.sha256, column: inputInfo.column, limit: inputInfo.limit, shard: inputInfo.shard, shard_by: inputInfo.shard_by, options, hash: configDigest });
  return `${prefix}-${createHash('sha256').update(identity).digest('hex').slice(0, 12)}`;
}

/**
 * The run's id: the one asked for, or one derived from the input, the rows taken, the recipe's options
 * and the models, so running the same command again resumes.
 */
export async function resolveRunId(ctx: AppContext, inputInfo: RunManifest['input'], options: RunOptions, requested?: string, prefix?: string): Promise<string> {
  const derivedId = (configDigest: string) => derivedRunId(inputInfo, options, configDigest, prefix);
  let runId = requested ?? derivedId(configHash(ctx.config));
  if (!requested && !prefix && !(await ctx.runs.readManifest(runId))) {
    const older = derivedId(addressedConfigHash(ctx.config));
    if (await ctx.runs.readManifest(older)) runId = older;
  }
  if (!RUN_ID_PATTERN.test(runId)) throw new InputError(`run_id: "${runId}" is not allowed; use 3–64 lowercase letters, digits, "-" or "_"`);
  return runId;
}

/** Throws when the run is busy elsewhere or was made from other input or options; returns its manifest when it exists. */
export async function checkResumable(ctx: AppContext, runId: string, inputInfo: RunManifest['input'], options: RunOptions): Promise<RunManifest | undefined> {
  const holder = await ctx.runs.lockHolder(runId);
  if (holder) throw new InputError(`run_id: run "${runId}" is already running in process ${holder.pid}; wait for it or cancel it`);
  const existing = await ctx.runs.readManifest(runId);
  if (existing) {
    if (existing.input.sha256 !== inputInfo.sha256) throw new InputError(`run_id: run "${runId}" was made from a different input file (its content changed); use another run id`);
    const keys = new Set([...Object.keys(options), ...Object.keys(existing.options)]) as Set<keyof RunOptions>;
    const differs = [...keys].filter((k) => JSON.stringify(existing.options[k]) !== JSON.stringify(options[k]));
    if (differs.length > 0) throw new InputError(`run_id: run "${runId}" was made with other options (${differs.join(', ')}); use the same options to resume, or another run id`);
    if (existing.input.column !== inputInfo.column || existing.input.limit !== inputInfo.limit || existing.input.shard !== inputInfo.shard) {
      throw new InputError(`run_id: run "${runId}" covers other rows (column, limit or shard differ); use another run id`);
    }
    if (existing.input.shard !== undefined && existing.input.shard_by !== inputInfo.shard_by) {
      throw new InputError(`run_id: run "${runId}" took its shard's rows ${existing.input.shard_by ? `by ${existing.input.shard_by}` : 'by row index'}, and shards now take rows by ${inputInfo.shard_by ?? 'row index'}, so it covers other rows; use another run id`);
    }
  }
  return existing;
}
