import { spawn } from 'node:child_process';
import { createWriteStream, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { finished } from 'node:stream/promises';
import { readPromptFile } from '../src/inputs/read-prompts.js';

export interface ScaleRun {
  status: string;
  done: number;
  failed: number;
  total: number;
  prepared_s: number;
  first_sample_s?: number;
  wall_s: number;
  blocks: { upto: number; samples_per_s: number }[];
  peak_rss_mb: number;
}

export interface ScaleFigures {
  prompts: number;
  concurrency: number;
  /** The run stopped at 90% (one process), then resumed to the end (another); absent with `prompts` 0. */
  first_90?: ScaleRun;
  resume?: ScaleRun;
  blocks?: { upto: number; samples_per_s: number }[];
  last_vs_first_block?: number;
  peak_rss_mb?: number;
  disk_bytes_per_sample?: number;
  big_file?: { rows: number; max_samples: number; file_mb: number; run: ScaleRun };
}

/**
 * Writes `count` unique prompts as JSONL: the shipped benchmark sets' prompts over and over, each with its row
 * number, so neither the request cache nor dedup sees a repeat.
 */
export async function writePrompts(path: string, count: number): Promise<number> {
  const datasets = new URL('../../benchmarks/', import.meta.url);
  const base: string[] = [];
  for (const name of ['xstest.jsonl', 'strongreject.jsonl', 'advbench.jsonl', 'harmbench.jsonl']) {
    for (const row of (await readPromptFile(fileURLToPath(new URL(name, datasets)))).rows) base.push(row.prompt);
  }
  const out = createWriteStream(path);
  let bytes = 0;
  for (let i = 0; i < count; i++) {
    const line = JSON.stringify({ prompt: `${base[i % base.length]} (#${i})`, row: i }) + '\n';
    bytes += line.length;
    if (!out.write(line)) await new Promise<void>((r) => out.once('drain', () => r()));
  }
  out.end();
  await finished(out);
  return bytes;
}

function runProcess(url: string, dataDir: string, input: string, concurrency: number, maxSamples: number, block: number): Promise<ScaleRun> {
  const script = fileURLToPath(new URL('./scale-run-process.js', import.meta.url));
  const child = spawn(process.execPath, [script, url, dataDir, input, String(concurrency), String(maxSamples), String(block)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  return new Promise((resolve, reject) => {
    child.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`scale run exited with ${code}`));
      resolve(JSON.parse(out.trim().split('\n').pop()!) as ScaleRun);
    });
  });
}

function bytesUnder(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    total += entry.isDirectory() ? bytesUnder(path) : statSync(path).size;
  }
  return total;
}

/**
 * `prompts` samples through a zero-latency scripted server: the first 90% in one process, the rest in a
 * second that resumes the run (how long before its next sample, and whether the last block is as fast
 * as the first); then, when `bigRows` > 0, a file of that many rows that stops after `concurrency` samples.
 */
export async function benchScale(dir: string, prompts: number, concurrency: number, block: number, bigRows: number): Promise<ScaleFigures> {
  const serverJs = fileURLToPath(new URL('./model-server-process.js', import.meta.url));
  const server = spawn(process.execPath, [serverJs, '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise<string>((resolve) => server.stdout.once('data', (c: Buffer) => resolve(c.toString().trim())));
  try {
    let figures: ScaleFigures = { prompts, concurrency };
    if (prompts > 0) {
      const input = join(dir, 'scale-prompts.jsonl');
      await writePrompts(input, prompts);
      const dataDir = join(dir, 'scale-data');
      const first = await runProcess(url, dataDir, input, concurrency, Math.round(prompts * 0.9), block);
      const resume = await runProcess(url, dataDir, input, concurrency, 0, block);
      if (resume.done !== prompts) throw new Error(`only ${resume.done} of ${prompts} samples finished`);
      const blocks = [...first.blocks, ...resume.blocks];
      figures = {
        ...figures,
        first_90: first,
        resume,
        blocks,
        last_vs_first_block: blocks.length > 1 ? Math.round((blocks.at(-1)!.samples_per_s / blocks[0]!.samples_per_s) * 1000) / 1000 : 1,
        peak_rss_mb: Math.max(first.peak_rss_mb, resume.peak_rss_mb),
        disk_bytes_per_sample: Math.round(bytesUnder(dataDir) / prompts),
      };
    }
    if (bigRows > 0) {
      const big = join(dir, 'scale-big.jsonl');
      const bytes = await writePrompts(big, bigRows);
      const run = await runProcess(url, join(dir, 'scale-big-data'), big, concurrency, concurrency, block);
      figures.big_file = { rows: bigRows, max_samples: concurrency, file_mb: Math.round(bytes / 2 ** 20), run };
    }
    return figures;
  } finally {
    server.kill('SIGTERM');
  }
}
