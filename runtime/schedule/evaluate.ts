// The planner's fast estimate of a plan's end-to-end latency: a list schedule of a few
// successive frames released one period apart, with XPU lanes, the host's shared cores,
// transfers, the event loop (work on the main thread delays other completions) and a steep
// penalty for any XPU loaded beyond its capacity at the sources' rates. It runs in
// microseconds so the planner can try thousands of assignments; the simulator checks the
// winner in full.
import { Heap } from 'heap-js';
import { transferMs, type CostModel } from './model.js';

export interface EvalScratch {
  /** Per stage: period (ms) of its slowest upstream source; the rate it runs at. */
  period: Float64Array;
  /** Predecessor stages (trigger inputs) per stage. */
  preds: number[][];
  succs: number[][];
  /** Bytes on the edge pred->stage, parallel to preds. */
  predBytes: number[][];
  frames: number;
  /** Period frames are released at (ms). */
  release: number;
}

/** Precomputes what does not depend on the assignment. */
export function prepare(m: CostModel, frames?: number): EvalScratch {
  const n = m.stages.length;
  const preds: number[][] = m.stages.map(() => []);
  const predBytes: number[][] = m.stages.map(() => []);
  const succs: number[][] = m.stages.map(() => []);
  m.stages.forEach((s, v) => {
    for (const p of s.inputs) {
      if (!p.trigger) continue;
      for (const u of p.producers) {
        if (preds[v]!.includes(u)) continue;
        preds[v]!.push(u);
        predBytes[v]!.push(p.bytes);
        succs[u]!.push(v);
      }
    }
  });
  const period = new Float64Array(n);
  for (const v of m.order) {
    const s = m.stages[v]!;
    let p = s.inputs.length === 0 ? Math.max(0, s.periodMs) : 0;
    for (const u of preds[v]!) p = Math.max(p, period[u]!);
    period[v] = p;
  }
  let release = 0;
  for (const s of m.sources) release = Math.max(release, period[s]!);
  return { period, preds, succs, predBytes, frames: frames ?? (n > 120 ? 2 : 3), release };
}

/** Per stage latency (p50 ms) of the chosen option. */
export function costs(m: CostModel, option: ArrayLike<number>): Float64Array {
  const c = new Float64Array(m.stages.length);
  for (let v = 0; v < c.length; v++) c[v] = m.stages[v]!.options[option[v]!]!.lat.p50;
  return c;
}

/**
 * Upward rank: the longest remaining path (work + transfers) from a stage to any sink.
 * Dispatching by it runs the stage most of the remaining latency depends on first.
 */
export function upwardRank(m: CostModel, sc: EvalScratch, option: ArrayLike<number>): Float64Array {
  const c = costs(m, option);
  const rank = new Float64Array(m.stages.length);
  for (let k = m.order.length - 1; k >= 0; k--) {
    const v = m.order[k]!;
    let tail = 0;
    for (const w of sc.succs[v]!) {
      const bytes = sc.predBytes[w]![sc.preds[w]!.indexOf(v)]!;
      const xo = m.stages[v]!.options[option[v]!]!.xpu;
      const xw = m.stages[w]!.options[option[w]!]!.xpu;
      tail = Math.max(tail, transferMs(m, xo, xw, bytes) + rank[w]!);
    }
    rank[v] = c[v]! + tail;
  }
  return rank;
}

/** Executor priorities: launch priority first, then upward rank. */
export function priorities(m: CostModel, rank: ArrayLike<number>): number[] {
  return m.stages.map((s, v) => s.priority * 1e6 + Math.round(rank[v]! * 1000) / 1000);
}

/** Load per XPU lane and on the shared cores at the stages' rates; > 1 means it cannot keep up. */
export function loads(m: CostModel, sc: EvalScratch, option: ArrayLike<number>): { xpu: Float64Array; cores: number } {
  const xpu = new Float64Array(m.xpus.length);
  let cores = 0;
  const fallbackPeriod = sc.release;
  for (let v = 0; v < m.stages.length; v++) {
    const o = m.stages[v]!.options[option[v]!]!;
    const p = sc.period[v]! || fallbackPeriod;
    if (!(p > 0)) continue;
    const u = o.lat.p50 / p;
    xpu[o.xpu] += u / m.xpus[o.xpu]!.lanes;
    if (m.xpus[o.xpu]!.usesCores) cores += u;
  }
  return { xpu, cores: Number.isFinite(m.cores) ? cores / m.cores : 0 };
}

interface Job {
  v: number;
  k: number;
  t: number;
}

/**
 * Mean end-to-end latency (ms) over sinks and frames, plus the overload penalty. `prio` are
 * dispatch priorities per stage (higher first).
 */
