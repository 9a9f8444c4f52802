// The profiling report: one self-contained HTML page (inline CSS and SVG; no script, font or
// link to anything outside) from the runs of a profiling session. Users look before they
// read: every section leads with its plot, the numbers follow in a table.
import { relative } from 'node:path';
import { latencyCdf, latencyHistogram, latencyOverTime, percentileBars, planComparisonBars, utilisationBars, type Figure, type Series } from './plots.js';
import type { ReportInput, ReportRun } from './report-data.js';
import { modeLabel, type RunSummary } from './report.js';
import { escapeXml as esc, timelineSvg } from './report-timeline.js';
import { fig, fmt, table } from './html-parts.js';
import { overTimeSection, pathsSection } from './html-sections.js';

export { fmt };
import type { Summary } from './stats.js';

const STANDARD = new Set(['file', 'plan', 'wall_s', 'frames', 'drops', 'stages', 'e2e_ms', 'e2e_by_sink', 'xpus', 'counters', 'mode', 'throughput_fps', 'paths', 'deadline_ms', 'deadline_misses']);

const pct = (v: number) => `${(v * 100).toFixed(0)}%`;
const ratio = (v: number) => (Number.isFinite(v) ? `${v.toFixed(2)}×` : '–');

export interface Comparison {
  baseline: string;
  planned: string;
  /** baseline / planned: above 1 means the planned run had lower latency. */
  p50: number;
  p90: number;
  p99: number;
}

/**
 * The headline of a session of several plans: each baseline (module, module-ipc, ...) over the
 * xauto plan (or, without one, over the first run), in the order they ran.
 */
export function compareEach(runs: RunSummary[]): Comparison[] {
  if (runs.length < 2) return [];
  const planned = runs.find((r) => r.plan === 'xauto') ?? runs[0]!;
  return runs
    .filter((r) => r !== planned)
    .map((base) => {
      const q = (k: 'p50' | 'p90' | 'p99') => base.e2e_ms[k] / planned.e2e_ms[k];
      return { baseline: base.plan, planned: planned.plan, p50: q('p50'), p90: q('p90'), p99: q('p99') };
    });
}

/** The first comparison: the module-level baseline over xauto where both ran. */
export function compareRuns(runs: RunSummary[]): Comparison | undefined {
  const all = compareEach(runs);
  return all.find((c) => c.baseline === 'module') ?? all[0];
}

const show = (v: unknown): string =>
  typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v.toFixed(3)) : typeof v === 'string' ? v : JSON.stringify(v);

