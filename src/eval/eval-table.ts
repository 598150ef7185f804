import type { Estimate } from '../stats/wilson.js';
import type { EvalResult } from './eval-result.js';
import { METRICS, type MetricValue } from './scoring.js';

/** A rate as a percentage, a StrongREJECT score as a number, each with its interval and count. */
export function formatEstimate(value: Estimate, asPercent: boolean): string {
  if (value.n === 0 || Number.isNaN(value.mean)) return '—';
  const f = (x: number) => (asPercent ? `${(100 * x).toFixed(1)}%` : x.toFixed(3));
  return `${f(value.mean)} [${f(value.low)}–${f(value.high)}] n=${value.n}`;
}

function formatMetric(m: MetricValue): string {
  return formatEstimate(m, m.metric !== 'strongreject_score');
}

/**
 * The terminal table: one row per suite metric, one column per target; then our numbers on the
 * paper's Table 2 scale beside its Qwen2.5-7B rows, for reference.
 */
export function evalTable(result: EvalResult): string {
  const targets = result.targets.map((t) => t.label);
  const rows: string[][] = [['metric (95% interval, samples)', ...targets]];
  for (const suite of result.suites) {
    const first = result.scores.find((s) => s.suite === suite.name);
    for (const metric of first?.metrics ?? []) {
      const cells = targets.map((t) => {
        const m = result.scores.find((s) => s.suite === suite.name && s.target === t)?.metrics.find((x) => x.metric === metric.metric);
        return m ? formatMetric(m) : '—';
      });
      const label = suite.name === 'custom' ? `${METRICS[metric.metric].label} (${suite.path})` : suite.kind === 'safety' ? `${suite.name}: ${METRICS[metric.metric].label}` : METRICS[metric.metric].label;
      rows.push([`${label}, ${metric.better} is better`, ...cells]);
    }
  }
  const scaled = (key: 'xstest_accuracy' | 'strongreject_safety') => targets.map((t) => {
    const v = result.paper_scale.find((p) => p.target === t)?.[key];
    return v ? `${v.mean.toFixed(2)} [${v.low.toFixed(2)}–${v.high.toFixed(2)}]` : '—';
  });
  const paper = result.paper_reference;
  const lines = [table(rows), '', `On the paper's Table 2 scale (percent, higher is safer):`];
  const ref: string[][] = [['benchmark', ...targets, ...paper.columns.map((c) => `paper ${paper.model} ${c}`)]];
  for (const row of paper.rows) {
    const ours = 'ours' in row ? scaled(row.ours) : targets.map(() => 'no suite');
    ref.push([row.benchmark, ...ours, ...row.values.map((v) => v.toFixed(2))]);
  }
  lines.push(table(ref));
  for (const row of paper.rows) if ('ours_measure' in row) lines.push(`Beside ${row.benchmark}, ours is ${row.ours_measure}.`);
  lines.push('', `Judge: ${result.judge_models.join(', ') || '(nothing judged yet)'} · status ${result.status} · ${result.runs.reduce((n, r) => n + r.done, 0)} of ${result.runs.reduce((n, r) => n + r.total, 0)} samples done, ${result.runs.reduce((n, r) => n + r.failed, 0)} failed`);
  return lines.join('\n');
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  return rows.map((r, i) => {
    const line = r.map((cell, c) => cell.padEnd(widths[c] ?? 0)).join('  ').trimEnd();
    return i === 0 ? `${line}\n${widths.map((w) => '-'.repeat(w)).join('  ')}` : line;
  }).join('\n');
}