export function evaluate(m: CostModel, sc: EvalScratch, option: ArrayLike<number>, prio: ArrayLike<number>): number {
  const n = m.stages.length;
  const F = sc.frames;
  const c = costs(m, option);
  const xpuOf = new Int32Array(n);
  for (let v = 0; v < n; v++) xpuOf[v] = m.stages[v]!.options[option[v]!]!.xpu;
  const loop = m.xpus.findIndex((x) => x.eventLoop);

  // Release period: the slowest source, or for as-fast-as-taken sources the bottleneck XPU.
  let P = sc.release;
  const ld = loads(m, sc, option);
  if (!(P > 0)) {
    const busy = new Float64Array(m.xpus.length);
    for (let v = 0; v < n; v++) busy[xpuOf[v]!] += c[v]! / m.xpus[xpuOf[v]!]!.lanes;
    P = Math.max(...busy);
  }

  const total = n * F;
  const waiting = new Int32Array(total); // unfinished predecessors per job
  const ready = new Float64Array(total); // earliest start from predecessors
  const finish = new Float64Array(total).fill(NaN);
  for (let k = 0; k < F; k++) for (let v = 0; v < n; v++) waiting[k * n + v] = sc.preds[v]!.length + (k > 0 ? 1 : 0);
  const busyLanes = new Int32Array(m.xpus.length);
  let busyCores = 0;
  const queues = m.xpus.map(() => new Heap<Job>((a, b) => prio[b.v]! - prio[a.v]! || a.t - b.t || a.k - b.k));
  const running = new Heap<Job>((a, b) => a.t - b.t);
  const arrivals = new Heap<Job>((a, b) => a.t - b.t);
  // Frame 0 of each source starts at once; later frames follow their release and the call before.
  for (const s of m.sources) arrivals.push({ v: s, k: 0, t: 0 });
  let mainBusyUntil = -Infinity;
  let now = 0;
  let sum = 0;
  let count = 0;

  const done = (j: Job, t: number) => {
    const id = j.k * n + j.v;
    finish[id] = t;
    if (m.stages[j.v]!.sink && j.k > 0) {
      sum += t - (j.k * P + 0);
      count++;
    }
    for (const w of sc.succs[j.v]!) {
      const wid = j.k * n + w;
      const bytes = sc.predBytes[w]![sc.preds[w]!.indexOf(j.v)]!;
      ready[wid] = Math.max(ready[wid]!, t + transferMs(m, xpuOf[j.v]!, xpuOf[w]!, bytes));
      if (--waiting[wid]! === 0) arrivals.push({ v: w, k: j.k, t: ready[wid]! });
    }
    if (j.k + 1 < F) {
      const nid = (j.k + 1) * n + j.v;
      ready[nid] = Math.max(ready[nid]!, t);
      if (--waiting[nid]! === 0) arrivals.push({ v: j.v, k: j.k + 1, t: Math.max(ready[nid]!, m.stages[j.v]!.inputs.length === 0 ? (j.k + 1) * P : 0) });
    }
  };

  let started = 0;
  while (started < total || running.length) {
    // Next instant something happens: an arrival or a completion.
    const ta = arrivals.peek()?.t ?? Infinity;
    const tr = running.peek()?.t ?? Infinity;
    now = Math.max(now, Math.min(ta, tr));
    if (now === Infinity) break;
    while (running.length && running.peek()!.t <= now) {
      const j = running.pop()!;
      busyLanes[xpuOf[j.v]!]!--;
      if (m.xpus[xpuOf[j.v]!]!.usesCores) busyCores--;
      // A completion off the event loop is handled once the loop is free.
      done(j, xpuOf[j.v] !== loop && mainBusyUntil > j.t ? mainBusyUntil : j.t);
    }
    while (arrivals.length && arrivals.peek()!.t <= now) {
      const j = arrivals.pop()!;
      queues[xpuOf[j.v]!]!.push(j);
    }
    for (let x = 0; x < m.xpus.length; x++) {
      const q = queues[x]!;
      const X = m.xpus[x]!;
      while (q.length && busyLanes[x]! < X.lanes && (!X.usesCores || busyCores < m.cores)) {
        const j = q.pop()!;
        const start = x !== loop && mainBusyUntil > now ? mainBusyUntil : now;
        const end = start + c[j.v]!;
        if (x === loop) mainBusyUntil = end;
        busyLanes[x]!++;
        if (X.usesCores) busyCores++;
        running.push({ v: j.v, k: j.k, t: end });
        started++;
      }
    }
    if (!running.length && !arrivals.length) break;
  }
  const mean = count ? sum / count : Infinity;
  let penalty = 0;
  for (const u of ld.xpu) if (u > 1) penalty += (u - 1) * 100 * Math.max(P, 1);
  if (ld.cores > 1) penalty += (ld.cores - 1) * 100 * Math.max(P, 1);
  return mean + penalty;
}
