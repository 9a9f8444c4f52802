// The planner's fast estimate of a plan's end-to-end latency: a list schedule of a few
// successive frames released one period apart, with XPU lanes, the host's shared cores,
// transfers, the event loop (work on the main thread delays other completions), contention
// (a memory-bound stage started beside busy neighbours takes longer), and a steep
// penalty for any XPU loaded beyond its capacity at the sources' rates. It runs in
// microseconds so the planner can try thousands of assignments; the simulator checks the
// winner in full.
import { transferMs, type CostModel } from './model.js';
import { endWeights } from './priorities.js';

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
  /** Per stage: successors and, parallel, the index of this stage among each successor's preds. */
  succEdge: number[][];
  sink: Uint8Array;
  /** Per stage where frames end: how much its latency counts (endWeights). */
  weight: Float64Array;
  source: Uint8Array;
  /** Flat successor lists: edges of v are [succStart[v], succStart[v+1]). */
  succStart: Int32Array;
  succFlat: Int32Array;
  succBytes: Float64Array;
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
    let p = s.inputs.length === 0 || s.timer ? Math.max(0, s.periodMs) : 0;
    for (const u of preds[v]!) p = Math.max(p, period[u]!);
    period[v] = p;
  }
  // Timer-driven stages release frames of their own, as sources do.
  const source = Uint8Array.from(m.stages, (s) => (s.inputs.length === 0 || s.timer ? 1 : 0));
  let release = 0;
  for (let v = 0; v < n; v++) if (source[v]) release = Math.max(release, period[v]!);
  const succEdge = succs.map((ws, v) => ws.map((w) => preds[w]!.indexOf(v)));
  // A frame also ends where it triggers nothing further: a stage read only through latched
  // inputs (the Autoware hot path ends at ObjectCollisionEstimator, which a planner's timer reads).
  const sink = Uint8Array.from(m.stages, (s, v) => (s.sink || endsFrames(s, succs[v]!.length) ? 1 : 0));
  const weight = endWeights(m, sink, preds, source);
  const succStart = new Int32Array(n + 1);
  for (let v = 0; v < n; v++) succStart[v + 1] = succStart[v]! + succs[v]!.length;
  const succFlat = new Int32Array(succStart[n]!);
  const succBytes = new Float64Array(succStart[n]!);
  for (let v = 0; v < n; v++) {
    succs[v]!.forEach((w, e) => {
      succFlat[succStart[v]! + e] = w;
      succBytes[succStart[v]! + e] = predBytes[w]![succEdge[v]![e]!]!;
    });
  }
  return { period, preds, succs, predBytes, frames: frames ?? (n > 120 ? 2 : 3), release, succEdge, sink, weight, source, succStart, succFlat, succBytes };
}

/** True for a stage that has subscribers, none of which it triggers (`triggered`: its trigger successors). */
export function endsFrames(s: CostModel['stages'][number], triggered: number): boolean {
  return triggered === 0 && s.consumers.length > 0 && s.inputs.length > 0;
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

/** A binary min-heap of (time, job) pairs in typed arrays: no allocation while it runs. */
class TimeHeap {
  private readonly t: Float64Array;
  private readonly j: Int32Array;
  length = 0;

  constructor(capacity: number) {
    this.t = new Float64Array(capacity);
    this.j = new Int32Array(capacity);
  }

  clear(): void {
    this.length = 0;
  }

  push(time: number, job: number): void {
    let i = this.length++;
    const t = this.t;
    const j = this.j;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (t[p]! <= time) break;
      t[i] = t[p]!;
      j[i] = j[p]!;
      i = p;
    }
    t[i] = time;
    j[i] = job;
  }

  peekTime(): number {
    return this.length ? this.t[0]! : Infinity;
  }

  /** Removes the earliest entry and returns its job. */
  pop(): number {
    const t = this.t;
    const j = this.j;
    const top = j[0]!;
    const n = --this.length;
    const lt = t[n]!;
    const lj = j[n]!;
    let i = 0;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= n) break;
      if (c + 1 < n && t[c + 1]! < t[c]!) c++;
      if (t[c]! >= lt) break;
      t[i] = t[c]!;
      j[i] = j[c]!;
      i = c;
    }
    t[i] = lt;
    j[i] = lj;
    return top;
  }
}

