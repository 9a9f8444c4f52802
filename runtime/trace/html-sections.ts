// Report sections for one run: latency per path (stacked parts and hops, table, worst frames)
// and the run over time (stage run times, histograms, XPU and CPU load, losses).
import { fig, fmt, table } from './html-parts.js';
import { PARTS, type Parts } from './paths.js';
import { cpuLoad, lossesOverTime, pathHops, pathParts, stageHistograms, stageRunsOverTime, xpuBusyOverTime } from './plots-time.js';
import type { ReportRun } from './report-data.js';
import { modeLabel } from './report.js';
import { escapeXml as esc } from './report-timeline.js';

const sum = (p: Parts) => PARTS.reduce((n, k) => n + p[k], 0);
const PART_HEAD = ['run', 'XPU wait', 'input wait', 'transfer'];
const idOf = (run: ReportRun, what: string) => `${what}-${run.summary.plan.replace(/[^\w-]/g, '_')}`;

/** The largest part of a frame: which hop, which part, how long. */
function largest(hops: Parts[], stages: string[]): string {
  let best = { v: -1, at: '' };
  hops.forEach((h, i) => {
    for (const k of PARTS) if (h[k] > best.v) best = { v: h[k], at: i === 0 && k === 'input_wait' ? `${stages[i]}: capture to ready (late tick or backpressure)` : `${stages[i]} ${k.replace('_', ' ')}` };
  });
  return `${best.at} ${fmt(best.v)} ms`;
}

export async function pathsSection(run: ReportRun, multi: boolean): Promise<string> {
  const p = run.summary.paths;
  const title = `${multi ? `Plan '${esc(run.summary.plan)}': ` : ''}latency per path`;
  if (!p || p.paths.length === 0) return `<section id="${idOf(run, 'paths')}"><h2>${title}</h2><p class="empty">No source→sink path was traced.</p></section>`;
  const analysed = p.paths.filter((x) => x.frames > 0);
  const charts = analysed.length
    ? fig('Mean end-to-end time per path, by part (the parts sum to the mean)', await pathParts({ ...p, paths: analysed }), 'wide') +
      fig('The same, by hop', await pathHops({ ...p, paths: analysed }, run.stageNames), 'wide')
    : '<p class="empty">No frame could be followed along a path.</p>';
  // Frames not followed (their runs left the trace ring, or settled) get a column only when there are any.
  const lost = p.paths.some((x) => x.unmatched > 0);
  const rows = p.paths.map((x) => [x.name, x.frames, ...(lost ? [x.unmatched] : []), fmt(x.e2e_ms.p50), fmt(x.e2e_ms.p99), fmt(x.e2e_ms.max), fmt(x.e2e_ms.mean), ...PARTS.map((k) => fmt(x.mean_ms[k]))]);
  const hops = p.paths
    .filter((x) => x.frames > 0)
    .map(
      (x) =>
        `<details><summary>${esc(x.name)} <span class="muted">— per hop, mean ms</span></summary>` +
        table(['hop', ...PART_HEAD, 'total', 'p99 total'], x.hops.map((h) => [h.stage, ...PARTS.map((k) => fmt(h.mean_ms[k])), fmt(sum(h.mean_ms)), fmt(h.p99_ms)])) +
        '</details>',
    )
    .join('\n');
  const worst = p.paths.flatMap((x) => x.worst.slice(0, 3).map((w) => [x.name, w.seq, fmt(w.e2e_ms), largest(w.hops, x.stages)]));
  return `<section id="${idOf(run, 'paths')}">
<h2>${title}</h2>
<p class="muted">Every source→sink path of the graph, found from the launch file. Each frame's end-to-end time on a path is split per hop into run, wait for its XPU, wait at its input (for another input, or while the stage was busy or held by a full output) and transfer (serialization and delivery); ${esc(modeLabel(run.summary))}.</p>
${charts}
${table(['path', 'frames', ...(lost ? ['not followed'] : []), 'p50', 'p99', 'max', 'mean', ...PART_HEAD], rows)}
<p class="muted">Milliseconds; the last four columns are the mean parts of the mean.</p>
${hops}
<h3>Slowest frames</h3>
${worst.length ? table(['path', 'frame', 'end-to-end ms', 'largest part'], worst, 1) : '<p class="muted">None.</p>'}
${p.truncated ? `<p class="muted">The graph has more paths than the ${p.paths.length} analysed.</p>` : ''}
</section>`;
}

export async function overTimeSection(run: ReportRun, multi: boolean): Promise<string> {
  const o = run.overTime;
  const title = `${multi ? `Plan '${esc(run.summary.plan)}': ` : ''}over time`;
  if (!o || o.stageRuns.length === 0) return `<section id="${idOf(run, 'time')}"><h2>${title}</h2><p class="empty">No stage run was traced.</p></section>`;
  const [runs, hist, xpu, losses] = await Promise.all([stageRunsOverTime(o, run.stageNames), stageHistograms(o, run.stageNames), xpuBusyOverTime(o), lossesOverTime(o)]);
  const cpu = o.cpu.cells.length
    ? fig(`CPU load per core, sampled from /proc/stat (${o.cpu.cores} cores)`, await cpuLoad(o))
    : `<p class="muted">CPU load per core: ${esc(o.cpu.unavailable ?? 'no sample fell inside the run (too short)')}.</p>`;
  const t = o.totals;
  const lossNote = `${t['source overrun']} source overruns, ${t.dropped} drops traced, ${t['deadline miss']} deadline misses${o.deadlineMs !== undefined ? ` (deadline: ${fmt(o.deadlineMs)} ms, the slowest source's period)` : ' (no source rate: no deadline)'}`;
  return `<section id="${idOf(run, 'time')}">
<h2>${title}</h2>
${fig('Run time of each stage over the run', runs, 'wide')}
${fig('Run time distribution per stage (up to its p99; slower runs in the last bar)', hist, 'wide')}
${fig('XPU busy share over the run', xpu, 'wide')}
${cpu}
${fig(`Frames lost or late over the run: ${lossNote}`, losses, 'wide')}
<p class="muted">Drops in keep-last queues and joins are counted per stage in the stage table; they appear here once the dispatch core traces them (EventKind.Drop).</p>
</section>`;
}
