// The report's over-time and per-path charts (vega-lite, rendered to static SVG in Node).
import type { OverTime } from './over-time.js';
import type { PathAnalysis } from './paths.js';
import { PARTS } from './paths.js';
import { renderSvg, stageColours, type Figure } from './plots.js';

/** Colours of the parts of a path's latency. */
export const PART_COLOURS: Record<(typeof PARTS)[number], string> = { run: '#4c78a8', xpu_wait: '#f58518', input_wait: '#e45756', transfer: '#72b7b2' };
const PART_LABELS: Record<(typeof PARTS)[number], string> = { run: 'run', xpu_wait: 'XPU wait', input_wait: 'input wait', transfer: 'transfer' };
const partScale = { domain: PARTS.map((p) => PART_LABELS[p]), range: PARTS.map((p) => PART_COLOURS[p]) };

const stageScale = (stages: string[], all: string[]) => {
  const colours = stageColours(all.length);
  return { domain: stages, range: stages.map((s) => colours[all.indexOf(s)] ?? '#999') };
};

/** Run time of each stage over the run. */
export async function stageRunsOverTime(o: OverTime, allStages: string[], width = 960): Promise<Figure> {
  const values = o.stageRuns.flatMap((s) => s.points.map((p) => ({ stage: s.stage, t: p.t, ms: p.ms })));
  const positive = values.filter((v) => v.ms > 0);
  const lo = positive.reduce((m, v) => Math.min(m, v.ms), Infinity);
  const hi = positive.reduce((m, v) => Math.max(m, v.ms), 0);
  const log = Number.isFinite(lo) && hi / lo > 50;
  const svg = await renderSvg({
    width,
    height: 220,
    data: { values: log ? positive : values },
    mark: { type: 'line', strokeWidth: 1, point: { size: 6 } },
    encoding: {
      x: { field: 't', type: 'quantitative', title: 'time since the first run (s)' },
      y: { field: 'ms', type: 'quantitative', title: 'run time (ms)', scale: log ? { type: 'log' } : { zero: true } },
      color: { field: 'stage', type: 'nominal', title: null, scale: stageScale(o.stageRuns.map((s) => s.stage), allStages), legend: { orient: 'top', columns: 6 } },
    },
  });
  return { svg, note: [log ? 'log scale' : '', o.stageRuns.some((s) => s.points.length >= 600) ? 'maximum per bucket of runs' : ''].filter(Boolean).join('; ') || undefined };
}

/**
 * Bins of one stage's run times over its own range, minimum to p99 (vega-lite would bin all
 * facets over one range); runs above the p99 fall in the last bin, so one outlier does not
 * squeeze the rest into a single bar.
 */
function bins(values: number[], n = 24): Array<{ lo: number; hi: number; count: number }> {
  const sorted = Float64Array.from(values).sort();
  const lo = sorted[0] ?? 0;
  let hi = sorted[Math.floor(0.99 * (sorted.length - 1))] ?? lo;
  if (!(hi > lo)) hi = sorted[sorted.length - 1] ?? lo;
  if (!(hi > lo)) return [{ lo, hi: lo + Math.max(1e-3, lo * 0.01), count: values.length }];
  const w = (hi - lo) / n;
  const counts = new Array<number>(n).fill(0);
  for (const v of sorted) counts[Math.min(n - 1, Math.floor((v - lo) / w))]!++;
  return counts.map((count, i) => ({ lo: lo + i * w, hi: lo + (i + 1) * w, count }));
}

/** A histogram of run times per stage (small multiples, each over its own range). */
export function stageHistograms(o: OverTime, allStages: string[]): Promise<string> {
  const values = o.stageDurations.flatMap((s) => bins(s.values).map((b) => ({ stage: s.stage, ...b })));
  return renderSvg({
    data: { values },
    facet: { field: 'stage', type: 'nominal', title: null, sort: o.stageDurations.map((s) => s.stage), header: { labelFontSize: 11 } },
    columns: 4,
    spec: {
      width: 190,
      height: 80,
      mark: { type: 'rect' },
      encoding: {
        x: { field: 'lo', type: 'quantitative', title: 'run time (ms)', scale: { zero: false, nice: false } },
        x2: { field: 'hi' },
        y: { field: 'count', type: 'quantitative', title: 'runs' },
        y2: { datum: 0 },
        color: { field: 'stage', type: 'nominal', scale: stageScale(o.stageDurations.map((s) => s.stage), allStages), legend: null },
      },
    },
    resolve: { scale: { x: 'independent', y: 'independent' } },
  });
}

