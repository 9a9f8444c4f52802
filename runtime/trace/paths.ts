// Per-path latency, found from the graph alone (no architecture file): every source->sink
// path over trigger edges, and for each sink completion each path's end-to-end time split
// per hop into run, XPU wait, input wait and transfer, from the trace events after the run.
//
// For a path s0 -> s1 -> ... -> sk and a completion at sk (end E, latency L, capture t0 = E-L),
// the runs of the chain are matched backwards (the run of s(i-1) that fed the run of si: the
// same frame number if there is one, else the newest older frame, ended before si started).
// The time from the capture to E then telescopes into consecutive segments:
//   source:  capture -> ready            input wait (timer lateness, backpressure)
//   hop i:   producer end -> ready        input wait while another input or the stage itself
//                                         (busy, or held by a full output) kept it from being
//                                         ready, transfer for the rest (serialization, delivery)
//            ready -> start               XPU wait        start -> end   run
//   sink:    end -> completion            transfer (publishing the result)
// so the parts of a frame sum to its end-to-end time exactly. Transfer events (EventKind
// Transfer, by the consuming stage and frame) and capture events (EventKind Capture, by the
// source and frame), where the dispatch core records them, refine the split: transfer time
// then comes from them, and a source's capture time from its own event.
import { summarize, type Summary } from './stats.js';
import { EventKind, type Completion, type TraceEvent } from './tracer.js';

export const PARTS = ['run', 'xpu_wait', 'input_wait', 'transfer'] as const;
export type Part = (typeof PARTS)[number];
export type Parts = Record<Part, number>;

/** The graph as path accounting needs it (built by the CLI from the launch graph). */
export interface PathGraph {
  stages: string[];
  /** Trigger edges: a message from `from` makes `to` run (latched and optional inputs are not). */
  edges: Array<{ from: number; to: number }>;
  sources: number[];
  sinks: number[];
}

/** Paths beyond this many are not analysed (a wide graph multiplies them); the report says so. */
export const MAX_PATHS = 64;

/** Every source->sink path over trigger edges, sources in order, at most MAX_PATHS. */
export function findPaths(g: PathGraph): { paths: number[][]; truncated: boolean } {
  const out = new Map<number, number[]>();
  for (const e of g.edges) (out.get(e.from) ?? out.set(e.from, []).get(e.from)!).push(e.to);
  const sinks = new Set(g.sinks);
  const paths: number[][] = [];
  let truncated = false;
  const walk = (path: number[]): void => {
    if (paths.length >= MAX_PATHS) {
      truncated = true;
      return;
    }
    const at = path[path.length - 1]!;
    const next = (out.get(at) ?? []).filter((n) => !path.includes(n));
    if (sinks.has(at) || next.length === 0) {
      if (sinks.has(at)) paths.push(path);
      if (next.length === 0) return;
    }
    for (const n of next) walk([...path, n]);
  };
  for (const s of g.sources) walk([s]);
  return { paths, truncated };
}

interface RunRec {
  stage: number;
  seq: number;
  /** When the stage became ready (its wait event's start; its start without one). */
  ready: number;
  start: number;
  end: number;
}

/** The trace events of one run, indexed per stage for matching. */
class RunIndex {
  /** Per stage, runs by end time. */
  readonly runs: RunRec[][];
  /** Per stage, run starts ascending (for downstream backpressure). */
  readonly starts: Float64Array[];
  readonly bySeq: Array<Map<number, RunRec[]>>;
  readonly transfers: Array<Map<number, Array<{ start: number; end: number }>>>;
  readonly captures: Array<Map<number, number>>;

