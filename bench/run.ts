// npm run bench [-- --samples N --concurrency N --latency MS --records N --sessions N --rows N --prompts N --block N --big-rows N --starts N --server PATH --only pipeline|store|sessions|screening|startup|scale|resume|chat --floor]
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { benchCacheIndex } from './cache-index-memory.js';
import { benchChatContext } from './chat-context.js';
import { benchClientFloor } from './client-floor.js';
import { benchHttpSessions } from './http-sessions.js';
import { benchPipeline } from './pipeline.js';
import { benchResume } from './resume.js';
import { benchScale } from './scale.js';
import { benchScreening } from './screening.js';
import { benchStartup } from './startup.js';
import { benchStore } from './store.js';

const { values } = parseArgs({
  options: {
    samples: { type: 'string', default: '1000' },
    concurrency: { type: 'string' },
    latency: { type: 'string', default: '250' },
    floor: { type: 'boolean', default: false },
    records: { type: 'string', default: '10000' },
    sessions: { type: 'string', default: '2000' },
    rows: { type: 'string', default: '100000' },
    prompts: { type: 'string', default: '100000' },
    block: { type: 'string', default: '10000' },
    'big-rows': { type: 'string', default: '1000000' },
    starts: { type: 'string', default: '9' },
    server: { type: 'string' },
    only: { type: 'string' },
  },
});
const dir = mkdtempSync(join(tmpdir(), 'aidsafe-bench-'));
process.env.AIDSAFE_LOG_LEVEL = 'warning';
try {
  console.log(`machine: ${cpus()[0]?.model ?? 'unknown cpu'} × ${cpus().length}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`);
  console.log(`date: ${new Date().toISOString()}`);
  if (values.only === 'sessions') {
    for (const figures of await benchHttpSessions(Number(values.sessions))) console.log('http sessions', JSON.stringify(figures));
  }
  if (values.only === undefined || values.only === 'pipeline') {
    const figures = await benchPipeline(dir, Number(values.samples), Number(values.concurrency ?? 32), Number(values.latency));
    console.log('pipeline', JSON.stringify(figures));
    if (values.floor) console.log('bare client', JSON.stringify(await benchClientFloor(figures.calls, figures.concurrency, figures.latency_ms)));
  }
  if (values.only === undefined || values.only === 'store') {
    const figures = await benchStore(dir, Number(values.records));
    console.log('store', JSON.stringify(figures));
  }
  // Minutes long at 100,000 prompts, so only when asked for.
  if (values.only === 'scale') {
    console.log('cache index', JSON.stringify(benchCacheIndex(1_000_000)));
    const figures = await benchScale(dir, Number(values.prompts), Number(values.concurrency ?? 64), Number(values.block), Number(values['big-rows']));
    console.log('scale', JSON.stringify(figures));
  }
  // Writes a 100,000-prompt run's log and a 400 MB request cache first, so only when asked for.
  if (values.only === 'resume') console.log('resume', JSON.stringify(await benchResume(dir, Number(values.prompts))));
  if (values.only === undefined || values.only === 'startup') console.log('startup', JSON.stringify(await benchStartup(Number(values.starts), values.server)));
  if (values.only === undefined || values.only === 'chat') console.log('chat context', JSON.stringify(await benchChatContext(dir, values.server)));
  if (values.only === undefined || values.only === 'screening') console.log('screening', JSON.stringify(await benchScreening(Number(values.rows))));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
