// What the HTML report is made from: one entry per profiled run (its summary plus the few
// raw series the plots need), taken from a finished run's tracer. Plain data, so the report
// can be rendered (and tested) without running anything.
import type { RunSummary } from './report.js';
import { EventKind, type Tracer } from './tracer.js';

/** One bar of the timeline: a stage run (or preemption/transfer) on an XPU. */
export interface TimelineEvent {
  stage: number;
  xpu: number;
  kind: EventKind;
  /** Frame number. */
  seq: number;
  /** ms from the start of the window. */
  start: number;
  end: number;
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
  timeline: { events: TimelineEvent[]; firstFrame: number; lastFrame: number; spanMs: number };
}

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
 * Picks the timeline window: TIMELINE_FRAMES consecutive frames around the middle of the run
 * (past start-up, before shutdown), from the start of the first to the end of the last run of
 * those frames; every run overlapping that span is kept, so other frames in flight show too.
 */
export function timelineWindow(tracer: Tracer, frames = TIMELINE_FRAMES): ReportRun['timeline'] {
  const runs: TimelineEvent[] = [];
  for (const e of tracer.events()) if (e.kind !== EventKind.Wait) runs.push({ ...e });
  if (runs.length === 0) return { events: [], firstFrame: 0, lastFrame: -1, spanMs: 0 };
  let lo = Infinity;
  let hi = -Infinity;
  for (const e of runs) {
    if (e.seq < lo) lo = e.seq;
    if (e.seq > hi) hi = e.seq;
  }
  const first = Math.max(lo, Math.floor((lo + hi) / 2) - Math.floor(frames / 2));
  const last = Math.min(hi, first + frames - 1);
  let t0 = Infinity;
  let t1 = -Infinity;
  for (const e of runs) {
    if (e.seq < first || e.seq > last) continue;
    if (e.start < t0) t0 = e.start;
    if (e.end > t1) t1 = e.end;
  }
  const events = runs
    .filter((e) => e.end >= t0 && e.start <= t1)
    .map((e) => ({ ...e, start: Math.max(0, e.start - t0), end: Math.min(t1, e.end) - t0 }));
  return { events, firstFrame: first, lastFrame: last, spanMs: t1 - t0 };
}

/** The report entry of one finished run. */
export function reportRun(summary: RunSummary, tracer: Tracer, stageNames: string[], xpus: ReportXpu[]): ReportRun {
  const e2e: Record<string, number[]> = {};
  for (const [sink, samples] of tracer.e2e) e2e[stageNames[sink] ?? String(sink)] = Array.from(samples.values());
  return { summary, stageNames, xpus, e2e, timeline: timelineWindow(tracer) };
}
