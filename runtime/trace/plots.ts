// The report's charts as static SVG strings, rendered in Node by vega-lite + vega (no
// browser, no DOM). Each function takes plain numbers and returns one <svg> element.
// Titles are left to the page (<figcaption>): without a canvas, vega estimates text widths
// and pads long titles generously.
import * as vega from 'vega';
import type { TopLevelSpec } from 'vega-lite';
import { compile } from 'vega-lite';
import type { Summary } from './stats.js';

export const FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", Arial, sans-serif';

/** The colours stages get, in stage order (shared by the charts and the timeline). */
export function stageColours(n: number): string[] {
  const base = (vega.scheme('tableau10') as string[] | undefined) ?? ['#4c78a8', '#f58518', '#e45756', '#72b7b2', '#54a24b', '#eeca3b', '#b279a2', '#ff9da6', '#9d755d', '#bab0ac'];
  // Past ten stages: the lighter/darker tableau20 tones that do not repeat a tableau10 colour.
  const more = ['#9ecae9', '#ffbf79', '#88d27a', '#83bcb6', '#d6a5c9', '#d8b5a5', '#79706e', '#fcbfd2', '#f2cf5b', '#439894'];
  const all = [...base, ...more];
  return Array.from({ length: n }, (_, i) => all[i % all.length]!);
}

/** Colours of the compared plans (the xauto plan first). */
const PLAN_COLOURS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728'];
const PERCENTILE_COLOURS = ['#9ecae9', '#4c78a8', '#1b3a5c'];

const CONFIG = {
  font: FONT,
  background: 'white',
  view: { stroke: '#ddd' },
  axis: { labelFontSize: 11, titleFontSize: 12, titleFontWeight: 'normal' as const, gridColor: '#eee' },
  legend: { labelFontSize: 11, titleFontSize: 12, titleFontWeight: 'normal' as const },
  title: { fontSize: 13, fontWeight: 'normal' as const, anchor: 'start' as const },
};

/** Renders a vega-lite spec to an inline SVG element (namespace attributes dropped: HTML sets them). */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const full = { ...spec, config: { ...CONFIG, ...(spec.config ?? {}) } } as TopLevelSpec;
  const view = new vega.View(vega.parse(compile(full).spec), { renderer: 'none' });
  try {
    const svg = await view.toSVG();
    return svg.replace(/\s+xmlns(:xlink)?="[^"]*"/g, '').replace('<svg ', '<svg role="img" ');
  } finally {
    view.finalize();
  }
}

/** A finite number for charts: NaN/Infinity (no samples) become 0 so a chart still renders. */
const num = (v: number) => (Number.isFinite(v) ? v : 0);

/** A chart with a remark for its caption (a log axis, a downsampled series). */
export interface Figure {
  svg: string;
  note?: string;
}

export const DOWNSAMPLE_MAX = 1500;

/** Keeps at most `max` points of a long series: the maximum of each bucket (spikes stay visible). */
export function downsample(values: readonly number[], max = DOWNSAMPLE_MAX): Array<{ frame: number; ms: number }> {
  if (values.length <= max) return values.map((ms, i) => ({ frame: i, ms }));
  const step = Math.ceil(values.length / max);
  const out: Array<{ frame: number; ms: number }> = [];
  for (let i = 0; i < values.length; i += step) {
    let m = -Infinity;
    for (let k = i; k < Math.min(values.length, i + step); k++) m = Math.max(m, values[k]!);
    out.push({ frame: i, ms: m });
  }
  return out;
}

export interface Series {
  /** Legend label (plan name, or plan/sink). */
  name: string;
  values: readonly number[];
}

const seriesColour = (series: Series[]) => ({
  field: 'series',
  type: 'nominal' as const,
  title: null,
  scale: { domain: series.map((s) => s.name), range: PLAN_COLOURS },
  legend: series.length > 1 ? { orient: 'top' as const } : null,
});

/** Histogram of end-to-end latency, series overlaid. */
export function latencyHistogram(series: Series[], width = 400): Promise<string> {
  const values = series.flatMap((s) => s.values.map((ms) => ({ series: s.name, ms })));
  return renderSvg({
    width,
    height: 220,
    data: { values },
    mark: { type: 'bar', opacity: series.length > 1 ? 0.6 : 0.9, binSpacing: 1 },
    encoding: {
      x: { field: 'ms', type: 'quantitative', bin: { maxbins: 40 }, title: 'end-to-end latency (ms)' },
      y: { aggregate: 'count', type: 'quantitative', title: 'frames', stack: null },
      color: seriesColour(series),
    },
  });
}

