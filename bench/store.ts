import { statSync } from 'node:fs';
import { join } from 'node:path';
import { PROMPT_TEMPLATE_VERSION } from '../src/agents/shared.js';
import { newId } from '../src/ids.js';
import { emptyUsage } from '../src/pipeline/usage.js';
import { exportDataset } from '../src/store/export.js';
import { RECORD_SCHEMA_VERSION, type CotRecord } from '../src/store/record.js';
import { RecordStore } from '../src/store/record-store.js';
import { RunStore } from '../src/store/run-store.js';

export interface StoreFigures {
  records: number;
  record_bytes: number;
  write_ms_per_record: number;
  get_ms_median: number;
  /** The first list of a new process: it reads the whole index once. */
  list_cold_ms: number;
  list_first_page_ms_median: number;
  list_deep_page_ms_median: number;
  export_sft_s: number;
  peak_rss_mb: number;
}

/** A record of about 10 KB, shaped like a real one: thoughts, turns, removals. */
function record(i: number): CotRecord {
  const thought = (n: number) => `Thought ${n} for sample ${i}: the request is weighed against [PH-5] and [RH-1]; the plausible reading is benign, so full help is given while declining operational detail. `.repeat(2);
  const thoughts = Array.from({ length: 12 }, (_, n) => thought(n));
  return {
    schema_version: RECORD_SCHEMA_VERSION,
    kind: 'cot',
    id: newId('cot'),
    prompt: `Benchmark prompt number ${i}: how do I safely dispose of old batteries at home?`,
    policy_ids: ['physical_harm', 'respect_helpfulness'],
    policy_hashes: { physical_harm: 'sha256:' + 'a'.repeat(64), respect_helpfulness: 'sha256:' + 'b'.repeat(64) },
    intents: { explicit: ['Dispose of batteries'], implicit: ['Avoid fire or chemical harm'] },
    initial_thoughts: thoughts.slice(0, 4),
    initial_draft_response: 'Draft. '.repeat(40),
    deliberation: [1, 2].map((agent) => ({ round: 1, agent, model: 'bench-model', verdict: agent === 2 ? ('agree' as const) : ('revise' as const), thoughts: thoughts.slice(4, 8), draft_response: 'Draft. '.repeat(40), duration_ms: 900 })),
    stop_reason: 'agreement',
    agents: 2,
    max_rounds: 3,
    thoughts,
    refined_thoughts: thoughts.slice(0, 10),
    removed: thoughts.slice(10).map((t) => ({ thought: t, reason: 'redundant' as const, explanation: 'Repeats thought 3.' })),
    response: 'Take them to a collection point; tape the terminals of lithium cells. '.repeat(8),
    usage: emptyUsage(),
    models: { intents: 'bench-model', initial_cot: 'bench-model', deliberators: ['bench-model', 'bench-model'], refiner: 'bench-model', responder: 'bench-model' },
    prompt_template_version: PROMPT_TEMPLATE_VERSION,
    timings: { total_ms: 5000 },
    created_at: new Date().toISOString(),
    run_id: 'bench',
    metadata: { category: 'household', row_index: i },
  };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

export async function benchStore(dir: string, count: number): Promise<StoreFigures> {
  let peak = 0;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
  try {
    const store = new RecordStore(join(dir, 'store'));
    await store.init();
    const ids: string[] = [];
    // Writes go as a batch run makes them: up to 32 at once.
    const t0 = performance.now();
    for (let start = 0; start < count; start += 32) {
      const batch = Array.from({ length: Math.min(32, count - start) }, (_, k) => record(start + k));
      await Promise.all(batch.map((r) => store.put(r)));
      ids.push(...batch.map((r) => r.id));
    }
    const writeMs = (performance.now() - t0) / count;
    const bytes = statSync(join(store.dir, `${ids[0]}.json`)).size; // as stored: compact JSON

    const t2 = performance.now();
    await new RecordStore(join(dir, 'store')).list({ limit: 20 });
    const coldMs = performance.now() - t2;

    const gets: number[] = [];
    for (let k = 0; k < 200; k++) {
      const id = ids[Math.floor((k * 7919) % ids.length)] as string;
      const t = performance.now();
      await store.get(id);
      gets.push(performance.now() - t);
    }
    const firstPage: number[] = [];
    const deepPage: number[] = [];
    const middle = ids[Math.floor(ids.length / 2)];
    for (let k = 0; k < 20; k++) {
      let t = performance.now();
      await store.list({ limit: 20 });
      firstPage.push(performance.now() - t);
      t = performance.now();
      await store.list({ limit: 20, cursor: middle });
      deepPage.push(performance.now() - t);
    }
    const t1 = performance.now();
    const exported = await exportDataset(store, new RunStore(join(dir, 'store')), { format: 'sft', out: join(dir, 'export.jsonl') });
    const exportS = (performance.now() - t1) / 1000;
    if (exported.count !== count) throw new Error(`exported ${exported.count} of ${count}`);
    return {
      records: count,
      record_bytes: bytes,
      write_ms_per_record: round(writeMs, 3),
      get_ms_median: round(median(gets), 3),
      list_cold_ms: round(coldMs),
      list_first_page_ms_median: round(median(firstPage)),
      list_deep_page_ms_median: round(median(deepPage)),
      export_sft_s: round(exportS),
      peak_rss_mb: Math.round(peak / 1024 / 1024),
    };
  } finally {
    clearInterval(sampler);
  }
}

function round(n: number, digits = 2): number {
  return Math.round(n * 10 ** digits) / 10 ** digits;
}
