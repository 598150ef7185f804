import type { AppContext } from '../context.js';
import { InputError } from '../errors.js';
import type { CotRecord } from '../store/record.js';
import type { RunManifest } from '../store/run-store.js';

export interface LoadedRun {
  manifest: RunManifest;
  /** The run's finished samples, in input order. */
  records: CotRecord[];
}

/** A run's manifest and finished CoT records; an unknown id is an error that says where to look. */
export async function loadRun(ctx: AppContext, runId: string): Promise<LoadedRun> {
  const manifest = await ctx.runs.readManifest(runId);
  if (!manifest) {
    const known = (await ctx.runs.list()).map((r) => r.id).slice(0, 10);
    throw new InputError(`run_ids: no run "${runId}" in this data folder${known.length ? ` (runs here: ${known.join(', ')})` : ' (it has no runs)'}; list them with \`aidsafe-mcp runs\``);
  }
  const progress = await ctx.runs.progress(runId);
  const events = [...progress.samples.values()].filter((e) => e.s === 'done').sort((a, b) => a.i - b.i);
  const records: CotRecord[] = [];
  for (const event of events) {
    const record = await ctx.store.get(event.record_id);
    if (record?.kind === 'cot') records.push(record);
  }
  return { manifest, records };
}

/** Samples of two runs with the same prompt (the first of each run's, when a prompt repeats). */
export function pairByPrompt(a: LoadedRun, b: LoadedRun): { pairs: [CotRecord, CotRecord][]; onlyA: number; onlyB: number } {
  const byPrompt = new Map<string, CotRecord>();
  for (const r of b.records) if (!byPrompt.has(r.prompt)) byPrompt.set(r.prompt, r);
  const pairs: [CotRecord, CotRecord][] = [];
  const seen = new Set<string>();
  for (const r of a.records) {
    const other = byPrompt.get(r.prompt);
    if (!other || seen.has(r.prompt)) continue;
    seen.add(r.prompt);
    pairs.push([r, other]);
  }
  if (pairs.length === 0) {
    throw new InputError(
      `run_ids: runs "${a.manifest.id}" (${a.records.length} finished samples, from ${a.manifest.input.path}) and "${b.manifest.id}" (${b.records.length}, from ${b.manifest.input.path}) have no prompt in common; compare runs made from the same prompts`,
    );
  }
  return { pairs, onlyA: new Set(a.records.map((r) => r.prompt)).size - pairs.length, onlyB: new Set(b.records.map((r) => r.prompt)).size - pairs.length };
}
