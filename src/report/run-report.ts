import { GRADE_METRICS } from '../agents/grader.js';
import { reportPage } from './page.js';
import { REMOVAL_REASONS } from '../agents/refiner.js';
import type { AppContext } from '../context.js';
import { InputError } from '../errors.js';
import { costOf } from '../pipeline/batch.js';
import { HealthTally, healthOf, healthTable, healthVerdict, isSampleHealth, sampleHealth } from '../pipeline/health.js';
import { pairOutcome, PairTally } from '../store/pair-outcome.js';
import { PAIR_DROP_REASONS, type CotRecord, type PreferenceRecord } from '../store/record.js';
import { escapeHtml, viewAsset } from '../views/assets.js';
import { barChart } from './charts.js';

/** Columns that usually name a sample's category in safety prompt sets, in order of preference. */
const CATEGORY_COLUMNS = ['category', 'type', 'SemanticCategory', 'risk_area', 'types_of_harm', 'label', 'FunctionalCategory', 'source'];
/** Sample details embedded in one report; the summary always covers the whole run. */
export const MAX_REPORT_SAMPLES = 2_000;

export interface ReportSample {
  index: number;
  status: 'done' | 'failed' | 'pending';
  prompt: string;
  category: string | null;
  metadata?: Record<string, unknown>;
  error?: string;
  record?: CotRecord;
  pair?: PreferenceRecord;
}

export interface RunReport {
  html: string;
  samples: number;
  embedded: number;
}

function count<T>(values: Iterable<T>): Map<T, number> {
  const counts = new Map<T, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return counts;
}

