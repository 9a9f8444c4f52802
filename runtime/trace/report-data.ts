// What the HTML report is made from: one entry per profiled run (its summary plus the few
// raw series the plots need), taken from a finished run's tracer. Plain data, so the report
// can be rendered (and tested) without running anything.
import type { CpuSeries } from './cpu.js';
import { overTime, type OverTime } from './over-time.js';
import { findPaths, frameBreakdowns, messageFlows, type PathGraph } from './paths.js';
import type { RunSummary } from './report.js';
import { EventKind, type TraceEvent, type Tracer } from './tracer.js';

/** One bar of the timeline: a trace event with `start`/`end` in ms from the window's start. */
export type TimelineEvent = TraceEvent;

export interface TimelineWindow {
  events: TimelineEvent[];
  /** Message flow inside the window: indices into `events`, producer run -> the run that consumed its message. */
  flows?: Array<{ from: number; to: number }>;
  firstFrame: number;
  lastFrame: number;
  spanMs: number;
}

export interface ReportXpu {
  id: string;
  kind: string;
  backend: string;
  real: boolean;
  note?: string;
}

export interface ReportRun {
  summary: RunSummary;
  /** By stage index. */
  stageNames: string[];
  /** By XPU index (the executor's XPU numbering), real ones and declared (simulated) ones. */
  xpus: ReportXpu[];
  /** End-to-end latency (ms) of every completed frame, in completion order, per sink name. */
  e2e: Record<string, number[]>;
  /** A window of a few consecutive frames in steady state. */
  timeline: TimelineWindow;
  /** The middle frame of that window alone, when the XPUs are idle most of the window. */
  zoom?: TimelineWindow;
  /** Stage run times, XPU and CPU load, losses over the run. */
  overTime?: OverTime;
}

/** What a run adds to its report beyond the tracer. */
export interface ReportExtras {
  /** The graph as path accounting sees it: flows in the timeline. */
  graph?: PathGraph;
  cpu?: CpuSeries;
  deadlineMs?: number;
}

type Flow = { from: { stage: number; start: number }; to: { stage: number; start: number } };

export interface ReportInput {
  title: string;
  /** The launch file as given. */
  file: string;
  launchArgs: string[];
  /** How the session ran, e.g. "60 frames per source" or "5 s at the sources' rates". */
  mode: string;
  /** Pipeline edges, `publisher -> subscriber (topic)`, for the header. */
  edges: Array<{ from: string; to: string; topic: string }>;
  /** ISO time the session ended. */
  createdAt: string;
  host: string;
  runs: ReportRun[];
}

/** Frames shown in the timeline window. */
export const TIMELINE_FRAMES = 5;

/**
 * Picks the timeline window: TIMELINE_FRAMES consecutive frames of one source around the
 * middle of the run (past start-up, before shutdown), from the start of the first frame's
 * source run to the end of the last run of those frames; every run overlapping that span is
 * kept, so other frames in flight show too. The anchor is the source with the fewest runs:
 * a frame's number is the newest of its inputs' numbers, so a faster source reaches the same
 * numbers earlier and its runs are not mistaken for the anchor's frames.
 */
export function timelineWindow(tracer: Tracer, sources: readonly number[] = [], frames = TIMELINE_FRAMES, flows: Flow[] = []): TimelineWindow {
  const runs: TimelineEvent[] = [];
  for (const e of tracer.events()) if (e.kind !== EventKind.Wait) runs.push({ ...e });
  if (runs.length === 0) return { events: [], firstFrame: 0, lastFrame: -1, spanMs: 0 };
  const perStage = new Map<number, TimelineEvent[]>();
  for (const e of runs) {
    if (e.kind !== EventKind.Run) continue;
    const list = perStage.get(e.stage);
    if (list) list.push(e);
    else perStage.set(e.stage, [e]);
  }
  const candidates = [...perStage.keys()].filter((k) => sources.length === 0 || sources.includes(k));
  const anchor = (candidates.length ? candidates : [...perStage.keys()]).reduce<number | undefined>(
    (best, k) => (best === undefined || perStage.get(k)!.length < perStage.get(best)!.length ? k : best),
    undefined,
  );
  const own = anchor === undefined ? runs : perStage.get(anchor)!;
  own.sort((a, b) => a.seq - b.seq || a.start - b.start);
  const m = Math.max(0, Math.min(own.length - frames, Math.floor(own.length / 2) - Math.floor(frames / 2)));
  const first = own[m]!.seq;
  const last = own[Math.min(own.length - 1, m + frames - 1)]!.seq;
  const t0 = own[m]!.start;
  let t1 = t0;
  for (const e of runs) if (e.seq >= first && e.seq <= last && e.start >= t0 && e.end > t1) t1 = e.end;
  const inside = runs.filter((e) => e.end >= t0 && e.start <= t1);
  const at = new Map<string, number>();
  inside.forEach((e, i) => {
    if (e.kind === EventKind.Run) at.set(`${e.stage}@${e.start}`, i);
  });
  const links: Array<{ from: number; to: number }> = [];
  for (const f of flows) {
    const a = at.get(`${f.from.stage}@${f.from.start}`);
    const b = at.get(`${f.to.stage}@${f.to.start}`);
    if (a !== undefined && b !== undefined) links.push({ from: a, to: b });
  }
  const events = inside.map((e) => ({ ...e, start: Math.max(0, e.start - t0), end: Math.min(t1, e.end) - t0 }));
  return { events, firstFrame: first, lastFrame: last, spanMs: t1 - t0, ...(links.length ? { flows: links } : {}) };
}

/** The report entry of one finished run. */
export function reportRun(summary: RunSummary, tracer: Tracer, stageNames: string[], xpus: ReportXpu[], sources: readonly number[] = [], extras: ReportExtras = {}): ReportRun {
  const e2e: Record<string, number[]> = {};
  for (const [sink, samples] of tracer.e2e) e2e[stageNames[sink] ?? String(sink)] = Array.from(samples.values());
  const events = [...tracer.events()];
  const completions = tracer.completions();
  const flows = extras.graph ? messageFlows(frameBreakdowns(extras.graph, findPaths(extras.graph).paths, events, completions).frames) : [];
  const timeline = timelineWindow(tracer, sources, TIMELINE_FRAMES, flows);
  const zoom = timelineWindow(tracer, sources, 1, flows);
  const over = overTime({ events, completions, stageNames, xpuNames: xpus.map((x) => x.id), sources, cpu: extras.cpu, deadlineMs: extras.deadlineMs });
  return { summary, stageNames, xpus, e2e, timeline, ...(zoom.spanMs > 0 && busyFraction(timeline) < 0.3 ? { zoom } : {}), overTime: over };
}

/** How much of the window its XPU rows are busy (0..1 per lane; above 1 with parallel lanes). */
export function busyFraction(w: TimelineWindow): number {
  const rows = new Set(w.events.map((e) => e.xpu)).size;
  if (rows === 0 || !(w.spanMs > 0)) return 1;
  let busy = 0;
  for (const e of w.events) busy += e.end - e.start;
  return busy / (w.spanMs * rows);
}
