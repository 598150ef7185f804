// One run of the scale benchmark in a process of its own, so its peak RSS and start-up are its own.
// Arguments: model server URL, data folder, input file, concurrency, max samples (0: none), block size.
// Prints one JSON line with what it measured.
import { loadConfig } from '../src/config.js';
import { createContext } from '../src/context.js';
import { BatchRun } from '../src/pipeline/batch.js';

const [url, dataDir, input, concurrencyArg, maxSamplesArg, blockArg] = process.argv.slice(2);
const concurrency = Number(concurrencyArg);
const maxSamples = Number(maxSamplesArg);
const block = Number(blockArg);

// Milliseconds since this process began, so start-up (module loading, reading the input) counts.
const sinceSpawn = () => performance.now();

const config = loadConfig({ OPENAI_BASE_URL: url, AIDSAFE_MODEL: 'scripted-model', AIDSAFE_DATA_DIR: dataDir });
const ctx = await createContext({ config });
const run = await BatchRun.prepare(ctx, {
  inputPath: input!,
  concurrency,
  grade: false,
  preference: false,
  agents: 2,
  maxRounds: 3,
  beliefRounds: 3,
  minMargin: 1,
  budgets: maxSamples > 0 ? { maxSamples } : {},
});
const preparedMs = sinceSpawn();
let startDone: number | undefined;
let firstSampleMs: number | undefined;
let blockStartMs = 0;
let blockStartDone = 0;
const blocks: { upto: number; samples_per_s: number }[] = [];
const final = await run.start((status) => {
  startDone ??= status.done;
  if (status.done === startDone) return;
  const now = sinceSpawn();
  if (firstSampleMs === undefined) {
    firstSampleMs = now;
    blockStartMs = now;
    blockStartDone = status.done;
  }
  // Blocks are aligned to the run's own count (10k, 20k, …), so a resumed run's blocks line up with the first's.
  if (Math.floor(status.done / block) > Math.floor(blockStartDone / block)) {
    blocks.push({ upto: status.done, samples_per_s: Math.round(((status.done - blockStartDone) / (now - blockStartMs)) * 1000 * 10) / 10 });
    blockStartMs = now;
    blockStartDone = status.done;
  }
});
await ctx.close();
const endMs = sinceSpawn();
process.stdout.write(
  JSON.stringify({
    status: final.status,
    done: final.done,
    failed: final.failed,
    total: final.total,
    prepared_s: preparedMs / 1000,
    first_sample_s: firstSampleMs === undefined ? undefined : firstSampleMs / 1000,
    wall_s: endMs / 1000,
    blocks,
    peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024),
  }) + '\n',
);