  constructor(stages: number, events: Iterable<TraceEvent>) {
    const waits: Array<Map<number, number>> = Array.from({ length: stages }, () => new Map());
    const runs: RunRec[][] = Array.from({ length: stages }, () => []);
    this.transfers = Array.from({ length: stages }, () => new Map());
    this.captures = Array.from({ length: stages }, () => new Map());
    for (const e of events) {
      if (e.stage < 0 || e.stage >= stages) continue;
      // A run's wait event ends at the run's start (the same clock reading).
      if (e.kind === EventKind.Wait) waits[e.stage]!.set(e.end, e.start);
      else if (e.kind === EventKind.Run) runs[e.stage]!.push({ stage: e.stage, seq: e.seq, ready: e.start, start: e.start, end: e.end });
      else if (e.kind === EventKind.Transfer) {
        const m = this.transfers[e.stage]!;
        (m.get(e.seq) ?? m.set(e.seq, []).get(e.seq)!).push({ start: e.start, end: e.end });
      } else if (e.kind === EventKind.Capture) this.captures[e.stage]!.set(e.seq, e.start);
    }
    for (let s = 0; s < stages; s++) {
      for (const r of runs[s]!) {
        const w = waits[s]!.get(r.start);
        if (w !== undefined && w <= r.start) r.ready = w;
      }
      runs[s]!.sort((a, b) => a.end - b.end);
    }
    this.runs = runs;
    this.starts = runs.map((list) => Float64Array.from(list, (r) => r.start).sort());
    this.bySeq = runs.map((list) => {
      const m = new Map<number, RunRec[]>();
      for (const r of list) (m.get(r.seq) ?? m.set(r.seq, []).get(r.seq)!).push(r);
      return m;
    });
  }

  /** The run of `stage` that fed a run of frame `seq` starting at `before`. */
  feeder(stage: number, seq: number, before: number): RunRec | undefined {
    const same = this.bySeq[stage]!.get(seq);
    if (same) {
      for (let k = same.length - 1; k >= 0; k--) if (same[k]!.end <= before) return same[k];
    }
    const list = this.runs[stage]!;
    let hi = lastAtOrBefore(list, before);
    for (let n = 0; hi >= 0 && n < 64; hi--, n++) if (list[hi]!.seq <= seq) return list[hi];
    return undefined;
  }

  /** The run of `stage` that ended last before `t` (other than `self`). */
  previous(stage: number, self: RunRec, t: number): RunRec | undefined {
    const list = this.runs[stage]!;
    for (let k = lastAtOrBefore(list, t); k >= 0; k--) if (list[k] !== self) return list[k];
    return undefined;
  }

  /** The latest run start of `stage` in [from, to] (a downstream stage taking an input frees a full queue). */
  startIn(stage: number, from: number, to: number): number | undefined {
    const s = this.starts[stage]!;
    let lo = 0;
    let hi = s.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (s[mid]! <= to) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found >= 0 && s[found]! >= from ? s[found] : undefined;
  }

  transferTime(stage: number, seq: number, from: number, to: number): number {
    let t = 0;
    for (const x of this.transfers[stage]!.get(seq) ?? []) t += Math.max(0, Math.min(to, x.end) - Math.max(from, x.start));
    return t;
  }
}

function lastAtOrBefore(list: RunRec[], t: number): number {
  let lo = 0;
  let hi = list.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (list[mid]!.end <= t) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}

const zero = (): Parts => ({ run: 0, xpu_wait: 0, input_wait: 0, transfer: 0 });

/** One frame on one path: its end-to-end time and the parts of each hop (same order as the path). */
export interface FrameBreakdown {
  path: number;
  sink: number;
  seq: number;
  /** Completion time (ms, trace clock). */
  end: number;
  e2e: number;
  hops: Parts[];
  /** True for the path from the frame's oldest source: its e2e is the frame's reported latency. */
  origin: boolean;
  /** The run of each hop (which run consumed which message: the message flow). */
  runs: Array<{ stage: number; seq: number; start: number; end: number }>;
}

