// What the report plots over the run's time: per-stage run times, per-XPU busy share, CPU
// load per core, and the frames lost or late (source overruns, drops, deadline misses), all
// from a finished run's trace (and the CPU sampler). Times are seconds from the first event.
import type { CpuSeries } from './cpu.js';
import { EventKind, type Completion, type TraceEvent } from './tracer.js';

export interface OverTime {
  spanS: number;
  /** Per stage: run time (ms) against run start (s), at most POINTS per stage (bucket maxima). */
  stageRuns: Array<{ stage: string; points: Array<{ t: number; ms: number }> }>;
  /** Per stage: run times (ms) for histograms (evenly thinned to at most HIST_MAX). */
  stageDurations: Array<{ stage: string; values: number[] }>;
  /** Per XPU in use: busy share per time bin (lanes summed: above 1 with several lanes). */
  xpuBusy: Array<{ xpu: string; points: Array<{ t: number; busy: number }> }>;
  /** CPU load per core per sample interval [t0, t1). */
  cpu: { cells: Array<{ core: number; t0: number; t1: number; load: number }>; cores: number; unavailable?: string };
  /** Frames lost or late, counted per time bin. */
  losses: Array<{ t: number; kind: LossKind; count: number }>;
  totals: Record<LossKind, number>;
  binS: number;
  deadlineMs?: number;
}

export type LossKind = 'source overrun' | 'dropped' | 'deadline miss';

export const POINTS = 600;
export const HIST_MAX = 2000;
export const BINS = 60;

function bucketMax(points: Array<{ t: number; ms: number }>, max = POINTS): Array<{ t: number; ms: number }> {
  if (points.length <= max) return points;
  const step = Math.ceil(points.length / max);
  const out: Array<{ t: number; ms: number }> = [];
  for (let i = 0; i < points.length; i += step) {
    let best = points[i]!;
    for (let k = i + 1; k < Math.min(points.length, i + step); k++) if (points[k]!.ms > best.ms) best = points[k]!;
    out.push(best);
  }
  return out;
}

function thin(values: number[], max = HIST_MAX): number[] {
  if (values.length <= max) return values;
  const step = values.length / max;
  return Array.from({ length: max }, (_, i) => values[Math.floor(i * step)]!);
}

export interface OverTimeInput {
  events: TraceEvent[];
  completions: Completion[];
  stageNames: string[];
  xpuNames: string[];
  sources: readonly number[];
  cpu?: CpuSeries;
  /** A frame completing later than this after its capture missed its deadline (ms). */
  deadlineMs?: number;
}

export function overTime(i: OverTimeInput): OverTime {
  const runs = i.events.filter((e) => e.kind === EventKind.Run);
  let t0 = runs.length ? Infinity : 0;
  for (const e of runs) if (e.start < t0) t0 = e.start;
  let t1 = t0;
  for (const e of runs) if (e.end > t1) t1 = e.end;
  for (const c of i.completions) if (c.end > t1) t1 = c.end;
  const spanMs = t1 - t0;
  const binMs = Math.max(spanMs / BINS, 1e-3);
  const s = (ms: number) => (ms - t0) / 1000;

  const perStage = i.stageNames.map(() => [] as TraceEvent[]);
  for (const e of runs) perStage[e.stage]?.push(e);
  const stageRuns = perStage.map((list, k) => ({ stage: i.stageNames[k]!, points: bucketMax(list.map((e) => ({ t: s(e.start), ms: e.end - e.start }))) })).filter((x) => x.points.length);
  const stageDurations = perStage.map((list, k) => ({ stage: i.stageNames[k]!, values: thin(list.map((e) => e.end - e.start)) })).filter((x) => x.values.length);

  const busy = i.xpuNames.map(() => new Float64Array(BINS));
  const used = new Set<number>();
  for (const e of i.events) {
    if (e.kind !== EventKind.Run && e.kind !== EventKind.Transfer) continue;
    const b = busy[e.xpu];
    if (!b) continue;
    used.add(e.xpu);
    for (let k = Math.max(0, Math.floor((e.start - t0) / binMs)); k < BINS; k++) {
      const lo = t0 + k * binMs;
      const hi = lo + binMs;
      if (lo >= e.end) break;
      b[k]! += Math.max(0, Math.min(hi, e.end) - Math.max(lo, e.start)) / binMs;
    }
  }
  const xpuBusy = [...used].sort((a, b) => a - b).map((x) => ({ xpu: i.xpuNames[x]!, points: Array.from(busy[x]!, (v, k) => ({ t: (k * binMs) / 1000, busy: v })) }));

  const cells: OverTime['cpu']['cells'] = [];
  const cpu = i.cpu;
  if (cpu) {
    for (let k = 1; k < cpu.t.length; k++) {
      if (cpu.t[k]! < t0 || cpu.t[k - 1]! > t1) continue;
      cpu.cores.forEach((series, core) => cells.push({ core, t0: Math.max(0, s(cpu.t[k - 1]!)), t1: s(cpu.t[k]!), load: series[k] ?? 0 }));
    }
  }

  const counts = new Map<string, number>();
  const totals: Record<LossKind, number> = { 'source overrun': 0, dropped: 0, 'deadline miss': 0 };
  const count = (kind: LossKind, at: number, n = 1) => {
    const k = Math.min(BINS - 1, Math.max(0, Math.floor((at - t0) / binMs)));
    counts.set(`${k}|${kind}`, (counts.get(`${k}|${kind}`) ?? 0) + n);
    totals[kind] += n;
  };
  // A source's frame numbers are its ticks: a tick its stage could not take leaves a gap.
  for (const src of i.sources) {
    const list = (perStage[src] ?? []).slice().sort((a, b) => a.seq - b.seq);
    for (let k = 1; k < list.length; k++) if (list[k]!.seq - list[k - 1]!.seq > 1) count('source overrun', list[k]!.start, list[k]!.seq - list[k - 1]!.seq - 1);
  }
  for (const e of i.events) if (e.kind === EventKind.Drop) count('dropped', e.start);
  if (i.deadlineMs !== undefined) for (const c of i.completions) if (c.latency > i.deadlineMs) count('deadline miss', c.end);
  const losses = [...counts].map(([key, n]) => {
    const [k, kind] = key.split('|') as [string, LossKind];
    return { t: (Number(k) * binMs) / 1000, kind, count: n };
  });
  return {
    spanS: spanMs / 1000,
    stageRuns,
    stageDurations,
    xpuBusy,
    cpu: { cells, cores: cpu?.cores.length ?? 0, ...(cpu?.unavailable ? { unavailable: cpu.unavailable } : {}) },
    losses,
    totals,
    binS: binMs / 1000,
    ...(i.deadlineMs !== undefined ? { deadlineMs: i.deadlineMs } : {}),
  };
}
