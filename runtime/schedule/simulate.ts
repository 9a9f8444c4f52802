// Simulation of a plan in virtual time: the dispatch core (exec/core) — the executor's own
// readiness, joins, priority queues, lanes, exclusive groups, late binding, source ticks and
// overruns, backpressure, serialization between modules — run on a virtual machine (the event
// loop, CPU cores shared by all threads, co-running slowdown) with a driver that charges each
// job what the cost model says, and, for declared boards, transfers between XPU memories.
import { summarize, type Summary } from '../trace/stats.js';
import { transferMs, warmAt, type Assignment, type CostModel } from './model.js';
import { mulberry32 } from '../util/random.js';
import { CostedDriver, type Costs } from '../exec/core/costed.js';
import { Dispatcher } from '../exec/core/dispatcher.js';
import { VirtualMachine } from '../exec/core/virtual.js';
import type { Hooks, Job, Topology } from '../exec/core/types.js';

export interface SimOptions {
  /** Frames per source. */
  frames?: number;
  /** Run the sources at their rates for this long (ms). */
  durationMs?: number;
  /** With `frames`: keep the sources' rates (default true); false: as fast as taken. */
  realtime?: boolean;
  /** Draw run times from the measured distributions (seeded); default: always p50. */
  sample?: boolean;
  seed?: number;
  /** Ignore the e2e of frames before this source sequence number (warm-up). */
  warmup?: number;
  /** Sees every dispatch decision (conformance with the executor, explanations). */
  onDispatch?: (job: Job, t: number) => void;
  /** Sees every frame a sink finishes, warm-up included. */
  onEndToEnd?: (sink: number, seq: number, ms: number) => void;
  /** Sees the core's captures, transfers and drops (what the executor's tracer records). */
  trace?: Pick<Hooks, 'capture' | 'transfer' | 'drop'>;
  /** Also measure frames ending at `ends` (stages read only through latched inputs): SimResult.ends. */
  ends?: number[];
}

export interface SimResult {
  /**
   * End-to-end latency (ms) over all sinks together, counted as the executor counts it: from
   * when each source frame was due, so a tick that waits for a busy event loop adds to it.
   */
  e2e: Summary;
  e2eBySink: Map<number, Summary>;
  /** With `ends`: per such stage, latency from when the frame was due to the end of its run. */
  ends: Map<number, Summary>;
  /**
   * Per stage: runs, drops, run-time summary (ms, as the executor's tracer measures it), wait
   * at its XPU (from ready to start), and for timers at a rate their tick lateness: from when
   * each tick was due to its start (a tick the busy event loop fires late counts in full).
   */
  stages: Array<{ runs: number; drops: number; run: Summary; wait: Summary; late: Summary }>;
  overruns: number;
  emitted: number;
  /** Virtual wall time of the run (ms). */
  wallMs: number;
  /** Per XPU: busy fraction of the wall time (lane-ms over wall-ms). */
  utilisation: number[];
  simulated: boolean;
}

/** The dispatch core's view of a model assignment. */
export function modelTopology(m: CostModel, a: Assignment): Topology {
  const topo: Topology = {
    xpus: m.xpus.map((x) => ({ id: x.id, lanes: x.lanes, eventLoop: x.eventLoop, workers: x.pinsStateful })),
    stages: m.stages.map((s, i) => ({
      name: s.name,
      module: s.module,
      xpu: s.options[a.option[i]!]!.xpu,
      priority: a.priority[i]!,
      group: a.group?.[i],
      inputs: s.inputs.map((p) => ({ port: p.port, topic: p.topic, type: p.type, depth: p.depth, latched: p.latched, clear: p.clear, optional: p.optional })),
      outputs: [],
      periodMs: s.inputs.length === 0 ? Math.max(0, s.periodMs) : s.timer ? s.periodMs : -1,
      phaseMs: a.phase?.[i],
      join: s.join,
      rateHz: (s.inputs.length === 0 || s.timer) && s.periodMs > 0 ? 1000 / s.periodMs : 0,
      isSink: s.sink,
      local: true,
    })),
  };
  m.stages.forEach((s, i) => {
    s.inputs.forEach((p, k) => {
      for (const pr of p.producers) {
        const outs = topo.stages[pr]!.outputs;
        let out = outs.find((o) => o.topic === p.topic);
        if (!out) outs.push((out = { port: p.topic, topic: p.topic, type: p.type, subs: [], fanout: 0 }));
        out.subs.push({ stage: i, input: k, cross: !!a.serialize && m.stages[pr]!.module !== s.module });
      }
    });
  });
  for (const st of topo.stages) {
    for (const o of st.outputs) o.fanout = o.subs.length;
    if (st.outputs.length === 0) st.isSink = true;
  }
  return topo;
}

/**
 * What the model says things cost under assignment `a` (sampled, seeded, when asked). With the
 * clock `now`, a run that follows its XPU's previous one closely takes its warm time (warmAt).
 */
