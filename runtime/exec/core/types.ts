// The contracts of the dispatch core (dispatcher.ts): the topology it runs, the clock it reads,
// the XPU driver that runs jobs, and the hooks through which a shell observes and extends it.
// The executor plugs in real time and real drivers; the simulator virtual time and a cost
// model. Nothing here knows a Graph, a CostModel or a Tracer.
import type { FrameInfo, PortValues, StageResult } from '../../xnode/types.js';

/** Time in ms. Real: performance.now() and Node timers; virtual: virtual.ts. */
export interface Clock {
  now(): number;
  /** Runs `fn` at exactly `t` (transfers); returns a cancel function. */
  at(t: number, fn: () => void): () => void;
  /**
   * Runs `fn` when a timer set now for `t` would fire (source ticks, durations); `precise`: not
   * before `t` and as soon after as the clock can (paced ticks).
   */
  timer(t: number, fn: () => void, precise?: boolean): () => void;
  /** Runs `fn` after the current turn, behind what is already due (setImmediate). */
  soon(fn: () => void): void;
}

export interface CoreInput {
  port: string;
  topic: string;
  type: string;
  depth: number;
  latched: boolean;
  /** Latched and cleared when the stage takes it: a cache the stage consumes (ROS2: a callback that resets its cached message). */
  clear?: boolean;
  optional: boolean;
  /** Fed from outside the graph (ROS2): carries no source frame numbers. */
  external?: boolean;
}

export interface CoreSub {
  stage: number;
  input: number;
  /** Crosses modules under a serializing plan: the message travels encoded. */
  cross: boolean;
}

export interface CoreOutput {
  port: string;
  topic: string;
  type: string;
  subs: CoreSub[];
  /** Subscribers in total, here and elsewhere (a worker may take buffers only when 1). */
  fanout: number;
}

export interface CoreStage {
  name: string;
  module: string;
  xpu: number;
  priority: number;
  group?: string;
  inputs: CoreInput[];
  outputs: CoreOutput[];
  /**
   * Sources: emit period in ms (0: as fast as taken). Timer-driven stages with inputs: their
   * timer period (> 0): each tick runs them with what their latched inputs hold. -1 for stages
   * their inputs trigger.
   */
  periodMs: number;
  /**
   * Timed stages (periodMs > 0): when their frame 0 is due after the run's origin (ms; frame k
   * at origin + phaseMs + k * periodMs). Default 0: every timer releases at the origin, as
   * ROS2 timers created together do.
   */
  phaseMs?: number;
  /**
   * How trigger inputs meet: `frame` (default) pairs them by source frame number where the
   * rates allow; `latest` takes the newest message on each, unaligned (older ones dropped); in
   * fast mode (lossless) it pairs frames as `frame` does.
   */
  join?: 'frame' | 'latest';
  /** Source rate for join alignment (sources of one rate pair frames by number). */
  rateHz: number;
  isSink: boolean;
  /** Runs in this process (multi-process launches run only some stages here). */
  local: boolean;
}

export interface CoreXpu {
  id: string;
  lanes: number;
  /** The event-loop thread: one synchronous stage at a time, served after the others. */
  eventLoop: boolean;
  /** Runs on threads that hold stage instances: the driver picks the worker (slot()). */
  workers: boolean;
}

export interface Topology {
  stages: CoreStage[];
  xpus: CoreXpu[];
}

/** A message on a port: the value and the frame it belongs to. */
export interface Envelope {
  value: unknown;
  /** Clock time the oldest source data behind it was due. */
  t0: number;
  seq: number;
  /** Set when `value` holds encoded bytes of this message type. */
  encoded?: string;
}

/** One run of one stage, as the core hands it to a driver. */
export interface Job {
  stage: number;
  xpu: number;
  /** Worker (for `workers` XPUs) or lane the job runs on. */
  lane: number;
  worker: number;
  frame: FrameInfo;
  inputs: PortValues;
}

export type Done = (out: StageResult, error?: unknown) => void;