/** Decomposes every completion along every path that ends at its sink. */
export function frameBreakdowns(g: PathGraph, paths: number[][], events: Iterable<TraceEvent>, completions: Completion[]): { frames: FrameBreakdown[]; unmatched: number[] } {
  const idx = new RunIndex(g.stages.length, events);
  const inputs = new Map<number, number[]>();
  const outputs = new Map<number, number[]>();
  for (const e of g.edges) {
    (inputs.get(e.to) ?? inputs.set(e.to, []).get(e.to)!).push(e.from);
    (outputs.get(e.from) ?? outputs.set(e.from, []).get(e.from)!).push(e.to);
  }
  const bySink = new Map<number, number[]>();
  paths.forEach((p, i) => {
    const sink = p[p.length - 1]!;
    (bySink.get(sink) ?? bySink.set(sink, []).get(sink)!).push(i);
  });
  const frames: FrameBreakdown[] = [];
  const unmatched = paths.map(() => 0);
  for (const c of completions) {
    const t0 = c.end - c.latency;
    const chains: Array<{ path: number; runs: RunRec[] }> = [];
    for (const pi of bySink.get(c.sink) ?? []) {
      const path = paths[pi]!;
      const last = idx.feeder(c.sink, c.seq, c.end);
      if (!last) {
        unmatched[pi]!++;
        continue;
      }
      const runs: RunRec[] = [last];
      for (let h = path.length - 2; h >= 0; h--) {
        const r = idx.feeder(path[h]!, runs[0]!.seq, runs[0]!.start);
        if (!r) break;
        runs.unshift(r);
      }
      if (runs.length !== path.length) unmatched[pi]!++;
      else chains.push({ path: pi, runs });
    }
    if (!chains.length) continue;
    // The frame's capture is its oldest source's: the chain whose source became ready first.
    let origin = chains[0]!;
    for (const ch of chains) if (ch.runs[0]!.ready < origin.runs[0]!.ready) origin = ch;
    const originSource = origin.runs[0]!;
    for (const ch of chains) {
      const path = paths[ch.path]!;
      const src = ch.runs[0]!;
      const isOrigin = src === originSource;
      const captured = isOrigin ? t0 : (idx.captures[path[0]!]!.get(src.seq) ?? src.ready);
      const hops: Parts[] = [];
      let at = Math.min(captured, src.start);
      for (let h = 0; h < path.length; h++) {
        const stage = path[h]!;
        const r = ch.runs[h]!;
        const p = zero();
        const ready = Math.min(r.start, Math.max(r.ready, at));
        const gap = ready - at;
        if (h === 0) p.input_wait = gap;
        else {
          // What kept the stage from being ready once this input had arrived.
          let blocked = at;
          for (const other of inputs.get(stage) ?? []) {
            if (other === path[h - 1]) continue;
            const o = idx.feeder(other, r.seq, r.start);
            if (o && o.end > blocked) blocked = o.end;
          }
          const prev = idx.previous(stage, r, ready);
          if (prev && prev.end > blocked) blocked = prev.end;
          for (const d of outputs.get(stage) ?? []) {
            const s = idx.startIn(d, blocked, ready);
            if (s !== undefined && s > blocked) blocked = s;
          }
          p.input_wait = Math.min(gap, blocked - at);
          p.transfer = gap - p.input_wait;
          const moved = Math.min(p.input_wait, idx.transferTime(stage, r.seq, at, ready));
          p.input_wait -= moved;
          p.transfer += moved;
        }
        p.xpu_wait = r.start - ready;
        p.run = r.end - r.start;
        // Decoding an input inside the run, where the core traces it, is transfer too.
        const inRun = h > 0 ? Math.min(p.run, idx.transferTime(stage, r.seq, r.start, r.end)) : 0;
        p.run -= inRun;
        p.transfer += inRun;
        at = r.end;
        hops.push(p);
      }
      // Publishing the sink's result, up to the completion.
      const e2e = isOrigin ? c.latency : c.end - Math.min(captured, src.start);
      hops[hops.length - 1]!.transfer += c.end - at;
      frames.push({ path: ch.path, sink: c.sink, seq: c.seq, end: c.end, e2e, hops, origin: isOrigin, runs: ch.runs });
    }
  }
  return { frames, unmatched };
}

