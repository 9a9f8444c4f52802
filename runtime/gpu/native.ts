// Types of the native device addon (native/device). The addon knows no TypeScript type;
// this file is the one place that states what it exchanges with JS.
import { loadAddon } from '../util/native.js';

export interface NativeParamDesc {
  name: string;
  kind: 'scalar' | 'buffer';
  /** scalar: `int` (integer >= min) or `float`. */
  type?: 'int' | 'float';
  min?: number;
  /** buffer: how the kernel touches it. */
  access?: 'in' | 'out' | 'inout';
  elemType?: string;
  elemBytes?: number;
  /** buffer: element count = product of these (numbers, or names of int scalars). */
  count?: Array<number | string>;
  /** buffer: element stride (a number or the name of an int scalar). */
  stride?: number | string;
  /** inout buffer read only when this scalar is non-zero (GEMM's beta). */
  readIfNonzero?: string;
  /** inout buffer written only when this scalar is non-zero (else only read). */
  writeIfNonzero?: string;
  /** buffer neither read nor written when this scalar is zero. */
  activeIfNonzero?: string;
  /** element-wise select: each element written is that of this buffer parameter, unchanged, or computed without reading either. */
  selectOf?: string;
}

export interface NativeKernelDesc {
  id: number;
  name: string;
  summary: string;
  sideEffects: Array<'atomics' | 'rng-state' | 'host-visible'>;
  params: NativeParamDesc[];
}

export interface NativeStats {
  units: number;
  launches: number;
  completed: number;
  preemptions: number;
  relaunches: number;
  killRequests: number;
  savedBytes: number;
  restoredBytes: number;
  blocksRun: number;
  blocksDiscarded: number;
  waitedUnpreemptible: number;
  /** High-priority launches that waited for a killable launch already killed the maximum number of times. */
  killsAvoidedCap: number;
  /** High-priority launches that waited for a killable launch whose remaining run was too short to pay for a kill. */
  killsAvoidedShort: number;
  validations: number;
  validateCacheHits: number;
  validateCacheSize: number;
  validateP50Us: number;
  validateP99Us: number;
  validateMaxUs: number;
  validateMeanUs: number;
  liveBuffers: number;
  liveBytes: number;
}

export interface NativeDevice {
  alloc(bytes: number): number;
  view(handle: number, offset: number, bytes: number): number;
  free(handle: number): void;
  bufferBytes(handle: number): number;
  write(handle: number, offset: number, src: ArrayBufferView): void;
  read(handle: number, offset: number, dst: ArrayBufferView): void;
  createStream(priority: number, policy: 0 | 1): number;
  launch(stream: number, kernel: number, args: Float64Array, info?: Float64Array): number;
  validate(kernel: number, args: Float64Array, info?: Float64Array): boolean;
  runBlocks(kernel: number, args: Float64Array, from: number, to: number): number;
  runReference(kernel: number, args: Float64Array): void;
  createEvent(): number;
  record(stream: number, event: number): void;
  waitEvent(stream: number, event: number): void;
  notifyEvent(event: number, token: number): void;
  eventReached(event: number): boolean;
  stats(): NativeStats;
  resetStats(): void;
  /** Returns completions not yet delivered (packed like onComplete's argument). */
  close(): Float64Array | undefined;
}

export interface DeviceAddon {
  NativeDevice: new (units: number, onComplete: (records: Float64Array) => void, preempt?: boolean) => NativeDevice;
  kernels(): NativeKernelDesc[];
  /** Length of the Float64Array `info` a launch fills. */
  infoSlots: number;
  /** Kills per launch after which it runs to completion (scheduler.h). */
  maxKills: number;
  /** A victim whose estimated remaining run is at most this is not killed (scheduler.h). */
  killWaitBoundUs: number;
  /** Doubles per completion record. */
  completionFields: number;
  /** The backend in use: `cuda` only when built with CUDA and a CUDA device was found. */
  backend: 'host' | 'cuda';
  /** One line: which backend, and why (e.g. built with CUDA but no device found). */
  backendNote: string;
  /** Whether the CUDA backend was compiled in (nvcc was present at build time). */
  cudaBuilt: boolean;
}

/** Field order of a completion record (see native/device/src/scheduler.h). */
export const CF = {
  token: 0,
  kind: 1,
  status: 2,
  preemptions: 3,
  enqueueUs: 4,
  firstStartUs: 5,
  lastStartUs: 6,
  endUs: 7,
  savedBytes: 8,
  blocksRun: 9,
} as const;

/** Field order of the decision info a launch fills (see native/device/src/addon.cc). */
export const IF = {
  idempotent: 0,
  reason: 1,
  writeParam: 2,
  readParam: 3,
  grid: 4,
  numReads: 5,
  numWrites: 6,
  ranges: 7,
} as const;

export const deviceAddon = (): DeviceAddon => loadAddon<DeviceAddon>('device');
