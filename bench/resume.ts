// Time for a resumed run to start its next sample, at a size too slow to reach with real samples here:
// a run of `prompts` rows that is `share` done, with its run log and a request cache of 6 calls per
// finished sample written directly, in the formats the run writes them. The resumed process is timed
// from spawn to the first request at the model server: that request is the next sample's first call.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createWriteStream, mkdirSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { finished } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { SEGMENT_BYTES } from '../src/llm/request-cache.js';
import { writePrompts } from './scale.js';

export interface ResumeFigures {
  prompts: number;
  done: number;
  cached_calls: number;
  cache_mb: number;
  /** Spawn of the resumed process to its first model request, per start (the first builds the cache's sidecars). */
  next_sample_s: number[];
}

const CALLS_PER_SAMPLE = 6;

async function write(path: string, lines: Iterable<string>): Promise<number> {
  const out = createWriteStream(path);
  let bytes = 0;
  for (const line of lines) {
    bytes += line.length + 1;
    if (!out.write(line + '\n')) await new Promise<void>((r) => out.once('drain', () => r()));
  }
  out.end();
  await finished(out);
  return bytes;
}

function* logLines(done: number): Generator<string> {
  const usage = { calls: 6, cached_calls: 0, prompt_tokens: 9000, completion_tokens: 1500, by_role: {}, by_model: { 'scripted-model': { prompt_tokens: 9000, completion_tokens: 1500 } } };
  for (let i = 0; i < done; i++) {
    const record_id = `cot_${i.toString(36).padStart(12, '0')}`;
    yield JSON.stringify({ i, s: 'started', record_id, at: '2026-11-28T00:00:00.000Z' });
    yield JSON.stringify({ i, s: 'done', record_id, usage, at: '2026-11-28T00:00:01.000Z' });
  }
}

/** Cache lines of about the size real replies have (~770 bytes), split into full segments as a run splits them. */
async function writeCache(dir: string, entries: number): Promise<number> {
  mkdirSync(dir, { recursive: true });
  const value = { thoughts: ['x'.repeat(300), 'y'.repeat(300)], response: 'z'.repeat(80) };
  let total = 0;
  let segment = 0;
  let i = 0;
  while (i < entries) {
    const lines: string[] = [];
    let bytes = 0;
    while (i < entries && bytes < SEGMENT_BYTES) {
      const line = JSON.stringify({ k: createHash('sha256').update(String(i)).digest('hex'), value, model: 'scripted-model', usage: { prompt_tokens: 1500, completion_tokens: 250 } });
      lines.push(line);
      bytes += line.length + 1;
      i++;
    }
    total += await write(join(dir, `${(segment++).toString(36).padStart(8, '0')}-1-bench.jsonl`), lines);
  }
  return total;
}

export async function benchResume(dir: string, prompts: number, share = 0.9, starts = 3): Promise<ResumeFigures> {
  const input = join(dir, 'resume-prompts.jsonl');
  await writePrompts(input, prompts);
  const data = join(dir, 'resume-data');
  const done = Math.floor(prompts * share);
  mkdirSync(join(data, 'runs', 'resume-bench'), { recursive: true });
  await write(join(data, 'runs', 'resume-bench', 'samples.jsonl'), logLines(done));
  const cacheBytes = await writeCache(join(data, 'cache'), done * CALLS_PER_SAMPLE);

  const next: number[] = [];
  for (let s = 0; s < starts; s++) {
    let firstRequest: (() => void) | undefined;
    const server = createServer((_req, res) => {
      firstRequest?.();
      res.writeHead(500).end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
    const script = fileURLToPath(new URL('./resume-process.js', import.meta.url));
    const t0 = performance.now();
    const child = spawn(process.execPath, [script, url, data, input], { stdio: ['ignore', 'ignore', 'inherit'] });
    await new Promise<void>((resolve, reject) => {
      firstRequest = () => {
        firstRequest = undefined;
        next.push(Math.round(performance.now() - t0) / 1000);
        resolve();
      };
      child.once('exit', () => reject(new Error('the resumed run ended before its next sample started')));
    });
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    server.close();
  }
  return { prompts, done, cached_calls: done * CALLS_PER_SAMPLE, cache_mb: Math.round(cacheBytes / 2 ** 20), next_sample_s: next };
}
