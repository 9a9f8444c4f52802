// The cost model every scheduling part works on: stages with their placement options and
// latencies, the ports that connect them, the XPUs with their lanes, transfer and codec costs.
// The planner, the module-level baseline, the lower bound and the simulator read only this,
// so they agree by construction on what a plan costs; it is built from a Graph plus a Profile
// (measured on this host or declared for a board), or directly by tests and benchmarks.

/** Latency distribution of one stage option, in ms. */
export interface Latency {
  p50: number;
  /** Quantiles [min, p10, p25, p50, p75, p90, p99, max] for sampling; absent: always p50. */
  q?: number[];
  /**
   * Slowdown per other busy core beside it (measured alone vs beside a co-runner; memory-bound
   * stages slow down more): a run takes p50 * (1 + contention * others) on shared cores.
   */
  contention?: number;
  /**
   * Profiled at the sources' pace, p50/q above are cold times: each run after the host idled
   * `coldAfterMs`. These are the back-to-back (warm) times: a run that starts right after its
   * XPU's previous one (a stage in a burst along a chain) takes these, one after a gap in
   * between, the longer the gap the nearer the cold time (warmAt).
   */
  warm?: { p50: number; q?: number[]; coldAfterMs: number };
}

/**
 * p50 (or a quantile sketch) of a run that starts `idleMs` after its XPU's previous run ended:
 * the warm time right after it, the cold one from `coldAfterMs` on, linear in between.
 */
export function warmAt(lat: Latency, idleMs: number): { p50: number; q?: number[] } {
  const w = lat.warm;
  if (!w || !(idleMs < w.coldAfterMs)) return lat;
  const f = Math.max(0, idleMs) / w.coldAfterMs;
  const mix = (a: number, b: number) => a + (b - a) * f;
  return { p50: mix(w.p50, lat.p50), q: lat.q && w.q ? w.q.map((x, k) => mix(x, lat.q![k]!)) : (w.q ?? lat.q) };
}

export interface ModelXpu {
  id: string;
  kind: string;
  lanes: number;
  real: boolean;
  /** Runs on this host's CPU cores (shares them with every other such XPU). */
  usesCores: boolean;
  /** The event-loop thread: its stages run synchronously and block everything else's dispatch. */
  eventLoop: boolean;
  /** Worker pool: stateful stages are pinned to one worker (lane). */
  pinsStateful: boolean;
  /**
   * Shares memory bandwidth with the other such XPUs (a board's DRAM); this host's core-using
   * XPUs always do. Stages with a `contention` slow down beside each other's work there.
   */
  sharedMemory?: boolean;
}

export interface ModelOption {
  impl: string;
  xpu: number;
  lat: Latency;
}

export interface ModelPort {
  stage: number;
  port: string;
  /** Topic the port subscribes to. */
  topic: string;
  type: string;
  depth: number;
  latched: boolean;
  /** Latched, cleared when the stage takes it. */
  clear?: boolean;
  /** Trigger input: the stage runs when it holds a fresh message. */
  trigger: boolean;
  optional: boolean;
  /** Stages publishing the topic this port subscribes to. */
  producers: number[];
  /** Typical message size (bytes), for transfers and serialization. */
  bytes: number;
  /** Serialization cost when the edge crosses modules (encode at publish, decode at start). */
  encodeMs: number;
  decodeMs: number;
}

export interface ModelStage {
  name: string;
  module: string;
  /** Launch priority (higher is more important). */
  priority: number;
  /** Sources: emit period in ms (0: as fast as taken); timer-driven stages: their timer period. -1 for others. */
  periodMs: number;
  /** Driven by a timer at `periodMs` although it has inputs (they are latched: read, not waited for). */
  timer?: boolean;
  /** How trigger inputs meet (the dispatch core's `join`). */
  join?: 'frame' | 'latest';
  stateful: boolean;
  options: ModelOption[];
  inputs: ModelPort[];
  /** Subscriber ports of this stage's outputs (each counts once per output topic). */
  consumers: ModelPort[];
  /** Stage emits on at least one output nobody subscribes to, or has no outputs. */
  sink: boolean;
}

/** Transfer cost between an XPU's memory and host memory (boards); 0 on this host. */
export interface TransferCost {
  latencyMs: number;
  msPerMB: number;
}

export interface CostModel {
  stages: ModelStage[];
  xpus: ModelXpu[];
  /** Stage indices in topological order. */
  order: number[];
  sources: number[];
  sinks: number[];
  /** CPU cores the `usesCores` XPUs share (Infinity: no sharing, e.g. a declared board). */
  cores: number;
  /** Per XPU index: cost to move a message to/from host memory. */
  transfer: TransferCost[];
  /** True when the model describes declared hardware (every output says so). */
  simulated: boolean;
}

/** Transfer time (ms) of `bytes` from the memory of XPU `a` to that of XPU `b`. */
export function transferMs(m: CostModel, a: number, b: number, bytes: number): number {
  if (a === b) return 0;
  const mb = bytes / 1e6;
  const ta = m.transfer[a]!;
  const tb = m.transfer[b]!;
  // Through host memory: out of a, into b (either may be host memory itself, cost 0).
  return ta.latencyMs + ta.msPerMB * mb + tb.latencyMs + tb.msPerMB * mb;
}

/** The assignment a plan makes in model terms: per stage an option index and a priority. */
export interface Assignment {
  option: number[];
  priority: number[];
  /** Exclusive group per stage (module baseline), or undefined. */
  group?: Array<string | undefined>;
  /** Serialize edges crossing modules (module baseline). */
  serialize?: boolean;
  /** Per stage, the phase of its timer (ms; phases.ts), or undefined: every timer at 0. */
  phase?: number[];
}

/** The pipeline's period: the slowest source's (ms; 0 when every source runs as fast as taken). */
export function pipelinePeriod(m: CostModel): number {
  let p = 0;
  for (const s of m.sources) p = Math.max(p, m.stages[s]!.periodMs);
  return p;
}

/** Fastest option latency (p50) of a stage. */
export function fastest(s: ModelStage): number {
  let best = Infinity;
  for (const o of s.options) best = Math.min(best, o.lat.p50);
  return best;
}
