import { escapeHtml } from '../views/assets.js';

/**
 * A horizontal bar chart as inline SVG: one labelled bar per entry, values at the bar ends. Drawn on the
 * server so the report needs no script to show its figures.
 */
export function barChart(title: string, entries: readonly (readonly [string, number])[], options: { id?: string } = {}): string {
  const row = 22;
  const left = 170;
  const width = 440;
  const max = Math.max(1, ...entries.map(([, v]) => v));
  const height = Math.max(1, entries.length) * row + 8;
  const bars = entries
    .map(([label, value], i) => {
      const y = i * row + 4;
      const w = ((width - left - 50) * value) / max;
      const shown = label.length > 26 ? label.slice(0, 25) + '…' : label;
      return (
        `<text x="0" y="${y + 13}">${escapeHtml(shown)}<title>${escapeHtml(label)}</title></text>` +
        `<rect class="bar" x="${left}" y="${y}" width="${w.toFixed(1)}" height="15" rx="3" data-label="${escapeHtml(label)}" data-value="${value}"></rect>` +
        `<text x="${(left + w + 6).toFixed(1)}" y="${y + 12}">${value}</text>`
      );
    })
    .join('');
  const body = entries.length ? bars : `<text x="0" y="16">No data</text>`;
  return `<figure class="card chart"${options.id ? ` id="${escapeHtml(options.id)}"` : ''}><figcaption><h3>${escapeHtml(title)}</h3></figcaption><svg viewBox="0 0 ${width} ${height}" role="img" aria-label="${escapeHtml(title)}">${body}</svg></figure>`;
}

/**
 * Differences with their intervals as inline SVG: one row per entry, a dot at the estimate, a whisker
 * over the interval, a line at zero, and a hollow mark at a reference value when there is one.
 */
export function intervalChart(
  title: string,
  entries: readonly { label: string; value: number; low: number; high: number; reference?: number }[],
  options: { id?: string } = {},
): string {
  const row = 26;
  const left = 170;
  const width = 440;
  const right = width - 20;
  const extent = Math.max(0.5, ...entries.flatMap((e) => [Math.abs(e.low), Math.abs(e.high), Math.abs(e.reference ?? 0)]));
  const x = (v: number) => left + ((v + extent) / (2 * extent)) * (right - left);
  const height = Math.max(1, entries.length) * row + 24;
  const body = entries
    .map((e, i) => {
      const y = i * row + 14;
      return (
        `<text x="0" y="${y + 4}">${escapeHtml(e.label)}</text>` +
        `<line class="interval" x1="${x(e.low).toFixed(1)}" x2="${x(e.high).toFixed(1)}" y1="${y}" y2="${y}" stroke="currentColor" stroke-width="2"></line>` +
        `<circle class="estimate" cx="${x(e.value).toFixed(1)}" cy="${y}" r="4" fill="var(--bar)" data-value="${e.value}" data-low="${e.low}" data-high="${e.high}"><title>${e.value.toFixed(3)} [${e.low.toFixed(3)}, ${e.high.toFixed(3)}]</title></circle>` +
        (e.reference !== undefined ? `<circle class="reference" cx="${x(e.reference).toFixed(1)}" cy="${y}" r="5" fill="none" stroke="var(--revise)" stroke-width="2"><title>reference ${e.reference}</title></circle>` : '')
      );
    })
    .join('');
  const axisY = entries.length * row + 6;
  const axis =
    `<line x1="${x(0).toFixed(1)}" x2="${x(0).toFixed(1)}" y1="0" y2="${axisY}" stroke="var(--muted)" stroke-dasharray="3 3"></line>` +
    `<text x="${left}" y="${axisY + 14}">${(-extent).toFixed(2)}</text><text x="${(x(0) - 4).toFixed(1)}" y="${axisY + 14}">0</text><text x="${right - 30}" y="${axisY + 14}">+${extent.toFixed(2)}</text>`;
  return `<figure class="card chart"${options.id ? ` id="${escapeHtml(options.id)}"` : ''}><figcaption><h3>${escapeHtml(title)}</h3></figcaption><svg viewBox="0 0 ${width} ${height}" role="img" aria-label="${escapeHtml(title)}">${entries.length ? body + axis : '<text x="0" y="16">No data</text>'}</svg></figure>`;
}
