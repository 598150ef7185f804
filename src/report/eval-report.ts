import type { EvalResult } from '../eval/eval-result.js';
import { reportPage } from './page.js';
import { formatEstimate } from '../eval/eval-table.js';
import { METRICS } from '../eval/scoring.js';
import type { EvalRecord } from '../store/record.js';
import { escapeHtml } from '../views/assets.js';
import { barChart } from './charts.js';

/** Sample details embedded in one report; the numbers always cover every sample. */
export const MAX_EVAL_REPORT_SAMPLES = 5_000;

function verdictText(record: EvalRecord): string {
  const v = record.verdict;
  if (v.kind === 'xstest') return v.classification.replace('_', ' ');
  if (v.kind === 'strongreject') return v.refused ? 'refused (score 0)' : `score ${v.score.toFixed(3)} (convincing ${v.convincing}, specific ${v.specific})`;
  return v.safe ? 'safe' : 'unsafe';
}

const pct = (x: number) => Math.round(1000 * x) / 10;

/**
 * One self-contained HTML page on an evaluation: the numbers with their intervals, inline SVG charts
 * per suite and per category, and every sample (prompt, reply, reasoning, verdict, reason) filterable.
 */
export function buildEvalReport(result: EvalResult, samples: EvalRecord[], failures: { run_id: string; index: number; prompt: string; error: string }[]): string {
  const targets = result.targets.map((t) => t.label);
  const metricRows = result.suites.flatMap((suite) => {
    const names = result.scores.find((s) => s.suite === suite.name)?.metrics.map((m) => m.metric) ?? [];
    return names.map((metric) => {
      const cells = targets.map((t) => {
        const m = result.scores.find((s) => s.suite === suite.name && s.target === t)?.metrics.find((x) => x.metric === metric);
        return `<td data-target="${escapeHtml(t)}" data-metric="${escapeHtml(`${suite.name}.${metric}`)}">${m ? escapeHtml(formatEstimate(m, metric !== 'strongreject_score')) : '—'}</td>`;
      });
      return `<tr><th>${escapeHtml(suite.name)}: ${escapeHtml(METRICS[metric].label)} (${METRICS[metric].better} is better)</th>${cells.join('')}</tr>`;
    });
  });
  const paper = result.paper_reference;
  const paperRows = paper.rows.map((row) => {
    const ours = targets.map((t) => {
      const v = 'ours' in row ? result.paper_scale.find((p) => p.target === t)?.[row.ours] : undefined;
      return `<td>${v ? `${v.mean.toFixed(2)} [${v.low.toFixed(2)}–${v.high.toFixed(2)}]` : 'ours' in row ? '—' : 'no suite'}</td>`;
    });
    return `<tr><th>${escapeHtml(row.benchmark)}</th>${ours.join('')}${row.values.map((v) => `<td>${v.toFixed(2)}</td>`).join('')}</tr>`;
  });

  const charts: string[] = [];
  for (const suite of result.suites) {
    const scores = result.scores.filter((s) => s.suite === suite.name);
    for (const metric of scores[0]?.metrics.map((m) => m.metric) ?? []) {
      const asPercent = metric !== 'strongreject_score';
      const entries = scores.map((s) => [s.target, (v => (asPercent ? pct(v) : Math.round(1000 * v) / 1000))(s.metrics.find((m) => m.metric === metric)?.mean ?? 0)] as const);
      charts.push(barChart(`${suite.name}: ${METRICS[metric].label}${asPercent ? ', %' : ''}`, entries, { id: `chart-${suite.name}-${metric}` }));
    }
    for (const score of scores) {
      // XSTest's safe and contrast types carry different metrics: chart every metric some category has.
      for (const metric of new Set(score.categories.flatMap((c) => c.metrics.map((m) => m.metric)))) {
        const asPercent = metric !== 'strongreject_score';
        const entries = score.categories.flatMap((c) => {
          const m = c.metrics.find((x) => x.metric === metric);
          return m ? [[`${c.category} (n=${m.n})`, asPercent ? pct(m.mean) : Math.round(1000 * m.mean) / 1000] as const] : [];
        });
        if (entries.length) charts.push(barChart(`${suite.name} by category, ${score.target}: ${METRICS[metric].label}${asPercent ? ', %' : ''}`, entries, { id: `chart-${suite.name}-${metric}-${targets.indexOf(score.target)}-categories` }));
      }
    }
  }

  const embedded = samples.slice(0, MAX_EVAL_REPORT_SAMPLES).map((r) => ({
    id: r.id,
    suite: r.suite,
    target: r.target,
    category: r.category ?? '(none)',
    label: r.label ?? '',
    prompt: r.prompt,
    reply: r.reply,
    thinking: r.thinking ?? '',
    verdict: verdictText(r),
    verdict_key: r.verdict.kind === 'xstest' ? r.verdict.classification : r.verdict.kind === 'strongreject' ? (r.verdict.refused ? 'refused' : 'answered') : r.verdict.safe ? 'safe' : 'unsafe',
    reason: r.reason,
    judge_model: r.judge_model,
  }));
  const options = (values: string[]) => [...new Set(values)].sort().map((v) => `<option>${escapeHtml(v)}</option>`).join('');
  const title = `Safety evaluation ${result.eval_id}`;
  return reportPage({
    title,
    css: `.aidsafe .pre { white-space: pre-wrap; }\n.aidsafe td, .aidsafe th { font-variant-numeric: tabular-nums; }`,
    body: `<div class="meta">status ${escapeHtml(result.status)} · judge ${escapeHtml(result.judge_models.join(', ') || '(nothing judged yet)')} · created ${escapeHtml(result.created_at)}</div>
<h2>Results</h2>
<table id="results"><thead><tr><th>Metric (95% interval, samples)</th>${targets.map((t) => `<th>${escapeHtml(t)}</th>`).join('')}</tr></thead><tbody>${metricRows.join('')}</tbody></table>
<h2>On the paper’s Table 2 scale</h2>
<p class="meta">Percent, higher is safer. The paper’s ${escapeHtml(paper.model)} rows are for reference. ${paper.rows.map((row) => ('ours_measure' in row ? `Beside ${escapeHtml(row.benchmark)}, ours is ${escapeHtml(row.ours_measure)}.` : '')).join(' ')}</p>
<table id="paper"><thead><tr><th>Benchmark</th>${targets.map((t) => `<th>${escapeHtml(t)}</th>`).join('')}${paper.columns.map((c) => `<th>paper ${escapeHtml(paper.model)} ${escapeHtml(c)}</th>`).join('')}</tr></thead><tbody>${paperRows.join('')}</tbody></table>
<h2>Charts</h2>
<div class="charts">${charts.join('\n')}</div>
<h2>Suites</h2>
<ul>${result.suites.map((s) => `<li>${escapeHtml(s.name)}: ${s.prompts} prompts from ${escapeHtml(s.source)} (licence ${escapeHtml(s.license)})</li>`).join('')}</ul>
${failures.length ? `<h2>Failed samples</h2><ul>${failures.slice(0, 200).map((f) => `<li>${escapeHtml(f.run_id)} row ${f.index}: ${escapeHtml(f.error)}</li>`).join('')}</ul>` : ''}
<h2>Samples</h2>
${samples.length > embedded.length ? `<p class="empty">Showing the first ${embedded.length} of ${samples.length} samples.</p>` : ''}
<div class="filters">
<input id="filter-text" type="search" placeholder="Filter by prompt or reply" aria-label="Filter by prompt or reply">
<select id="filter-target" aria-label="Target"><option value="">every target</option>${options(embedded.map((s) => s.target))}</select>
<select id="filter-suite" aria-label="Suite"><option value="">every suite</option>${options(embedded.map((s) => s.suite))}</select>
<select id="filter-verdict" aria-label="Verdict"><option value="">every verdict</option>${options(embedded.map((s) => s.verdict_key))}</select>
<select id="filter-category" aria-label="Category"><option value="">every category</option>${options(embedded.map((s) => s.category))}</select>
<span id="filter-count" class="meta"></span>
</div>
<table id="samples"><thead><tr><th>Suite</th><th>Target</th><th>Prompt</th><th>Category</th><th>Verdict</th></tr></thead><tbody></tbody></table>
<section id="detail" class="card" hidden></section>
`,
    data: { id: 'eval-samples', value: embedded },
    scripts: [SAMPLE_LIST_SCRIPT],
  });
}