export interface PathHop {
  stage: string;
  /** Mean per frame (ms): these sum, over hops and parts, to the path's mean end-to-end time. */
  mean_ms: Parts;
  /** p99 of the hop's total (ms). */
  p99_ms: number;
}

export interface PathReport {
  name: string;
  stages: string[];
  frames: number;
  /** Completions at the sink whose chain of runs along this path was not (fully) in the trace. */
  unmatched: number;
  /** Frames for which this path was the frame's own (from its oldest source). */
  origin_frames: number;
  e2e_ms: Summary;
  /** Mean per frame of each part over all hops (ms). */
  mean_ms: Parts;
  hops: PathHop[];
  /** The slowest frames, with their parts per hop (ms). */
  worst: Array<{ seq: number; e2e_ms: number; hops: Parts[] }>;
}

export interface PathAnalysis {
  paths: PathReport[];
  /** More paths than MAX_PATHS: only the first were analysed. */
  truncated: boolean;
}

export const WORST_FRAMES = 5;

/** Per-path statistics of a finished run. */
export function analysePaths(g: PathGraph, events: Iterable<TraceEvent>, completions: Completion[]): PathAnalysis {
  const { paths, truncated } = findPaths(g);
  const { frames, unmatched } = frameBreakdowns(g, paths, events, completions);
  return summarisePaths(g, paths, truncated, frames, unmatched);
}

/** Producer run -> consumer run, once each, over every decomposed frame (for flow arrows). */
export function messageFlows(frames: FrameBreakdown[]): Array<{ seq: number; from: FrameBreakdown['runs'][number]; to: FrameBreakdown['runs'][number] }> {
  const seen = new Set<string>();
  const out: Array<{ seq: number; from: FrameBreakdown['runs'][number]; to: FrameBreakdown['runs'][number] }> = [];
  for (const f of frames) {
    for (let h = 1; h < f.runs.length; h++) {
      const from = f.runs[h - 1]!;
      const to = f.runs[h]!;
      const key = `${from.stage}@${from.start}>${to.stage}@${to.start}`;
      if (seen.has(key)) continue;
      seen.add(key);
      out.push({ seq: to.seq, from, to });
    }
  }
  return out;
}

export function summarisePaths(g: PathGraph, paths: number[][], truncated: boolean, frames: FrameBreakdown[], unmatched: number[]): PathAnalysis {
  const per = paths.map(() => [] as FrameBreakdown[]);
  for (const f of frames) per[f.path]!.push(f);
  const reports = paths.map((p, i): PathReport => {
    const fs = per[i]!;
    const hops = p.map((s, h): PathHop => {
      const mean = zero();
      const totals = new Float64Array(fs.length);
      fs.forEach((f, k) => {
        for (const part of PARTS) {
          mean[part] += f.hops[h]![part];
          totals[k]! += f.hops[h]![part];
        }
      });
      for (const part of PARTS) mean[part] = fs.length ? mean[part] / fs.length : 0;
      return { stage: g.stages[s] ?? String(s), mean_ms: mean, p99_ms: summarize(totals).p99 };
    });
    const mean = zero();
    for (const h of hops) for (const part of PARTS) mean[part] += h.mean_ms[part];
    const worst = [...fs].sort((a, b) => b.e2e - a.e2e).slice(0, WORST_FRAMES).map((f) => ({ seq: f.seq, e2e_ms: f.e2e, hops: f.hops }));
    return {
      name: p.map((s) => g.stages[s] ?? String(s)).join(' → '),
      stages: p.map((s) => g.stages[s] ?? String(s)),
      frames: fs.length,
      unmatched: unmatched[i]!,
      origin_frames: fs.filter((f) => f.origin).length,
      e2e_ms: summarize(fs.map((f) => f.e2e)),
      mean_ms: mean,
      hops,
      worst,
    };
  });
  return { paths: reports, truncated };
}