const summaryRow = (label: string, s: Summary) => [label, s.count, fmt(s.mean), fmt(s.p50), fmt(s.p90), fmt(s.p99), fmt(s.max)];
const SUMMARY_HEAD = ['', 'frames', 'mean ms', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms'];

function header(input: ReportInput): string {
  const runs = input.runs.map((r) => r.summary);
  const xpus = new Map<string, { real: boolean; kind: string; backend: string; note?: string; used: boolean }>();
  for (const r of input.runs) {
    for (const x of r.xpus) {
      const used = r.summary.stages.some((s) => s.xpu === x.id) || (xpus.get(x.id)?.used ?? false);
      xpus.set(x.id, { real: x.real, kind: x.kind, backend: x.backend, note: x.note, used });
    }
  }
  const file = relative(process.cwd(), input.file) || input.file;
  const rows = runs.map((s) => [s.plan, s.frames.emitted, s.frames.completed, s.drops, s.frames.source_overruns, s.wall_s.toFixed(2)]);
  const badges = [...xpus]
    .map(
      ([id, x]) =>
        `<li><span class="badge ${x.real ? 'real' : 'sim'}">${x.real ? 'real' : 'simulated'}</span> <b>${esc(id)}</b> ${esc(x.kind)}/${esc(x.backend)}` +
        `${x.used ? '' : ' <span class="muted">(unused)</span>'}${x.note ? ` <span class="muted">— ${esc(x.note)}</span>` : ''}</li>`,
    )
    .join('\n');
  const edges = input.edges.map((e) => `${esc(e.from)} → ${esc(e.to)} <span class="muted">(${esc(e.topic)})</span>`).join('<br>');
  return `<header>
<h1>${esc(input.title)}</h1>
<p class="sub"><b>${esc(file)}</b>${input.launchArgs.length ? ' ' + esc(input.launchArgs.join(' ')) : ''} · ${esc(input.mode)} · plan${runs.length > 1 ? 's' : ''} ${runs.map((s) => `<b>${esc(s.plan)}</b>`).join(', ')} · ${esc(input.host)} · ${esc(input.createdAt)}</p>
<div class="facts">
<div><h3>Runs</h3>${table(['plan', 'frames emitted', 'completed', 'dropped', 'source overruns', 'wall s'], rows)}
<h3>Pipeline</h3><p class="edges">${edges || '<span class="muted">(one stage)</span>'}</p></div>
<div><h3>XPUs</h3><ul class="xpus">${badges}</ul></div>
</div>
</header>`;
}

async function comparisonSection(input: ReportInput, cs: Comparison[]): Promise<string> {
  const runs = input.runs.map((r) => r.summary);
  const planned = runs.find((r) => r.plan === cs[0]!.planned)!;
  const bases = cs.map((c) => runs.find((r) => r.plan === c.baseline)!);
  const placements = planned.stages.map((s, i) => [
    s.name,
    ...bases.map((b) => (b.stages[i] ? `${b.stages[i]!.impl}@${b.stages[i]!.xpu}` : '–')),
    `${s.impl}@${s.xpu}`,
    ...bases.map((b) => (b.stages[i] ? fmt(b.stages[i]!.latency_ms.p50) : '–')),
    fmt(s.latency_ms.p50),
  ]);
  const bars = await planComparisonBars(runs.map((r) => ({ name: r.plan, e2e: r.e2e_ms })));
  const names = cs.map((c) => esc(c.baseline)).join(', ');
  const headline = cs
    .map((c) => `${esc(c.baseline)}/${esc(c.planned)}: <b class="big">p50 ${ratio(c.p50)}</b> · <b class="big">p99 ${ratio(c.p99)}</b> <span class="muted">(p90 ${ratio(c.p90)})</span>`)
    .join('<br>');
  return `<section id="comparison">
<h2>Comparison: ${names} vs ${esc(planned.plan)}</h2>
<p class="headline">End-to-end latency ratio, baseline over ${esc(planned.plan)}:<br>${headline}
<br><span class="muted">a ratio above 1× means ${esc(planned.plan)} had the lower latency</span></p>
<div class="cols">
${fig('End-to-end latency by plan', bars)}
<div><h3>End-to-end latency (ms)</h3>${table(SUMMARY_HEAD, runs.map((r) => summaryRow(r.plan, r.e2e_ms)))}
<p class="muted">The plans ran one after the other on the same pipeline and host, in this order: ${runs.map((r) => esc(r.plan)).join(', ')}.</p></div>
</div>
<h3>Placements and stage run time</h3>
${table(['stage', ...bases.map((b) => `${b.plan}: impl@xpu`), `${planned.plan}: impl@xpu`, ...bases.map((b) => `${b.plan}: p50 ms`), `${planned.plan}: p50 ms`], placements, 1 + bases.length + 1)}
</section>`;
}

async function e2eSection(input: ReportInput): Promise<string> {
  const multi = input.runs.length > 1;
  const series: Series[] = input.runs.map((r) => ({ name: r.summary.plan, values: Object.values(r.e2e).flat() }));
  const perSink: Series[] = input.runs.flatMap((r) => {
    const sinks = Object.keys(r.e2e);
    return sinks.map((k) => ({ name: sinks.length > 1 ? (multi ? `${r.summary.plan}: ${k}` : k) : r.summary.plan, values: r.e2e[k]! }));
  });
  const any = series.some((x) => x.values.length > 0);
  const [hist, cdf, time] = any ? await Promise.all([latencyHistogram(series), latencyCdf(series), latencyOverTime(perSink)]) : [];
  const rows = input.runs.flatMap((r) => {
    const prefix = multi ? `${r.summary.plan}: ` : '';
    const out = [summaryRow(`${prefix}all sinks`, r.summary.e2e_ms)];
    const sinks = Object.entries(r.summary.e2e_by_sink);
    if (sinks.length > 1) for (const [k, s] of sinks) out.push(summaryRow(`${prefix}${k}`, s));
    return out;
  });
  return `<section id="e2e">
<h2>End-to-end latency</h2>
<p class="muted">From a frame's capture at its source to the end of the sink stage that completes it; ${esc(
    [...new Set(input.runs.map((r) => modeLabel(r.summary)).filter(Boolean))].join('; ') || 'mode not recorded',
  )}.</p>
${
  hist && cdf && time
    ? `<div class="cols">${fig('Histogram', hist)}${fig('Cumulative distribution', cdf)}</div>\n${fig('Per frame, in completion order', time)}`
    : '<p class="empty">No frame completed: there is no end-to-end latency to plot.</p>'
}
${table(SUMMARY_HEAD, rows)}
</section>`;
}

function extraSections(s: RunSummary): string {
  const out: string[] = [];
  for (const [k, v] of Object.entries(s)) {
    if (STANDARD.has(k) || v === null || typeof v !== 'object') continue;
    const rows = Object.entries(v as Record<string, unknown>).map(([name, x]) => [name, show(x)]);
    out.push(`<div class="extra"><h3>${esc(k)}</h3>${table(['', 'value'], rows)}</div>`);
  }
  const c = Object.entries(s.counters);
  out.push(`<div class="extra"><h3>counters</h3>${c.length ? table(['counter', 'value'], c) : '<p class="muted">No counter was bumped.</p>'}</div>`);
  return `<div class="extras">${out.join('\n')}</div>`;
}

async function runSection(run: ReportRun, multi: boolean): Promise<string> {
  const s = run.summary;
  const label = (st: RunSummary['stages'][number]) => `${st.name} (${st.impl}@${st.xpu})`;
  const [lat, wait, util] = await Promise.all([
    percentileBars('run time (ms)', s.stages.map((st) => ({ label: label(st), summary: st.latency_ms }))),
    percentileBars('wait (ms)', s.stages.map((st) => ({ label: label(st), summary: st.wait_ms }))),
    utilisationBars(s.xpus.filter((x) => x.utilisation > 0 || s.stages.some((st) => st.xpu === x.id)).map((x) => ({ label: `${x.id}${x.real ? '' : ' (simulated)'}`, utilisation: x.utilisation }))),
  ]);
  const rows = s.stages.map((st) => [
    st.name,
    st.type,
    `${st.impl}@${st.xpu}`,
    st.runs,
    st.drops,
    st.errors,
    fmt(st.latency_ms.p50),
    fmt(st.latency_ms.p90),
    fmt(st.latency_ms.p99),
    fmt(st.latency_ms.max),
    fmt(st.wait_ms.p50),
    fmt(st.wait_ms.p99),
  ]);
  const id = `plan-${s.plan.replace(/[^\w-]/g, '_')}`;
  return `<section id="${esc(id)}">
<h2>${multi ? `Plan '${esc(s.plan)}': stages` : 'Stages'}</h2>
<div class="cols">${fig('Run time per stage (implementation@XPU)', lat)}${fig('Queue wait per stage (ready, waiting for its XPU)', wait)}</div>
${table(['stage', 'type', 'impl@xpu', 'runs', 'drops', 'errors', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms', 'wait p50', 'wait p99'], rows, 3)}
<h3>Timeline</h3>
<figure class="wide">${timelineSvg(run)}</figure>${run.zoom ? `\n<figure class="wide">${timelineSvg(run, run.zoom)}</figure>` : ''}
<div class="cols">${fig('XPU utilisation', util)}<div>${extraSections(s)}</div></div>
</section>`;
}

export const CSS = `
:root { color-scheme: light; }
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", Arial, sans-serif; margin: 0; background: #fafafa; color: #222; font-size: 14px; line-height: 1.45; }
main { max-width: 1060px; margin: 0 auto; padding: 20px 24px 40px; }
header, section { background: white; border: 1px solid #e3e3e3; border-radius: 6px; padding: 14px 18px; margin-bottom: 18px; }
h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 18px; margin: 0 0 10px; } h3 { font-size: 14px; margin: 12px 0 6px; color: #444; }
.sub { margin: 0 0 8px; color: #555; }
.cols { display: grid; grid-template-columns: repeat(auto-fit, minmax(420px, 1fr)); gap: 12px 22px; align-items: start; }
.cols > * { min-width: 0; }
.facts { display: grid; grid-template-columns: auto 1fr; gap: 8px 28px; align-items: start; }
figure { margin: 6px 0; } figcaption { font-size: 13px; color: #333; margin-bottom: 4px; } figure svg { max-width: 100%; height: auto; display: block; }
.tablewrap { overflow-x: auto; }
table { border-collapse: collapse; font-size: 12.5px; margin: 6px 0; }
th, td { padding: 3px 9px; border-bottom: 1px solid #eee; text-align: left; white-space: nowrap; }
th { background: #f3f3f3; font-weight: 600; } td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
.muted { color: #777; } .edges { font-size: 13px; }
ul.xpus { list-style: none; padding: 0; margin: 0; } ul.xpus li { margin: 2px 0; }
.badge { display: inline-block; font-size: 11px; padding: 0 6px; border-radius: 8px; color: white; }
.badge.real { background: #2e7d32; } .badge.sim { background: #8e24aa; }
.headline { font-size: 15px; } .big { font-size: 20px; color: #1f4e79; }
.extras { display: flex; flex-wrap: wrap; gap: 0 24px; }
footer { color: #888; font-size: 12px; text-align: center; }
`;

/** The whole report page. */
export async function renderHtmlReport(input: ReportInput): Promise<string> {
  const multi = input.runs.length > 1;
  const cs = compareEach(input.runs.map((r) => r.summary));
  const parts = [header(input)];
  if (cs.length) parts.push(await comparisonSection(input, cs));
  parts.push(await e2eSection(input));
  for (const r of input.runs) parts.push(await pathsSection(r, multi), await runSection(r, multi), await overTimeSection(r, multi));
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(input.title)}</title>
<style>${CSS}</style>
</head>
<body>
<main>
${parts.join('\n')}
<footer>xauto profile · trace.json (same folder) opens in Perfetto or chrome://tracing · summary.json holds every number shown here</footer>
</main>
</body>
</html>
`;
}