/** CPU load per core over the run (a heat map: one row per core). */
export function cpuLoad(o: OverTime, width = 960): Promise<string> {
  return renderSvg({
    width,
    height: Math.max(40, Math.min(16, 160 / Math.max(1, o.cpu.cores)) * o.cpu.cores),
    data: { values: o.cpu.cells.map((c) => ({ ...c, core: `cpu${c.core}` })) },
    mark: { type: 'rect' },
    encoding: {
      x: { field: 't0', type: 'quantitative', title: 'time since the first run (s)' },
      x2: { field: 't1' },
      y: { field: 'core', type: 'nominal', title: null, sort: Array.from({ length: o.cpu.cores }, (_, i) => `cpu${i}`) },
      // Five steps, not a gradient: a gradient legend refers to its fill by url(), and the page references nothing.
      color: { field: 'load', type: 'quantitative', title: 'busy', scale: { type: 'quantize', domain: [0, 1], range: ['#fef0d9', '#fdcc8a', '#fc8d59', '#e34a33', '#b30000'] }, legend: { format: '.0%', orient: 'top', direction: 'horizontal' } },
    },
  });
}

/** Busy share of each XPU over the run. */
export function xpuBusyOverTime(o: OverTime, width = 960): Promise<string> {
  const values = o.xpuBusy.flatMap((x) => x.points.map((p) => ({ xpu: x.xpu, t: p.t, busy: p.busy })));
  return renderSvg({
    width,
    height: 180,
    data: { values },
    mark: { type: 'line', interpolate: 'step-after', strokeWidth: 1.5 },
    encoding: {
      x: { field: 't', type: 'quantitative', title: 'time since the first run (s)' },
      y: { field: 'busy', type: 'quantitative', title: `busy per ${(o.binS * 1000).toFixed(o.binS < 0.01 ? 2 : 0)} ms (lanes summed)`, axis: { format: '%' } },
      color: { field: 'xpu', type: 'nominal', title: null, legend: { orient: 'top' } },
    },
  });
}

/** Frames lost or late per time bin, by kind. */
export function lossesOverTime(o: OverTime, width = 960): Promise<string> {
  const kinds = ['source overrun', 'dropped', 'deadline miss'];
  return renderSvg({
    width,
    height: 140,
    data: { values: o.losses.map((l) => ({ ...l, t1: l.t + o.binS })) },
    mark: { type: 'bar' },
    encoding: {
      x: { field: 't', type: 'quantitative', bin: 'binned', title: 'time since the first run (s)', scale: { domain: [0, Math.max(o.spanS, o.binS)] } },
      x2: { field: 't1' },
      y: { field: 'count', type: 'quantitative', aggregate: 'sum', title: `frames per ${(o.binS * 1000).toFixed(o.binS < 0.01 ? 2 : 0)} ms` },
      color: { field: 'kind', type: 'nominal', title: null, scale: { domain: kinds, range: ['#b279a2', '#e45756', '#f58518'] }, legend: { orient: 'top' } },
    },
  });
}

/** Mean end-to-end time per path, stacked by part (the parts sum to the mean). */
export function pathParts(p: PathAnalysis, width = 560): Promise<string> {
  const values = p.paths.flatMap((x) => PARTS.map((part, k) => ({ path: x.name, part: PART_LABELS[part], order: k, ms: x.mean_ms[part] })));
  return renderSvg({
    width,
    height: Math.max(40, p.paths.length * 28),
    data: { values },
    mark: { type: 'bar' },
    encoding: {
      y: { field: 'path', type: 'nominal', title: null, sort: p.paths.map((x) => x.name), axis: { labelLimit: 420 } },
      x: { field: 'ms', type: 'quantitative', title: 'mean end-to-end time (ms)', stack: 'zero' },
      color: { field: 'part', type: 'nominal', title: null, scale: partScale, legend: { orient: 'top' } },
      order: { field: 'order', type: 'quantitative' },
    },
  });
}

/** Mean end-to-end time per path, stacked by hop (each hop's parts together). */
export function pathHops(p: PathAnalysis, allStages: string[], width = 560): Promise<string> {
  const values = p.paths.flatMap((x) => x.hops.map((h, k) => ({ path: x.name, stage: h.stage, order: k, ms: PARTS.reduce((n, part) => n + h.mean_ms[part], 0) })));
  const stages = [...new Set(values.map((v) => v.stage))];
  return renderSvg({
    width,
    height: Math.max(40, p.paths.length * 28),
    data: { values },
    mark: { type: 'bar', stroke: 'white', strokeWidth: 0.5 },
    encoding: {
      y: { field: 'path', type: 'nominal', title: null, sort: p.paths.map((x) => x.name), axis: { labelLimit: 420 } },
      x: { field: 'ms', type: 'quantitative', title: 'mean end-to-end time (ms), by hop', stack: 'zero' },
      color: { field: 'stage', type: 'nominal', title: null, scale: stageScale(stages, allStages), legend: { orient: 'top', columns: 7 } },
      order: { field: 'order', type: 'quantitative' },
    },
  });
}