/** Cumulative distribution of end-to-end latency; log x axis when the tail is long. */
export async function latencyCdf(series: Series[], width = 400): Promise<Figure> {
  const values: Array<{ series: string; ms: number; fraction: number }> = [];
  let lo = Infinity;
  let hi = 0;
  for (const s of series) {
    const sorted = Float64Array.from(s.values).sort();
    const n = sorted.length;
    // At most ~600 points per curve: enough for a smooth step.
    const step = Math.max(1, Math.floor(n / 600));
    for (let i = 0; i < n; i += step) values.push({ series: s.name, ms: sorted[i]!, fraction: (i + 1) / n });
    if (n) values.push({ series: s.name, ms: sorted[n - 1]!, fraction: 1 });
    if (n && sorted[0]! > 0) lo = Math.min(lo, sorted[0]!);
    if (n) hi = Math.max(hi, sorted[n - 1]!);
  }
  const log = Number.isFinite(lo) && hi / lo > 30;
  const svg = await renderSvg({
    width,
    height: 220,
    data: { values: log ? values.filter((v) => v.ms > 0) : values },
    mark: { type: 'line', interpolate: 'step-after', strokeWidth: 2 },
    encoding: {
      x: { field: 'ms', type: 'quantitative', title: 'end-to-end latency (ms)', scale: log ? { type: 'log' } : { zero: true } },
      y: { field: 'fraction', type: 'quantitative', title: 'fraction of frames', axis: { format: '%' }, scale: { domain: [0, 1] } },
      color: seriesColour(series),
    },
  });
  return { svg, note: log ? 'log scale' : undefined };
}

/** End-to-end latency of each frame in completion order. */
export async function latencyOverTime(series: Series[], width = 960): Promise<Figure> {
  const many = series.some((s) => s.values.length > DOWNSAMPLE_MAX);
  const values = series.flatMap((s) => downsample(s.values).map((p) => ({ series: s.name, ...p })));
  const svg = await renderSvg({
    width,
    height: 200,
    data: { values },
    mark: { type: 'line', strokeWidth: 1.2, point: series.every((s) => s.values.length <= 120) ? { size: 12 } : false },
    encoding: {
      x: { field: 'frame', type: 'quantitative', title: 'completed frame (in completion order)' },
      y: { field: 'ms', type: 'quantitative', title: 'end-to-end latency (ms)' },
      color: seriesColour(series),
    },
  });
  return { svg, note: many ? 'maximum per bucket of frames' : undefined };
}

export interface StageBars {
  /** Axis label, e.g. `scale (js@main)`. */
  label: string;
  summary: Summary;
}

/** p50/p90/p99 bars per stage (run time or queue wait). */
export function percentileBars(axisTitle: string, stages: StageBars[], width = 400): Promise<string> {
  const values = stages.flatMap((s) =>
    (['p50', 'p90', 'p99'] as const).map((p) => ({ stage: s.label, percentile: p, ms: num(s.summary[p]) })),
  );
  return renderSvg({
    width,
    height: Math.max(60, stages.length * 46),
    data: { values },
    mark: { type: 'bar' },
    encoding: {
      y: { field: 'stage', type: 'nominal', title: null, sort: stages.map((s) => s.label), axis: { labelLimit: 260 } },
      yOffset: { field: 'percentile', type: 'nominal', sort: ['p50', 'p90', 'p99'] },
      x: { field: 'ms', type: 'quantitative', title: axisTitle },
      color: { field: 'percentile', type: 'nominal', title: null, scale: { domain: ['p50', 'p90', 'p99'], range: PERCENTILE_COLOURS }, legend: { orient: 'top' } },
    },
  });
}

/** End-to-end p50/p90/p99 per plan, side by side. */
export function planComparisonBars(plans: Array<{ name: string; e2e: Summary }>, width = 400): Promise<string> {
  const values = plans.flatMap((p) => (['p50', 'p90', 'p99'] as const).map((q) => ({ plan: p.name, percentile: q, ms: num(p.e2e[q]) })));
  return renderSvg({
    width,
    height: 220,
    data: { values },
    mark: { type: 'bar' },
    encoding: {
      x: { field: 'percentile', type: 'nominal', title: null, sort: ['p50', 'p90', 'p99'], axis: { labelAngle: 0 } },
      xOffset: { field: 'plan', type: 'nominal', sort: plans.map((p) => p.name) },
      y: { field: 'ms', type: 'quantitative', title: 'end-to-end latency (ms)' },
      color: { field: 'plan', type: 'nominal', title: null, sort: plans.map((p) => p.name), scale: { domain: plans.map((p) => p.name), range: PLAN_COLOURS }, legend: { orient: 'top' } },
    },
  });
}

/** Busy fraction of each XPU during the run (above 100% on an XPU running several lanes at once). */
export function utilisationBars(xpus: Array<{ label: string; utilisation: number }>, width = 400): Promise<string> {
  return renderSvg({
    width,
    height: Math.max(22, xpus.length * 22),
    data: { values: xpus.map((x) => ({ xpu: x.label, busy: num(x.utilisation) })) },
    mark: { type: 'bar', color: '#72b7b2' },
    encoding: {
      y: { field: 'xpu', type: 'nominal', title: null, sort: xpus.map((x) => x.label) },
      x: { field: 'busy', type: 'quantitative', title: 'busy time / wall time (lanes summed)', axis: { format: '%' }, scale: { domain: [0, Math.max(1, ...xpus.map((x) => num(x.utilisation)))] } },
    },
  });
}
