import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../src/config.js';
import { createContext } from '../src/context.js';
import { readPromptFile } from '../src/inputs/read-prompts.js';
import { BatchRun } from '../src/pipeline/batch.js';

export interface PipelineFigures {
  samples: number;
  concurrency: number;
  latency_ms: number;
  calls: number;
  calls_per_sample: number;
  wall_s: number;
  samples_per_s: number;
  ideal_s: number;
  efficiency: number;
}

/** Real prompts from the shipped benchmark sets, as one JSONL file of `count` rows. */
async function promptFile(dir: string, count: number): Promise<string> {
  const datasets = new URL('../../benchmarks/', import.meta.url);
  const rows: string[] = [];
  for (const name of ['xstest.jsonl', 'strongreject.jsonl', 'advbench.jsonl', 'harmbench.jsonl']) {
    for (const row of (await readPromptFile(fileURLToPath(new URL(name, datasets)))).rows) rows.push(JSON.stringify({ prompt: row.prompt, source: name }));
  }
  const path = join(dir, 'prompts.jsonl');
  writeFileSync(path, rows.slice(0, count).join('\n') + '\n');
  return path;
}

export async function benchPipeline(dir: string, samples: number, concurrency: number, latencyMs: number): Promise<PipelineFigures> {
  const serverJs = fileURLToPath(new URL('./model-server-process.js', import.meta.url));
  const server = spawn(process.execPath, [serverJs, String(latencyMs)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise<string>((resolve) => server.stdout.once('data', (c: Buffer) => resolve(c.toString().trim())));
  try {
    const input = await promptFile(dir, samples);
    const config = loadConfig({ OPENAI_BASE_URL: url, AIDSAFE_MODEL: 'scripted-model', AIDSAFE_DATA_DIR: join(dir, `data-${concurrency}`) });
    const ctx = await createContext({ config });
    const run = await BatchRun.prepare(ctx, { inputPath: input, concurrency, grade: false, preference: false, agents: 2, maxRounds: 3, beliefRounds: 3, minMargin: 1, budgets: {} });
    const t0 = performance.now();
    const final = await run.start();
    const wall = (performance.now() - t0) / 1000;
    await ctx.close();
    if (final.done !== samples) throw new Error(`only ${final.done} of ${samples} samples finished`);
    const calls = final.usage.calls;
    const ideal = (calls * latencyMs) / 1000 / concurrency;
    return {
      samples,
      concurrency,
      latency_ms: latencyMs,
      calls,
      calls_per_sample: calls / samples,
      wall_s: round(wall),
      samples_per_s: round(samples / wall),
      ideal_s: round(ideal),
      efficiency: round(ideal / wall, 3),
    };
  } finally {
    server.kill('SIGTERM');
  }
}

function round(n: number, digits = 2): number {
  return Math.round(n * 10 ** digits) / 10 ** digits;
}