export function modelCosts(m: CostModel, a: Assignment, opts: { sample?: boolean; seed?: number; now?: () => number } = {}): Costs {
  const rand = mulberry32(opts.seed ?? 1);
  const now = opts.now;
  // When each XPU's latest run ends (as started; sharing the cores may stretch it).
  const lastEnd = m.xpus.map(() => -Infinity);
  const pinCount = new Array<number>(m.xpus.length).fill(0);
  const pinned = m.stages.map((s, i) => {
    const xi = s.options[a.option[i]!]!.xpu;
    const x = m.xpus[xi]!;
    return x.pinsStateful && s.stateful ? pinCount[xi]!++ % x.lanes : -1;
  });
  return {
    runMs: (stage, xpu) => {
      const full = m.stages[stage]!.options[a.option[stage]!]!.lat;
      const t = now ? now() : 0;
      const lat = now && full.warm ? warmAt(full, t - lastEnd[xpu]!) : full;
      const ms = opts.sample && lat.q ? inverseCdf(lat.q, rand()) : lat.p50;
      if (t + ms > lastEnd[xpu]!) lastEnd[xpu] = t + ms;
      return ms;
    },
    decodeMs: (stage, input) => m.stages[stage]!.inputs[input]!.decodeMs,
    encodeMs: (sub) => m.stages[sub.stage]!.inputs[sub.input]!.encodeMs,
    transferMs: (from, to, sub) => transferMs(m, from, to, m.stages[sub.stage]!.inputs[sub.input]!.bytes),
    usesCores: (x) => m.xpus[x]!.usesCores,
    sharesMemory: (x) => m.xpus[x]!.usesCores || !!m.xpus[x]!.sharedMemory,
    contention: (stage) => m.stages[stage]!.options[a.option[stage]!]!.lat.contention ?? 0,
    pinnedWorker: (stage) => pinned[stage]!,
  };
}

/** Simulates `a` on `m`; returns what the executor's tracer would report. */
export function simulate(m: CostModel, a: Assignment, opts: SimOptions = {}): SimResult {
  const topo = modelTopology(m, a);
  const vm = new VirtualMachine({ cores: m.cores });
  const driver = new CostedDriver(vm, topo, modelCosts(m, a, { ...opts, now: () => vm.now() }));
  const runMs: number[][] = m.stages.map(() => []);
  const waitMs: number[][] = m.stages.map(() => []);
  const e2e = new Map<number, number[]>();
  const warmup = opts.warmup ?? 0;
  const hooks: Hooks = {
    run: (stage, _x, _seq, start, end) => void runMs[stage]!.push(end - start),
    wait: (stage, _x, _seq, from, to) => void waitMs[stage]!.push(to - from),
    endToEnd: (stage, seq, ms) => {
      opts.onEndToEnd?.(stage, seq, ms);
      if (seq < warmup) return;
      let l = e2e.get(stage);
      if (!l) e2e.set(stage, (l = []));
      l.push(ms);
    },
  };
  if (opts.trace) Object.assign(hooks, opts.trace);
  // A stage runs one job at a time: its frame at dispatch is the one its run hook ends.
  const endAt = new Set(opts.ends ?? []);
  const t0Of = new Map<number, { t0: number; seq: number }>();
  const ended = new Map<number, number[]>();
  const fast = opts.frames !== undefined && opts.realtime === false && opts.durationMs === undefined;
  // A timer's frame starts when its tick was due (t0): its start minus t0 is how late it ticked.
  const ticking = topo.stages.map((s) => !fast && s.rateHz > 0);
  const lateMs: number[][] = m.stages.map(() => []);
  hooks.dispatch = (job) => {
    if (ticking[job.stage] && job.frame.seq >= warmup) lateMs[job.stage]!.push(vm.now() - job.frame.t0);
    if (endAt.has(job.stage)) t0Of.set(job.stage, { t0: job.frame.t0, seq: job.frame.seq });
    opts.onDispatch?.(job, vm.now());
  };
  if (endAt.size) {
    const run = hooks.run!;
    hooks.run = (stage, x, seq, start, end, lane) => {
      run(stage, x, seq, start, end, lane);
      const f = t0Of.get(stage);
      if (!f || f.seq < warmup) return;
      (ended.get(stage) ?? ended.set(stage, []).get(stage)!).push(end - f.t0);
    };
  }
  const core = new Dispatcher(topo, vm, driver, hooks, { fast, frames: opts.frames ?? Infinity });
  void core.run(opts.durationMs);
  vm.runToEnd();
  const all: number[] = [];
  const bySink = new Map<number, Summary>();
  for (const [s, l] of e2e) {
    bySink.set(s, summarize(l));
    for (const v of l) all.push(v);
  }
  const wall = vm.now();
  return {
    e2e: summarize(all),
    e2eBySink: bySink,
    ends: new Map([...ended].map(([s, l]) => [s, summarize(l)])),
    stages: core.stages.map((st) => ({
      runs: st.runs,
      drops: st.inputs.reduce((n, p) => n + p.drops, 0),
      run: summarize(runMs[st.index]!),
      wait: summarize(waitMs[st.index]!),
      late: summarize(lateMs[st.index]!),
    })),
    overruns: core.overruns,
    emitted: core.stages.reduce((n, st) => n + (st.source?.emitted ?? 0), 0),
    wallMs: wall,
    utilisation: core.xpus.map((x) => (wall > 0 ? x.busyMs / wall : 0)),
    simulated: m.simulated,
  };
}

const Q_PROBS = [0, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99, 1];

/** Quantile sketch [min, p10, p25, p50, p75, p90, p99, max] of measured values. */
export function sketch(values: ArrayLike<number>): number[] {
  const sorted = Float64Array.from(values).sort();
  const n = sorted.length;
  return Q_PROBS.map((p) => {
    const pos = (n - 1) * p;
    const lo = Math.floor(pos);
    const hi = Math.min(n - 1, lo + 1);
    return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
  });
}

function inverseCdf(q: number[], u: number): number {
  for (let k = 1; k < Q_PROBS.length; k++) {
    if (u <= Q_PROBS[k]!) {
      const f = (u - Q_PROBS[k - 1]!) / (Q_PROBS[k]! - Q_PROBS[k - 1]!);
      return q[k - 1]! + (q[k]! - q[k - 1]!) * f;
    }
  }
  return q[q.length - 1]!;
}

