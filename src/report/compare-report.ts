import type { AppContext } from '../context.js';
import { reportPage } from './page.js';
import { metricLabel } from '../compare/comparison-table.js';
import type { Comparison, MetricComparison } from '../compare/compare-runs.js';
import type { CotRecord } from '../store/record.js';
import { escapeHtml, viewAsset } from '../views/assets.js';
import { barChart, intervalChart } from './charts.js';

const fixed = (v: number) => v.toFixed(2);
const signed = (v: number) => (v >= 0 ? '+' : '') + v.toFixed(2);

function metricRows(metrics: MetricComparison[], reference?: Comparison['reference']): string {
  return metrics
    .map((m) => {
      const ref = reference?.metrics.find((r) => r.metric === m.metric);
      return (
        `<tr data-metric="${m.metric}"><td>${escapeHtml(metricLabel(m.metric))}</td><td>${fixed(m.mean_a)}</td><td>${fixed(m.mean_b)}</td>` +
        `<td>${signed(m.difference)} [${signed(m.ci_low)}, ${signed(m.ci_high)}]</td><td>${m.wins} / ${m.ties} / ${m.losses}</td>` +
        (reference ? `<td>${ref ? `${fixed(ref.a)} / ${fixed(ref.b)} (${signed(ref.difference)})` : ''}</td>` : '') +
        '</tr>'
      );
    })
    .join('');
}

/**
 * One self-contained HTML file on a comparison: the table, a chart of each score's paired difference
 * with its interval (the paper's difference as a hollow mark), win/tie/loss per score, the same per
 * category, and the pairs that differ most, each opening both samples side by side.
 */
export async function buildCompareReport(ctx: AppContext, c: Comparison): Promise<string> {
  const [a, b] = c.runs as [Comparison['runs'][number], Comparison['runs'][number]];
  const loaded: { a: CotRecord; b: CotRecord; a_label: string; b_label: string; category: string | null; distance: number }[] = [];
  for (const pair of c.top_pairs) {
    const [ra, rb] = [await ctx.store.get(pair.record_ids[0]), await ctx.store.get(pair.record_ids[1])];
    if (ra?.kind === 'cot' && rb?.kind === 'cot') loaded.push({ a: ra, b: rb, a_label: `${a.run_id} (${a.recipe})`, b_label: `${b.run_id} (${b.recipe})`, category: pair.category, distance: pair.distance });
  }
  const charts = [
    intervalChart(
      'Mean paired difference A − B, 95% interval (hollow: the paper)',
      c.metrics.map((m) => ({ label: metricLabel(m.metric), value: m.difference, low: m.ci_low, high: m.ci_high, reference: c.reference.metrics.find((r) => r.metric === m.metric)?.difference })),
      { id: 'chart-differences' },
    ),
    ...c.metrics.map((m) =>
      barChart(`${metricLabel(m.metric)}: A ${fixed(m.mean_a)}, B ${fixed(m.mean_b)}`, [['A higher', m.wins], ['tie', m.ties], ['B higher', m.losses]], { id: `chart-${m.metric}` }),
    ),
  ];
  const header = `<tr><th>Score</th><th>A</th><th>B</th><th>A − B [95% CI]</th><th>W / T / L</th>`;
  const title = `Comparison: ${a.run_id} vs ${b.run_id}`;
  return reportPage({
    title,
    body: `<div class="meta">A = ${escapeHtml(a.run_id)} (${escapeHtml(a.recipe)}, ${a.samples} samples, ${escapeHtml(a.input)}) · B = ${escapeHtml(b.run_id)} (${escapeHtml(b.recipe)}, ${b.samples} samples, ${escapeHtml(b.input)})</div>
<p>${c.graded_pairs} graded pairs of ${c.pairs} shared prompts${c.only_in_a || c.only_in_b ? ` (${c.only_in_a} prompts only in A, ${c.only_in_b} only in B)` : ''}. A − B is the mean per-pair difference; its 95% interval is a ${escapeHtml(c.bootstrap.method)} with ${c.bootstrap.resamples.toLocaleString('en')} resamples, seed ${c.bootstrap.seed}. W / T / L: pairs where A scored higher, the same, lower.</p>
<h2>Scores</h2>
<table id="metrics"><thead>${header}<th>Paper ${escapeHtml(c.reference.a_label)} / ${escapeHtml(c.reference.b_label)}</th></tr></thead><tbody>${metricRows(c.metrics, c.reference)}</tbody></table>
<p class="meta">Reference: ${escapeHtml(c.reference.source)}.</p>
<h2>Charts</h2>
<div class="charts">${charts.join('\n')}</div>
${
  c.categories.length
    ? `<h2>By ${escapeHtml(c.category_column ?? 'category')}</h2>\n` +
      c.categories.map((g) => `<h3>${escapeHtml(g.category)} (${g.pairs} pairs)</h3><table class="category" data-category="${escapeHtml(g.category)}"><thead>${header}</tr></thead><tbody>${metricRows(g.metrics)}</tbody></table>`).join('\n')
    : ''
}
<h2>Pairs that differ most</h2>
${loaded.length ? '' : '<p class="empty">Every pair scored the same on every score.</p>'}
<table id="pairs"><thead><tr><th>#</th><th>Prompt</th><th>${escapeHtml(c.category_column ?? 'Category')}</th><th>A scores</th><th>B scores</th><th>Σ|A − B|</th></tr></thead><tbody></tbody></table>
<section id="detail" class="card" hidden></section>
`,
    data: { id: 'aidsafe-pairs', value: loaded },
    scripts: [viewAsset('render-record.js'), viewAsset('compare.js')],
  });
}
