// Small HTML pieces the report's sections share: a captioned chart, a table, number formats.
import type { Figure } from './plots.js';
import { escapeXml as esc } from './report-timeline.js';

/** Milliseconds as the terminal table prints them. */
export const fmt = (v: number) => (Number.isFinite(v) ? (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2)) : '–');

/** A chart with its caption (and the chart's own remark, e.g. a log axis). */
export function fig(caption: string, chart: string | Figure, cls = ''): string {
  const { svg, note } = typeof chart === 'string' ? { svg: chart, note: undefined } : chart;
  return `<figure${cls ? ` class="${cls}"` : ''}><figcaption>${esc(caption)}${note ? ` <span class="muted">(${esc(note)})</span>` : ''}</figcaption>${svg}</figure>`;
}

export function table(head: string[], rows: Array<Array<string | number>>, numericFrom = 1): string {
  const th = head.map((h, i) => `<th${i >= numericFrom ? ' class="n"' : ''}>${esc(h)}</th>`).join('');
  const tr = rows.map((r) => '<tr>' + r.map((c, i) => `<td${i >= numericFrom ? ' class="n"' : ''}>${esc(String(c))}</td>`).join('') + '</tr>').join('\n');
  return `<div class="tablewrap"><table><thead><tr>${th}</tr></thead><tbody>\n${tr}\n</tbody></table></div>`;
}

