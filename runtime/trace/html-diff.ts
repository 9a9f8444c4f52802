// The session diff as a self-contained HTML page: each stage, path and the end-to-end time as
// its ratio B/A with a 95% interval (log axis, 1 marked), then the table.
import type { DiffRow } from './diff.js';
import { fmt, table } from './html-parts.js';
import { CSS } from './html.js';
import { renderSvg } from './plots.js';
import { escapeXml as esc } from './report-timeline.js';

const VERDICT_COLOURS = { slower: '#d62728', faster: '#2ca02c', 'within noise': '#7f7f7f', 'no samples': '#bbbbbb' };

export interface DiffPage {
  a: string;
  b: string;
  /** Per plan compared. */
  plans: Array<{ plan: string; rows: DiffRow[] }>;
  noise: number;
  createdAt: string;
}

const label = (r: DiffRow) => `${r.kind === 'end-to-end' ? 'end-to-end' : r.kind}: ${r.name}`;
const ratio = (v: number) => (Number.isFinite(v) ? `${v.toFixed(3)}×` : '–');

async function chart(rows: DiffRow[]): Promise<string> {
  const shown = rows.filter((r) => Number.isFinite(r.ratio) && r.ratio > 0);
  const values = shown.map((r) => ({ row: label(r), ratio: r.ratio, lo: Number.isFinite(r.ci[0]) ? r.ci[0] : r.ratio, hi: Number.isFinite(r.ci[1]) ? r.ci[1] : r.ratio, verdict: r.verdict }));
  const lo = Math.min(0.5, ...values.map((v) => v.lo));
  const hi = Math.max(2, ...values.map((v) => v.hi));
  const y = { field: 'row', type: 'nominal' as const, title: null, sort: values.map((v) => v.row), axis: { labelLimit: 420 } };
  const colour = { field: 'verdict', type: 'nominal' as const, title: null, scale: { domain: Object.keys(VERDICT_COLOURS), range: Object.values(VERDICT_COLOURS) }, legend: { orient: 'top' as const } };
  const x = { type: 'quantitative' as const, scale: { type: 'log' as const, domain: [lo * 0.9, hi * 1.1] }, title: 'median B / median A (95% bootstrap interval)' };
  return renderSvg({
    width: 560,
    height: Math.max(40, values.length * 24),
    data: { values },
    layer: [
      { mark: { type: 'rule', strokeWidth: 2 }, encoding: { y, x: { field: 'lo', ...x }, x2: { field: 'hi' }, color: colour } },
      { mark: { type: 'point', filled: true, size: 60 }, encoding: { y, x: { field: 'ratio', ...x }, color: colour } },
      { data: { values: [{ one: 1 }] }, mark: { type: 'rule', strokeDash: [4, 3], color: '#333' }, encoding: { x: { field: 'one', type: 'quantitative' } } },
    ],
  });
}

export async function renderDiffHtml(d: DiffPage): Promise<string> {
  const sections: string[] = [];
  for (const p of d.plans) {
    const rows = p.rows.map((r) => [label(r), r.a.n, fmt(r.a.p50), r.b.n, fmt(r.b.p50), ratio(r.ratio), Number.isFinite(r.ci[0]) ? `${r.ci[0].toFixed(3)}–${r.ci[1].toFixed(3)}` : '–', r.verdict]);
    const changed = p.rows.filter((r) => r.verdict === 'slower' || r.verdict === 'faster');
    sections.push(`<section id="plan-${esc(p.plan.replace(/[^\w-]/g, '_'))}">
<h2>Plan '${esc(p.plan)}'</h2>
<p class="headline">${changed.length ? `<b>${changed.length}</b> change${changed.length > 1 ? 's' : ''} beyond the noise: ${changed.map((r) => `${esc(label(r))} <b>${ratio(r.ratio)}</b> (${r.verdict})`).join(', ')}` : 'No change beyond the noise.'}</p>
<figure class="wide"><figcaption>Ratio of medians per stage, path and end to end</figcaption>${await chart(p.rows)}</figure>
${table(['', 'A runs', 'A p50 ms', 'B runs', 'B p50 ms', 'B/A', '95% interval', 'verdict'], rows)}
</section>`);
  }
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>xauto profile diff</title>
<style>${CSS}</style>
</head>
<body>
<main>
<header>
<h1>xauto profile diff</h1>
<p class="sub">A: <b>${esc(d.a)}</b><br>B: <b>${esc(d.b)}</b> · ${esc(d.createdAt)}</p>
<p class="muted">Each row: median of B over median of A, with a 95% bootstrap interval (seeded: the same folders give the same figures). A change is called so when its interval excludes 1 and it exceeds ${(d.noise * 100).toFixed(0)}% (the noise floor); otherwise it is within the noise.</p>
</header>
${sections.join('\n')}
<footer>xauto profile diff · samples.json of each session holds the series compared</footer>
</main>
</body>
</html>
`;
}
