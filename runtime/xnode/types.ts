// XNODE contracts: a pipeline stage with typed ports, typed parameters and several
// interchangeable implementations, each bound to an XPU kind and a backend that runs it.
import type { ParamValue } from '../launch/types.js';

export type { ParamValue };

/** Kind of processor an implementation targets. `*` means any kind its backend offers. */
export type XpuKind = 'cpu' | 'gpu' | 'npu' | 'dsp' | '*' | (string & {});

/**
 * How an implementation runs:
 * - `main`: a JS function on the main thread;
 * - `worker`: a module run in a worker_threads pool;
 * - `onnx`: a module driving onnxruntime sessions, run on the thread its XPU (an execution
 *   provider) owns: onnxruntime-node computes on the calling thread, so a session run on the
 *   main thread would stall the event loop;
 * - `native`: an async function whose work runs on native threads (addon, libuv pool);
 * - `device`: kernels on the native device (runtime/gpu).
 */
export type Backend = 'main' | 'worker' | 'onnx' | 'native' | 'device';

export interface PortSpec {
  /** ROS2 message type (`sensor_msgs/msg/Image`) or `xauto/Tensor`, `xauto/<Name>`. */
  type: string;
  /** Inputs only: the stage may run without it. */
  optional?: boolean;
  /** Inputs only: the latest message is used but does not trigger the stage (e.g. CameraInfo). */
  latched?: boolean;
  /**
   * Latched inputs only: the message is cleared when the stage takes it (a cache the stage
   * consumes, as a ROS2 callback that resets its cached message); one replaced before it was
   * taken counts as a drop.
   */
  clear?: boolean;
  /** Inputs only: keep-last queue depth (default 1: always the freshest message). */
  depth?: number;
  description?: string;
}

export type ParamType = 'int' | 'float' | 'bool' | 'string' | 'int[]' | 'float[]' | 'bool[]' | 'string[]';

export interface ParamSpec {
  type: ParamType;
  default: ParamValue;
  description?: string;
  choices?: readonly ParamValue[];
  min?: number;
  max?: number;
}

/** Per-frame facts the executor passes with each call. */
export interface FrameInfo {
  /** Sequence number of the frame at its source (sources: the frame being produced). */
  seq: number;
  /** Origin time (performance.now() ms) of the oldest source data that fed this call. */
  t0: number;
}

/** An n-dimensional float tensor: the payload of `xauto/Tensor` ports. */
export interface Tensor {
  dims: number[];
  data: Float32Array;
}

export type PortValues = Record<string, unknown>;

/** What a stage returns: output port values; `null` emits nothing for this call. */
export type StageResult = PortValues | null;

export type StageFn = (inputs: PortValues, frame: FrameInfo) => StageResult | Promise<StageResult>;

export interface StageInstance {
  process: StageFn;
  /** Called once after the last frame (e.g. to report quality). */
  finish?(): void | Promise<void>;
  /** Releases resources (sessions, device buffers, native handles). */
  close?(): void | Promise<void>;
}

/** What an implementation sees when it is created. */
export interface ImplContext {
  /** Instance name from the launch file. */
  name: string;
  type: string;
  impl: string;
  /** Id of the XPU it was placed on (e.g. `main`, `pool`, `ort-cpu`). */
  xpu: string;
  /** For onnx implementations: the execution provider to use (`cpu`, `cuda`, ...). */
  executionProvider?: string;
  /** Parameters with defaults applied and types checked. */
  params: Readonly<Record<string, ParamValue>>;
  /** Launch priority (higher is more important). */
  priority: number;
  /**
   * Nice value its jobs run at on a thread (0: the host's default). Pool workers apply it; a
   * native implementation that runs jobs on threads of its own passes it on (xnodes/reference).
   */
  nice?: number;
  log(message: string): void;
  /** Adds to a named run counter (shown in the final report), e.g. drops of malformed input. */
  count(name: string, n?: number): void;
  /** Adds a section to the run summary (`--summary-json` and the terminal report). */
  summary(section: string, data: Record<string, unknown>): void;
}

export type CreateStage = (ctx: ImplContext) => StageFn | StageInstance | Promise<StageFn | StageInstance>;

export interface ImplSpecBase {
  /** Unique within the XNODE: `js`, `worker`, `onnx`, `native`, ... */
  name: string;
  xpu: XpuKind;
  /** Bump when the implementation changes, so cached profiles are re-measured. */
  version?: string;
  /** Largest absolute difference from other implementations' outputs the XNODE accepts. */
  tolerance?: number;
}

export interface InProcessImplSpec extends ImplSpecBase {
  backend: 'main' | 'native' | 'device';
  create: CreateStage;
}

/** Runs on threads its XPU owns (a worker pool, an execution provider's session thread). */
export interface ThreadImplSpec extends ImplSpecBase {
  backend: 'worker' | 'onnx';
  /** URL (import.meta.url-relative, `.js`) of a module whose default export is a WorkerModule. */
  module: string;
}

export type ImplSpec = InProcessImplSpec | ThreadImplSpec;

/** True for implementations created from a module on a thread of their XPU. */
export function runsOnThread(impl: ImplSpec): impl is ThreadImplSpec {
  return impl.backend === 'worker' || impl.backend === 'onnx';
}

/** Default export of a module of a thread implementation. */
export interface WorkerModule {
  create: CreateStage;
}

export interface XNodeSpec {
  /** Registered type name, `<package>/<name>`, e.g. `camera/preprocess`. */
  type: string;
  description?: string;
  inputs?: Record<string, PortSpec>;
  outputs?: Record<string, PortSpec>;
  params?: Record<string, ParamSpec>;
  /** Sources (no inputs) and timer-driven XNODEs: the parameter holding the rate in Hz (default `rate`). */
  rateParam?: string;
  /**
   * Driven by a timer at its rate, though it has inputs (ROS2: a wall timer whose callback reads
   * the messages its subscriptions cached): each tick runs it with what its inputs hold, so
   * they must be latched and optional.
   */
  timer?: boolean;
  /**
   * How its trigger inputs meet: `frame` (default) pairs them by source frame number where the
   * sources' rates allow; `latest` takes the newest message on each, unaligned (ROS2 nodes that
   * fuse whatever their subscriptions last received). Run as fast as taken (lossless), frames pair.
   */
  join?: 'frame' | 'latest';
  /** Keeps state between calls: a worker implementation is pinned to one worker. */
  stateful?: boolean;
  impls: ImplSpec[];
}

/** A defined XNODE: the spec, validated and with defaults filled in. */
export interface XNodeDef extends XNodeSpec {
  inputs: Record<string, PortSpec>;
  outputs: Record<string, PortSpec>;
  params: Record<string, ParamSpec>;
}