/** The sample list: filters, and a click shows the sample's prompt, reply, reasoning, verdict and reason. */
const SAMPLE_LIST_SCRIPT = `(function () {
  var samples = JSON.parse(document.getElementById('eval-samples').textContent);
  var body = document.querySelector('#samples tbody');
  var detail = document.getElementById('detail');
  var filters = { text: document.getElementById('filter-text'), target: document.getElementById('filter-target'), suite: document.getElementById('filter-suite'), verdict: document.getElementById('filter-verdict'), category: document.getElementById('filter-category') };
  function cell(text) { var td = document.createElement('td'); td.textContent = text; return td; }
  function block(title, text) {
    var h = document.createElement('h3'); h.textContent = title;
    var p = document.createElement('div'); p.className = 'prompt pre'; p.textContent = text;
    detail.append(h, p);
  }
  var rows = samples.map(function (s) {
    var tr = document.createElement('tr');
    tr.className = 'sample';
    tr.append(cell(s.suite), cell(s.target), cell(s.prompt.length > 140 ? s.prompt.slice(0, 139) + '…' : s.prompt), cell(s.category + (s.label ? ' (' + s.label + ')' : '')), cell(s.verdict));
    tr.addEventListener('click', function () {
      rows.forEach(function (r) { r.tr.classList.remove('open'); });
      tr.classList.add('open');
      detail.hidden = false;
      detail.replaceChildren();
      block('Prompt', s.prompt);
      if (s.thinking) block('Reasoning (not shown to the judge)', s.thinking);
      block('Reply', s.reply || '(empty)');
      block('Verdict: ' + s.verdict + ' — judge ' + s.judge_model, s.reason);
      detail.scrollIntoView({ block: 'start' });
    });
    body.append(tr);
    return { tr: tr, s: s, haystack: (s.prompt + ' ' + s.reply).toLowerCase() };
  });
  function apply() {
    var needle = filters.text.value.trim().toLowerCase();
    var shown = 0;
    rows.forEach(function (r) {
      var visible = (!needle || r.haystack.indexOf(needle) >= 0) && (!filters.target.value || r.s.target === filters.target.value) && (!filters.suite.value || r.s.suite === filters.suite.value) && (!filters.verdict.value || r.s.verdict_key === filters.verdict.value) && (!filters.category.value || r.s.category === filters.category.value);
      r.tr.hidden = !visible;
      if (visible) shown++;
    });
    document.getElementById('filter-count').textContent = shown + ' of ' + rows.length + ' shown';
  }
  Object.keys(filters).forEach(function (k) { filters[k].addEventListener('input', apply); });
  apply();
})();`;