/** One self-contained HTML file on a run: summary figures, inline SVG charts, and a filterable list of samples that opens the deliberation view. */
export async function buildRunReport(ctx: AppContext, runId: string): Promise<RunReport> {
  const manifest = await ctx.runs.readManifest(runId);
  if (!manifest) throw new InputError(`run_id: no run "${runId}" in this data folder`);
  const progress = await ctx.runs.progress(runId);

  const samples: ReportSample[] = [];
  const events = [...progress.samples.values()].sort((a, b) => a.i - b.i);
  for (let start = 0; start < events.length; start += 32) {
    const chunk = events.slice(start, start + 32);
    const loaded = await Promise.all(
      chunk.map(async (event) => {
        const record = event.s === 'done' ? await ctx.store.get(event.record_id) : undefined;
        const pair = event.s === 'done' && event.pair_id ? await ctx.store.get(event.pair_id) : undefined;
        return { event, record: record?.kind === 'cot' ? record : undefined, pair: pair?.kind === 'preference' ? pair : undefined };
      }),
    );
    for (const { event, record, pair } of loaded) {
      samples.push({
        index: event.i,
        status: event.s === 'started' ? 'pending' : event.s,
        prompt: record?.prompt ?? event.prompt ?? '',
        category: null,
        metadata: record?.metadata ?? event.metadata,
        ...(event.error ? { error: event.error } : {}),
        ...(record ? { record } : {}),
        ...(pair ? { pair } : {}),
      });
    }
  }
  const records = samples.flatMap((s) => (s.record ? [s.record] : []));
  const categoryColumn = CATEGORY_COLUMNS.find((c) => samples.some((s) => typeof s.metadata?.[c] === 'string' && s.metadata[c] !== ''));
  for (const s of samples) {
    s.category = categoryColumn ? String(s.metadata?.[categoryColumn] ?? '') || null : null;
    delete s.metadata; // the record carries it; the embedded list stays small
  }

  const done = samples.filter((s) => s.status === 'done').length;
  const failed = samples.filter((s) => s.status === 'failed').length;
  const graded = records.filter((r) => r.grades);
  const pairs = samples.flatMap((s) => (s.pair ? [s.pair] : []));
  const pairTally = new PairTally();
  for (const pair of pairs) pairTally.add(pairOutcome(pair));
  const pairCounts = pairTally.summary();
  const cost = costOf(progress.usage, ctx.config.prices, manifest.batch_mode !== undefined);
  const tokens = progress.usage.prompt_tokens + progress.usage.completion_tokens;

  // The same figures as get_batch and preview: from each done line, or from the records of a sample
  // made before the lines carried them.
  const healthTally = new HealthTally();
  for (const s of samples) {
    if (s.status !== 'done') continue;
    const line = progress.samples.get(s.index)?.health;
    if (isSampleHealth(line)) healthTally.add(line);
    else if (s.record) healthTally.add(sampleHealth([s.record, ...(s.pair ? [s.pair] : [])], s.record.timings.total_ms ?? 0));
  }
  const health = healthOf(healthTally, progress.usage, ctx.config.prices, { batch: manifest.batch_mode !== undefined, ...(manifest.options.preference || pairs.length ? { pairs: pairCounts } : {}) });
  const verdict = healthVerdict(health);

  const stopReasons = count(records.map((r) => r.stop_reason));
  const turns = count(records.map((r) => r.deliberation.length));
  const removals = count(records.flatMap((r) => r.removed.map((x) => x.reason)));
  const categories = [...count(samples.map((s) => s.category ?? '(none)')).entries()].sort((a, b) => b[1] - a[1]).slice(0, 15);

  const figures: [string, string][] = [
    ['Samples', String(manifest.total)],
    ['Done', String(done)],
    ['Failed', String(failed)],
    ['Pending', String(manifest.total - done - failed)],
    ['Status', manifest.status + (manifest.stop_reason ? ` (${manifest.stop_reason})` : '')],
    ['Model calls', progress.usage.calls.toLocaleString('en')],
    ['Tokens', tokens.toLocaleString('en')],
    ['Cost', cost === undefined ? 'no prices' : `$${cost.toFixed(4)}`],
    ...(pairs.length ? ([['Pairs kept', `${pairCounts.kept} / ${pairs.length}`]] as [string, string][]) : []),
  ];

  const charts = [
    barChart('Outcome', [['done', done], ['failed', failed], ['pending', manifest.total - done - failed]], { id: 'chart-outcome' }),
    barChart(
      'Why deliberation stopped',
      [['agreement', stopReasons.get('agreement') ?? 0], ['budget', stopReasons.get('budget') ?? 0], ...(stopReasons.has('baseline') ? [['baseline (no deliberation)', stopReasons.get('baseline') ?? 0] as const] : [])],
      { id: 'chart-stop' },
    ),
    barChart('Turns per sample', [...turns.entries()].sort((a, b) => a[0] - b[0]).map(([n, c]) => [`${n} turn${n === 1 ? '' : 's'}`, c] as const), { id: 'chart-turns' }),
    barChart('Thoughts the refiner removed, by reason', REMOVAL_REASONS.map((r) => [r.replace('_', ' '), removals.get(r) ?? 0] as const), { id: 'chart-removals' }),
    ...(pairs.length
      ? [barChart('Preference pairs dropped, by reason', PAIR_DROP_REASONS.filter((r) => r !== 'chosen_not_judged' || pairCounts.dropped_by_reason[r]).map((r) => [r.replace(/_/g, ' '), pairCounts.dropped_by_reason[r] ?? 0] as const), { id: 'chart-pairs' })]
      : []),
    barChart(categoryColumn ? `Samples by ${categoryColumn}` : 'Samples by category', categories, { id: 'chart-categories' }),
    ...(graded.length
      ? GRADE_METRICS.map((metric) =>
          barChart(
            `Grade: ${metric.replace(/_/g, ' ')} (mean ${(graded.reduce((n, r) => n + (r.grades?.scores[metric] ?? 0), 0) / graded.length).toFixed(2)})`,
            [1, 2, 3, 4, 5].map((score) => [String(score), graded.filter((r) => r.grades?.scores[metric] === score).length] as const),
            { id: `chart-grade-${metric}` },
          ),
        )
      : []),
  ];

  const embedded = samples.slice(0, MAX_REPORT_SAMPLES);
  const title = `AIDSAFE run ${runId}`;
  const html = reportPage({
    title,
    body: `<div class="meta">${escapeHtml(manifest.input.path)} · column ${escapeHtml(manifest.input.column)}${manifest.input.shard ? ` · shard ${escapeHtml(manifest.input.shard)}` : ''} · ${manifest.options.recipe && manifest.options.recipe !== 'aidsafe' ? `recipe ${escapeHtml(manifest.options.recipe)}` : `${manifest.options.agents} agents × ${manifest.options.max_rounds} rounds`} · policies ${escapeHtml(manifest.options.policy_ids.join(', '))} · created ${escapeHtml(manifest.created_at)}</div>
<h2>Summary</h2>
<div class="figures">${figures.map(([k, v]) => `<div class="figure" data-figure="${escapeHtml(k)}">${escapeHtml(k)}<b>${escapeHtml(v)}</b></div>`).join('')}</div>
<h2>Health</h2>
<pre id="health">${escapeHtml(healthTable(health))}</pre>
<p id="health-verdict">${escapeHtml(verdict.line)}</p>
<h2>Charts</h2>
<div class="charts">${charts.join('\n')}</div>
<h2>Samples</h2>
${samples.length > embedded.length ? `<p class="empty">Showing the first ${embedded.length} of ${samples.length} samples.</p>` : ''}
<div class="filters">
<input id="filter-text" type="search" placeholder="Filter by prompt text" aria-label="Filter by prompt text">
<select id="filter-status" aria-label="Status"><option value="">every status</option><option>done</option><option>failed</option><option>pending</option></select>
<select id="filter-category" aria-label="Category"><option value="">every ${escapeHtml(categoryColumn ?? 'category')}</option>${categories.map(([c]) => `<option>${escapeHtml(c)}</option>`).join('')}</select>
<span id="filter-count" class="meta"></span>
</div>
<table id="samples"><thead><tr><th>#</th><th>Prompt</th><th>${escapeHtml(categoryColumn ?? 'Category')}</th><th>Status</th><th>Stop</th><th>Turns</th><th>Lowest grade</th></tr></thead><tbody></tbody></table>
<section id="detail" class="card" hidden></section>
`,
    data: { id: 'aidsafe-samples', value: embedded },
    scripts: [viewAsset('render-record.js'), viewAsset('report.js')],
  });
  return { html, samples: samples.length, embedded: embedded.length };
}
