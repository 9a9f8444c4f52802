// State of a stateful XNODE, declared so it can be checkpointed with the device: host state
// as typed arrays and plain data (snapshotted at a frame boundary: a copy, so later frames
// do not change it), and the device buffers the XNODE owns (saved and restored by the device
// checkpoint, named here by handle).
//
//   const state = hostState({ x: tracker.x, P: tracker.P, meta: () => ({ frames }) });
//   return { process, state } satisfies StatefulInstance;
import type { StageInstance } from './types.js';

export type TypedArray =
  | Float64Array
  | Float32Array
  | Int32Array
  | Uint32Array
  | Int16Array
  | Uint16Array
  | Int8Array
  | Uint8Array
  | Uint8ClampedArray;

export type PlainData = null | boolean | number | string | PlainData[] | { [k: string]: PlainData };

/** A copy of an XNODE's state: typed arrays by field, plain data, device buffer handles by name. */
export interface StateSnapshot {
  arrays: Record<string, TypedArray>;
  data: PlainData;
  device: Record<string, number>;
}

export interface XNodeState {
  /** Copies the state now (call between frames). */
  snapshot(): StateSnapshot;
  /** Replaces the state with a snapshot; throws, changing nothing, when the shapes differ. */
  restore(s: StateSnapshot): void;
}

/**
 * The declared state of an instance on a worker thread, reached through its pool: the copy is
 * taken (or put back) there, after the jobs sent to it before; ask between two of its jobs.
 */
export interface ThreadState {
  readonly thread: true;
  snapshot(): Promise<StateSnapshot>;
  restore(s: StateSnapshot): Promise<void>;
}

/** A stage's state, on this thread or on a worker's. */
export type StageState = XNodeState | ThreadState;

export const onThread = (s: StageState): s is ThreadState => 'thread' in s && s.thread === true;

/** A stage instance that declares its state. */
export interface StatefulInstance extends StageInstance {
  state: XNodeState;
}

export function stateOf(instance: unknown): XNodeState | undefined {
  const s = (instance as { state?: XNodeState } | null)?.state;
  return s && typeof s.snapshot === 'function' && typeof s.restore === 'function' ? s : undefined;
}

export interface HostStateSpec {
  /** Arrays restored in place (their length is part of the state's shape). */
  arrays: Record<string, TypedArray>;
  /** Plain data to save, and where it goes back. */
  data?: { get(): PlainData; set(d: PlainData): void };
  /** Device buffers the XNODE owns: current handles, and how it takes over restored ones. */
  device?: { get(): Record<string, number>; set(h: Record<string, number>): void };
}

/** The usual state: preallocated typed arrays plus a little plain data. */
export function hostState(spec: HostStateSpec): XNodeState {
  return {
    snapshot() {
      const arrays: Record<string, TypedArray> = {};
      for (const [k, a] of Object.entries(spec.arrays)) arrays[k] = a.slice();
      const data = spec.data ? structuredClone(spec.data.get()) : null;
      return { arrays, data, device: spec.device ? { ...spec.device.get() } : {} };
    },
    restore(s) {
      for (const [k, a] of Object.entries(spec.arrays)) {
        const b = s.arrays[k];
        if (!b) throw new Error(`state: the snapshot has no array '${k}'`);
        if (b.constructor !== a.constructor || b.length !== a.length)
          throw new Error(`state: array '${k}' is ${b.constructor.name}[${b.length}] in the snapshot, ${a.constructor.name}[${a.length}] here (other parameters?)`);
      }
      for (const [k, a] of Object.entries(spec.arrays)) a.set(s.arrays[k]! as never);
      spec.data?.set(structuredClone(s.data));
      if (spec.device) spec.device.set({ ...s.device });
    },
  };
}

const ARRAY_TYPES = {
  Float64Array,
  Float32Array,
  Int32Array,
  Uint32Array,
  Int16Array,
  Uint16Array,
  Int8Array,
  Uint8Array,
  Uint8ClampedArray,
} as const;
type ArrayName = keyof typeof ARRAY_TYPES;

/** JSON form of a snapshot (typed arrays as base64 of their little-endian bytes). */
export function encodeState(s: StateSnapshot): PlainData {
  const arrays: Record<string, PlainData> = {};
  for (const [k, a] of Object.entries(s.arrays)) {
    arrays[k] = { type: a.constructor.name, b64: Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64') };
  }
  return { arrays, data: s.data, device: s.device };
}

export function decodeState(v: unknown): StateSnapshot {
  const o = v as { arrays?: Record<string, { type?: string; b64?: string }>; data?: PlainData; device?: Record<string, number> };
  if (!o || typeof o !== 'object' || !o.arrays || typeof o.arrays !== 'object') throw new Error('state: not an encoded XNODE state');
  const arrays: Record<string, TypedArray> = {};
  for (const [k, e] of Object.entries(o.arrays)) {
    const T = ARRAY_TYPES[e?.type as ArrayName];
    if (!T || typeof e.b64 !== 'string') throw new Error(`state: array '${k}' has an unknown type '${String(e?.type)}'`);
    const bytes = Buffer.from(e.b64, 'base64');
    if (bytes.length % T.BYTES_PER_ELEMENT) throw new Error(`state: array '${k}' has a partial element`);
    const out = new T(bytes.length / T.BYTES_PER_ELEMENT);
    new Uint8Array(out.buffer).set(bytes);
    arrays[k] = out;
  }
  const device: Record<string, number> = {};
  for (const [k, h] of Object.entries(o.device ?? {})) {
    if (!Number.isInteger(h) || h < 0) throw new Error(`state: device buffer '${k}' has no valid handle`);
    device[k] = h;
  }
  return { arrays, data: o.data ?? null, device };
}
