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