interface Buffers {
  size: number;
  waiting: Int32Array;
  ready: Float64Array;
  endAt: Float64Array;
  queue: Int32Array[];
  qlen: Int32Array;
  arrivals: TimeHeap;
  running: TimeHeap;
  delay: Float64Array;
}

const buffers = new WeakMap<EvalScratch, Buffers>();

function buffersFor(m: CostModel, sc: EvalScratch): Buffers {
  const total = m.stages.length * sc.frames;
  let b = buffers.get(sc);
  if (!b || b.size !== total) {
    b = {
      size: total,
      waiting: new Int32Array(total),
      ready: new Float64Array(total),
      endAt: new Float64Array(total),
      queue: m.xpus.map(() => new Int32Array(total)),
      qlen: new Int32Array(m.xpus.length),
      arrivals: new TimeHeap(total + 1),
      running: new TimeHeap(total + 1),
      delay: new Float64Array(sc.succFlat.length),
    };
    buffers.set(sc, b);
  }
  return b;
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
  const X = m.xpus.length;
  const lanes = new Int32Array(X);
  const cpu = new Uint8Array(X);
  const mem = new Uint8Array(X);
  for (let x = 0; x < X; x++) {
    lanes[x] = m.xpus[x]!.lanes;
    cpu[x] = m.xpus[x]!.usesCores ? 1 : 0;
    mem[x] = m.xpus[x]!.usesCores || m.xpus[x]!.sharedMemory ? 1 : 0;
  }
  const contention = new Float64Array(n);
  // Warm (back-to-back) time and the idle after which a run is cold (0: always c[v]), as warmAt.
  const warm = new Float64Array(n);
  const coldAfter = new Float64Array(n);
  for (let v = 0; v < n; v++) {
    const lat = m.stages[v]!.options[option[v]!]!.lat;
    contention[v] = lat.contention ?? 0;
    if (lat.warm) (warm[v] = lat.warm.p50), (coldAfter[v] = lat.warm.coldAfterMs);
  }
  const lastEnd = new Float64Array(X).fill(-Infinity);

  // Release period: the slowest source, or for as-fast-as-taken sources the bottleneck XPU.
  let P = sc.release;
  const ld = loads(m, sc, option);
  if (!(P > 0)) {
    const busy = new Float64Array(X);
    for (let v = 0; v < n; v++) busy[xpuOf[v]!] += c[v]! / lanes[xpuOf[v]!]!;
    P = Math.max(...busy);
  }

  const b = buffersFor(m, sc);
  // Transfer delay of every edge under this assignment, parallel to sc.succFlat.
  const { succStart, succFlat, succBytes } = sc;
  const delay = b.delay;
  for (let v = 0; v < n; v++) {
    for (let e = succStart[v]!; e < succStart[v + 1]!; e++) delay[e] = transferMs(m, xpuOf[v]!, xpuOf[succFlat[e]!]!, succBytes[e]!);
  }
  const sinkOf = sc.sink;
  const weight = sc.weight;
  const sourceOf = sc.source;
  const { waiting, ready, endAt, queue, qlen, arrivals, running } = b;
  for (let k = 0; k < F; k++) {
    for (let v = 0; v < n; v++) {
      const id = k * n + v;
      waiting[id] = sc.preds[v]!.length + (k > 0 ? 1 : 0);
      ready[id] = 0;
    }
  }
  qlen.fill(0);
  arrivals.clear();
  running.clear();
  const busyLanes = new Int32Array(X);
  let busyCores = 0;
  let busyMem = 0;
  const cores = m.cores;
  // Frame 0 of each source starts at once; later frames follow their release and the call before.
  for (let v = 0; v < n; v++) if (sourceOf[v]) arrivals.push(0, v);
  let mainBusyUntil = -Infinity;
  let now = 0;
  let sum = 0;
  let count = 0;
  let started = 0;
  const total = n * F;

  const done = (id: number, t: number) => {
    const v = id % n;
    const k = (id - v) / n;
    if (sinkOf[v] && k > 0) {
      sum += weight[v]! * (t - k * P);
      count += weight[v]!;
    }
    const end = succStart[v + 1]!;
    for (let e = succStart[v]!; e < end; e++) {
      const w = succFlat[e]!;
      const wid = k * n + w;
      const r = t + delay[e]!;
      if (r > ready[wid]!) ready[wid] = r;
      if (--waiting[wid]! === 0) arrivals.push(ready[wid]!, wid);
    }
    if (k + 1 < F) {
      const nid = id + n;
      if (t > ready[nid]!) ready[nid] = t;
      if (--waiting[nid]! === 0) {
        const rel = sourceOf[v] ? (k + 1) * P : 0;
        arrivals.push(Math.max(ready[nid]!, rel), nid);
      }
    }
  };

  while (started < total || running.length) {
    // Next instant something happens: an arrival or a completion.
    const next = Math.min(arrivals.peekTime(), running.peekTime());
    if (next === Infinity) break;
    if (next > now) now = next;
    while (running.length && running.peekTime() <= now) {
      const end = running.peekTime();
      const id = running.pop();
      const x = xpuOf[id % n]!;
      if (x !== loop && mainBusyUntil > end) {
        // A completion off the event loop is handled (and its lane freed) once the loop is free.
        running.push(mainBusyUntil, id);
        continue;
      }
      busyLanes[x]!--;
      if (cpu[x]) busyCores--;
      if (mem[x]) busyMem--;
      done(id, end);
    }
    while (arrivals.length && arrivals.peekTime() <= now) {
      const id = arrivals.pop();
      const x = xpuOf[id % n]!;
      queue[x]![qlen[x]!++] = id;
    }
    for (let x = 0; x < X; x++) {
      const q = queue[x]!;
      while (qlen[x]! > 0 && busyLanes[x]! < lanes[x]! && (!cpu[x] || busyCores < cores)) {
        // Highest priority first; FIFO (earliest ready) among equals.
        let best = 0;
        for (let i = 1; i < qlen[x]!; i++) {
          const a = q[i]!;
          const bb = q[best]!;
          const pa = prio[a % n]!;
          const pb = prio[bb % n]!;
          if (pa > pb || (pa === pb && ready[a]! < ready[bb]!)) best = i;
        }
        const id = q[best]!;
        q[best] = q[--qlen[x]!]!;
        const start = x !== loop && mainBusyUntil > now ? mainBusyUntil : now;
        // Slowed by the memory-sharing neighbours running as it starts (at most cores - 1).
        const beside = mem[x] ? Math.min(busyMem, cores - 1) : 0;
        const v = id % n;
        let cost = c[v]!;
        if (coldAfter[v]! > 0) {
          const idle = start - lastEnd[x]!;
          if (idle < coldAfter[v]!) cost = warm[v]! + (cost - warm[v]!) * (Math.max(0, idle) / coldAfter[v]!);
        }
        const end = start + cost * (1 + contention[v]! * Math.max(0, beside));
        if (end > lastEnd[x]!) lastEnd[x] = end;
        if (x === loop) mainBusyUntil = end;
        endAt[id] = end;
        busyLanes[x]!++;
        if (cpu[x]) busyCores++;
        if (mem[x]) busyMem++;
        running.push(end, id);
        started++;
      }
    }
  }
  const mean = count ? sum / count : Infinity;
  let penalty = 0;
  for (const u of ld.xpu) if (u > 1) penalty += (u - 1) * 100 * Math.max(P, 1);
  if (ld.cores > 1) penalty += (ld.cores - 1) * 100 * Math.max(P, 1);
  return mean + penalty;
}
