// What a run of the executor is given: its options, the codec and bridge it may use, and the
// deadlines of a launch file's xnodes.
import type { Graph } from '../graph/graph.js';
import type { Tracer } from '../trace/tracer.js';
import type { XpuInfo } from '../xpu/types.js';
import type { Costs } from './core/costed.js';
import type { Job, Replacement } from './core/types.js';
import type { VirtualMachine } from './core/virtual.js';
import type { StagePlacement } from './plan.js';
import type { MigrationSpec } from './migrate.js';
import type { RemoteLinks } from './remote.js';

/** Encodes messages crossing module boundaries (the ROS2-style baseline), e.g. CDR. */
export interface MessageCodec {
  encode(type: string, msg: unknown): Uint8Array;
  decode(type: string, bytes: Uint8Array): unknown;
}

/** Connects topics bound with `ros2: in|out` to ROS2. */
export interface TopicBridge {
  publisher(topic: string, type: string, qos: string): (msg: unknown) => void;
  subscribe(topic: string, type: string, qos: string, onMessage: (msg: unknown) => void): () => void;
}

export interface ExecOptions {
  xpus: XpuInfo[];
  /** Frames per source, emitted as fast as the pipeline takes them (lossless: backpressure). */
  frames?: number;
  /** Run at the sources' rates for this long (seconds). */
  durationS?: number;
  /** With `frames`: keep the sources' rates instead of running as fast as possible. */
  realtime?: boolean;
  tracer?: Tracer;
  codec?: MessageCodec;
  bridge?: TopicBridge;
  log?: (line: string) => void;
  /**
   * Runs only these stages (one process of a multi-process launch); topics between them and
   * stages elsewhere go through `links`.
   */
  local?: { stages: Set<number>; links: RemoteLinks };
  /** Sees every message published on a topic (profiling samples, recording). */
  tap?: (topic: string, value: unknown, seq: number) => void;
  /** Replacement placement for a stage whose implementation failed (runtime fallback). */
  fallback?: (stage: number, failed: StagePlacement) => StagePlacement | undefined;
  /**
   * The first frames of each source run through the pipeline but are not traced: threads,
   * sessions and caches made for this run settle before anything is measured.
   */
  settle?: number;
  /**
   * Virtual time: the real stage code runs, but each job takes the time `costs` says on
   * `machine` (tests; conformance with the simulator). Everything else is as on real time.
   */
  virtual?: { machine: VirtualMachine; costs: Costs };
  /** Sees every dispatch decision (stage, frame, XPU, lane) with its clock time. */
  onDispatch?: (job: Job, t: number) => void;
  /**
   * How long one run of a stage's placement may take (ms; default DEFAULT_DEADLINE_MS); past it
   * the frame is dropped and counted, a worker running it is replaced, and it counts as failed.
   */
  timeout?: (stage: number, placement: StagePlacement) => number | undefined;
  /** When every implementation of a stage has failed: stop the run, or go on without it (default). */
  onStageFailed?: 'stop' | 'continue';
  /**
   * Frame numbers the sources start from (default 0): a run resumed from a checkpoint of frame
   * N goes on with N + 1, so sources that compute frame k from k continue where they were.
   */
  firstFrame?: number;
  /** A stage moving from one process of the launch to another while the run goes on (exec/migrate.ts; needs `local`). */
  migration?: MigrationSpec;
  /** Sees each run of a stage start and end, by the frame number its stage sees (checkpoint cuts). */
  jobs?: { started(stage: number, seq: number): void; finished(stage: number, seq: number): void };
}

/** Deadline of one run when neither the plan nor the profile gives one. */
export const DEFAULT_DEADLINE_MS = 30_000;

/** Deadlines: an xnode's own `timeout` from the launch file first, else `derived` (e.g. from its profile). */
export function launchTimeouts(graph: Graph, derived?: ExecOptions['timeout']): NonNullable<ExecOptions['timeout']> {
  return (stage, p) => {
    const s = graph.stages[stage]?.entity.timeoutS;
    return s !== undefined ? s * 1000 : derived?.(stage, p);
  };
}

