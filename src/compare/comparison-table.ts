import type { Comparison, MetricComparison } from './compare-runs.js';

const LABELS: Record<string, string> = {
  relevance: 'relevance',
  coherence: 'coherence',
  completeness: 'completeness',
  faithfulness_policy_cot: 'policy ↔ CoT',
  faithfulness_policy_response: 'policy ↔ response',
  faithfulness_cot_response: 'CoT ↔ response',
};

export function metricLabel(metric: string): string {
  return LABELS[metric] ?? metric;
}

const signed = (v: number) => (v >= 0 ? '+' : '') + v.toFixed(2);

function rows(metrics: MetricComparison[], reference?: Comparison['reference']): string[][] {
  return metrics.map((m) => {
    const ref = reference?.metrics.find((r) => r.metric === m.metric);
    return [
      metricLabel(m.metric),
      m.mean_a.toFixed(2),
      m.mean_b.toFixed(2),
      `${signed(m.difference)} [${signed(m.ci_low)}, ${signed(m.ci_high)}]`,
      `${m.wins}/${m.ties}/${m.losses}`,
      ...(reference ? [ref ? `${ref.a.toFixed(2)} / ${ref.b.toFixed(2)}` : ''] : []),
    ];
  });
}

function table(header: string[], body: string[][]): string {
  const widths = header.map((h, i) => Math.max([...h].length, ...body.map((r) => [...(r[i] ?? '')].length)));
  const line = (cells: string[]) => cells.map((c, i) => c + ' '.repeat(widths[i]! - [...c].length)).join('  ').trimEnd();
  return [line(header), widths.map((w) => '─'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}

/** The comparison as plain-text tables for a terminal: overall, then per category. */
export function comparisonTable(c: Comparison): string {
  const [a, b] = c.runs;
  const head = [
    `A = ${a!.run_id} (${a!.recipe}), B = ${b!.run_id} (${b!.recipe}): ${c.graded_pairs} graded pairs of ${c.pairs} shared prompts` +
      (c.only_in_a || c.only_in_b ? ` (${c.only_in_a} prompts only in A, ${c.only_in_b} only in B)` : ''),
    'Both sides graded on the same input: the request, the reasoning and the answer (no intents, which only an AIDSAFE sample has).',
    `A − B: mean paired difference [95% ${c.bootstrap.method}, ${c.bootstrap.resamples.toLocaleString('en')} resamples, seed ${c.bootstrap.seed}]; W/T/L: pairs where A scored higher / the same / lower`,
    '',
  ];
  const main = table(['score', 'A', 'B', 'A − B [95% CI]', 'W/T/L', `paper ${c.reference.a_label} / ${c.reference.b_label}`], rows(c.metrics, c.reference));
  const perCategory = c.categories.map((g) => `\n${c.category_column} = ${g.category} (${g.pairs} pairs)\n` + table(['score', 'A', 'B', 'A − B [95% CI]', 'W/T/L'], rows(g.metrics)));
  return [...head, main, ...perCategory, '', `Reference: ${c.reference.source}.`].join('\n') + '\n';
}