/** Runs jobs on XPUs: `start(job) -> completion`, reported through `done` (at once or later). */
export interface Driver {
  start(job: Job, done: Done): void;
  /** An idle worker of XPU `xpu` that holds stage `stage`, or -1 (only for `workers` XPUs). */
  slot?(stage: number, xpu: number): number;
  /** Turns an encoded message back into a value at the start of a job (decode cost here). */
  decode?(stage: number, input: number, env: Envelope): unknown;
  /** Encodes a message published across modules, once per output. */
  encode?(stage: number, output: number, sub: CoreSub, value: unknown): unknown;
  /** Extra delay (ms) before a message reaches a subscriber (transfers, encoding off-loop). */
  deliveryMs?(stage: number, output: number, sub: CoreSub, fromXpu: number, toXpu: number): number;
  /** A job ran past its deadline: free what it holds (a stuck worker is replaced). */
  abort?(job: Job): void;
}

/**
 * Why a message was dropped at an input: keep-last overflow (`depth`), a cleared latched input
 * replaced before it was taken (`replaced`), older messages at a `latest` join (`latest`), one
 * that can no longer meet its frame at a frame join (`sync`).
 */
export type DropReason = 'depth' | 'replaced' | 'latest' | 'sync';

/** Where a stage goes after its implementation failed (runtime fallback). */
export interface Replacement {
  xpu: number;
  priority: number;
  group?: string;
}

/** What a shell sees of the core's decisions; every hook optional. */
export interface Hooks {
  /** A job starts: the dispatch decision (stage, frame, XPU, lane). */
  dispatch?(job: Job): void;
  /** The stage waited at its XPU from `from` to `to`. */
  wait?(stage: number, xpu: number, seq: number, from: number, to: number, lane: number): void;
  run?(stage: number, xpu: number, seq: number, start: number, end: number, lane: number): void;
  /** A source (or timer) frame `seq` was due at `due`; its stage became ready at `ready`. */
  capture?(stage: number, seq: number, due: number, ready: number): void;
  /** A message of frame `seq` in transit to input `input` of `stage` from `from` (its producer's end) to `to`. */
  transfer?(stage: number, input: number, seq: number, from: number, to: number, fromXpu: number, toXpu: number): void;
  /** A message of frame `seq` was dropped at input `input` of `stage` at time `t` (counted in the input's drops). */
  drop?(stage: number, input: number, seq: number, t: number, why: DropReason): void;
  /** A sink finished a frame: its latency from when the frame was due. */
  endToEnd?(stage: number, seq: number, ms: number): void;
  /** A message was published on output `output` of `stage` (tap, ROS2, other processes). */
  publish?(stage: number, output: number, value: unknown, frame: FrameInfo): void;
  /** How long a run of `stage` may take (ms) before its frame is dropped and it counts as failed. */
  deadlineMs?(stage: number): number;
  /** Checks a job's outputs against the stage's declared ports: what is wrong, or undefined. */
  validate?(stage: number, out: StageResult): string | undefined;
  /** A job failed; `failures`: how many in a row, this one included. */
  failed?(stage: number, frame: FrameInfo, error: unknown, failures: number): void;
  /** After 3 failures in a row: where the stage goes now (the shell re-creates it), or none. */
  fallback?(stage: number): Promise<Replacement | undefined> | undefined;
  /** A source frame was due while its stage had not served the last one: lost, counted. */
  overrun?(stage: number): void;
  /** A message that can no longer meet its frame at a join was dropped. */
  syncDrop?(stage: number, input: number): void;
  /**
   * Nothing is left to run here (sources done, nothing queued or running) but `open` topics
   * from other processes have not ended: what this process still sends can only come from them.
   */
  quiet?(open: number): void;
}

export interface CoreOptions {
  /** Sources emit as fast as the pipeline takes frames (lossless: backpressure). */
  fast: boolean;
  /** Frames per source (Infinity: until stopped). */
  frames: number;
  /** Frames a joining stage keeps per input while waiting for the same frame on the others. */
  syncWindow?: number;
}
