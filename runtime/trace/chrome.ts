// Exports trace events as Chrome trace JSON (opens in Perfetto or chrome://tracing). XPUs are
// one process each with one track per lane (the lane the dispatch core gave the job), so slices
// on a track never overlap (Perfetto nests overlapping slices); queue waits are tracks of their
// own per stage and carry their frame;
// flow events link each frame's runs across tracks (producer run -> the run that consumed its
// message), found by the path accounting (paths.ts).
import { findPaths, frameBreakdowns, messageFlows, type PathGraph } from './paths.js';
import { EventKind, type TraceEvent, type Tracer } from './tracer.js';

export interface ChromeEvent {
  name: string;
  cat: string;
  ph: 'X' | 'M' | 's' | 'f';
  ts?: number;
  dur?: number;
  pid: number;
  tid: number;
  id?: number;
  bp?: 'e';
  args?: Record<string, unknown>;
}

export interface ChromeTrace {
  traceEvents: ChromeEvent[];
  displayTimeUnit: 'ms';
}

/** Process ids: XPU x is process XPU_PID + x; queue waits are one process. */
export const WAIT_PID = 1;
export const XPU_PID = 2;

/** Greedy lanes: each event gets the lowest lane free at its start (input sorted by start). */
export function assignLanes<T extends { start: number; end: number }>(events: T[]): number[] {
  const ends: number[] = [];
  return events.map((e) => {
    let l = ends.findIndex((end) => end <= e.start);
    if (l < 0) l = ends.length;
    ends[l] = e.end;
    return l;
  });
}

/**
 * Tracks of one XPU's events: the lane the dispatch core ran each job on where every run says
 * its lane and no two runs of a lane overlap; events without a lane (copies) on tracks of their
 * own after them, greedily. Otherwise (a merged trace, a run without its lane) greedy lanes.
 */
export function xpuTracks(events: TraceEvent[]): { tracks: number[]; copiesFrom: number } {
  const runs = events.filter((e) => e.kind === EventKind.Run);
  const known = runs.length > 0 && runs.every((e) => e.lane !== undefined);
  const lastEnd = new Map<number, number>();
  const fits = known && events.every((e) => {
    if (e.lane === undefined) return true;
    if ((lastEnd.get(e.lane) ?? -Infinity) > e.start) return false; // input sorted by start
    lastEnd.set(e.lane, e.end);
    return true;
  });
  if (!fits) return { tracks: assignLanes(events), copiesFrom: Infinity };
  const base = Math.max(...lastEnd.keys()) + 1;
  const restLanes = assignLanes(events.filter((e) => e.lane === undefined));
  let k = 0;
  return { tracks: events.map((e) => e.lane ?? base + restLanes[k++]!), copiesFrom: base };
}

export function chromeTrace(tracer: Tracer, stageNames: string[], xpuNames: string[], graph?: PathGraph): ChromeTrace {
  const events: ChromeEvent[] = [];
  const all = [...tracer.events()];
  const onXpu = all.filter((e) => e.kind === EventKind.Run || e.kind === EventKind.Transfer || e.kind === EventKind.Preempt);
  const waits = all.filter((e) => e.kind === EventKind.Wait || e.kind === EventKind.Capture);
  /** Where each run went: `${stage}@${start}` -> [pid, tid]. */
  const placed = new Map<string, [number, number]>();
  const byStart = (a: TraceEvent, b: TraceEvent) => a.start - b.start;

  xpuNames.forEach((name, x) => {
    const mine = onXpu.filter((e) => e.xpu === x).sort(byStart);
    const { tracks: lanes, copiesFrom } = xpuTracks(mine);
    const pid = XPU_PID + x;
    events.push({ name: 'process_name', cat: '__metadata', ph: 'M', pid, tid: 0, args: { name: `xpu ${name}` } });
    events.push({ name: 'process_sort_index', cat: '__metadata', ph: 'M', pid, tid: 0, args: { sort_index: pid } });
    for (const l of new Set(lanes)) events.push({ name: 'thread_name', cat: '__metadata', ph: 'M', pid, tid: l, args: { name: l < copiesFrom ? `${name} lane ${l}` : `${name} copies${l > copiesFrom ? ` (${l - copiesFrom + 1})` : ''}` } });
    mine.forEach((e, i) => {
      const stage = stageNames[e.stage] ?? String(e.stage);
      const ts = e.start * 1000;
      const dur = Math.max(0, (e.end - e.start) * 1000);
      const tid = lanes[i]!;
      if (e.kind === EventKind.Run) {
        events.push({ name: stage, cat: 'run', ph: 'X', ts, dur, pid, tid, args: { frame: e.seq } });
        placed.set(`${e.stage}@${e.start}`, [pid, tid]);
      } else events.push({ name: `${stage} ${EventKind[e.kind].toLowerCase()}`, cat: EventKind[e.kind].toLowerCase(), ph: 'X', ts, dur, pid, tid, args: e.bytes ? { frame: e.seq, bytes: e.bytes } : { frame: e.seq } });
    });
  });

  events.push({ name: 'process_name', cat: '__metadata', ph: 'M', pid: WAIT_PID, tid: 0, args: { name: 'queue waits' } });
  events.push({ name: 'process_sort_index', cat: '__metadata', ph: 'M', pid: WAIT_PID, tid: 0, args: { sort_index: 999 } });
  stageNames.forEach((name, s) => {
    const mine = waits.filter((e) => e.stage === s && e.end > e.start).sort(byStart);
    if (!mine.length) return;
    const lanes = assignLanes(mine);
    const base = s * 8;
    for (let l = 0; l <= Math.max(...lanes); l++) events.push({ name: 'thread_name', cat: '__metadata', ph: 'M', pid: WAIT_PID, tid: base + l, args: { name: l ? `wait ${name} (${l + 1})` : `wait ${name}` } });
    mine.forEach((e, i) => {
      const what = e.kind === EventKind.Capture ? 'capture' : 'waits for its XPU';
      events.push({ name: `${name} ${what}`, cat: e.kind === EventKind.Capture ? 'capture' : 'wait', ph: 'X', ts: e.start * 1000, dur: (e.end - e.start) * 1000, pid: WAIT_PID, tid: base + Math.min(7, lanes[i]!), args: { frame: e.seq } });
    });
  });

  if (graph) {
    const { frames } = frameBreakdowns(graph, findPaths(graph).paths, all, tracer.completions());
    let id = 1;
    for (const f of messageFlows(frames)) {
      const from = placed.get(`${f.from.stage}@${f.from.start}`);
      const to = placed.get(`${f.to.stage}@${f.to.start}`);
      if (!from || !to) continue;
      const name = `frame ${f.seq}`;
      // Bound to the producer's slice (its start lies inside it; the arrow leaves from its end).
      events.push({ name, cat: 'flow', ph: 's', id, ts: f.from.start * 1000, pid: from[0], tid: from[1] });
      events.push({ name, cat: 'flow', ph: 'f', bp: 'e', id, ts: f.to.start * 1000, pid: to[0], tid: to[1] });
      id++;
    }
  }
  return { traceEvents: events, displayTimeUnit: 'ms' };
}
