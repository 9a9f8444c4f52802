// Device-resident tensors: a message between two device stages stays in device memory as a
// handle with dims and dtype; the host copy is made only when a host consumer reads it (the
// device's edge), and every upload and download is counted as a transfer.
//
// Ownership: each output port of a device stage writes into a ring of buffers (TensorRing).
// The rule: a slot is rewritten only when no consumer holds it. A consumer holds the tensor
// from the start of its call until its launches on it are done (`hold()` ... `release()`);
// a producer takes the oldest free slot and grows the ring when every slot is held, so a
// later frame never overwrites a buffer a consumer is reading. A message that waited in a
// queue, unheld, while the producer went round the whole ring is stale: its slot carries a
// newer generation, `hold()` throws StaleTensorError and the consumer drops the frame
// (counted) instead of reading another frame's data.
import { performance } from 'node:perf_hooks';
import { counters } from '../trace/counters.js';
import type { Device, DeviceBuffer } from './device.js';

export type DType = 'f32' | 'u32' | 'u8' | 'f64' | 'u64';
const BYTES: Record<DType, number> = { f32: 4, u32: 4, u8: 1, f64: 8, u64: 8 };

/** Key of the device tensor behind a message field (not enumerable: plain walks skip it). */
export const DEVICE_TENSOR: unique symbol = Symbol.for('xauto.deviceTensor');

export class StaleTensorError extends Error {}

/** Sees every host<->device copy as it ends: who made it, how many bytes, when (performance.now ms). */
export type TransferListener = (dir: 'upload' | 'download', bytes: number, stage: string | undefined, startMs: number, endMs: number) => void;
let listener: TransferListener | undefined;

/**
 * Installs the one transfer listener (the executor's device driver traces copies through it);
 * undefined removes it. Returns the one it replaced.
 */
export function setTransferListener(l: TransferListener | undefined): TransferListener | undefined {
  const before = listener;
  listener = l;
  return before;
}

/** Now, for timing a copy: performance.now() while a listener is installed, else 0 (no clock read). */
export function transferStart(): number {
  return listener ? performance.now() : 0;
}

/**
 * Counts a host<->device transfer (run counters `device.uploads`, `device.upload_bytes`, ...)
 * and tells the listener, if any, when the copy began (`startMs`, from transferStart()).
 */
export function countTransfer(dir: 'upload' | 'download', bytes: number, stage?: string, startMs?: number): void {
  counters.add(`device.${dir}s`);
  counters.add(`device.${dir}_bytes`, bytes);
  if (stage) counters.add(`device.${dir}_bytes.${stage}`, bytes);
  if (listener && startMs !== undefined && startMs > 0) listener(dir, bytes, stage, startMs, performance.now());
}

export class RingSlot {
  gen = 0;
  readers = 0;
  buffer?: DeviceBuffer;
  capacity = 0;
  /** The tensor last handed out from this slot. */
  tensor?: DeviceTensor;
}

/** A tensor in a ring slot, valid while the slot still holds its generation. */
export class DeviceTensor {
  private host?: Float32Array | Uint32Array;
  /** A consumer held it (or read it): it was delivered. */
  taken = false;

  constructor(
    readonly device: Device,
    private readonly slot: RingSlot,
    readonly gen: number,
    readonly dims: readonly number[],
    readonly dtype: DType,
    /** Stage that produced it (for transfer counters). */
    readonly producer: string,
  ) {}

  get buffer(): DeviceBuffer {
    return this.slot.buffer!;
  }

  get count(): number {
    return this.dims.reduce((a, b) => a * b, 1);
  }

  get bytes(): number {
    return this.count * BYTES[this.dtype];
  }

  /** False once the producer has rewritten the slot for a later frame. */
  get fresh(): boolean {
    return this.slot.gen === this.gen;
  }

  /** Same slot and generation, final dims (once the device said how many rows it wrote). */
  withDims(dims: readonly number[]): DeviceTensor {
    return new DeviceTensor(this.device, this.slot, this.gen, dims, this.dtype, this.producer);
  }

  /** Holds the slot until `release()`; throws StaleTensorError if it was rewritten already. */
  hold(): void {
    if (!this.fresh) throw new StaleTensorError(`device tensor of ${this.producer} was overwritten by a later frame before it was read`);
    this.slot.readers++;
    this.taken = true;
  }

  release(): void {
    if (this.slot.readers > 0) this.slot.readers--;
  }

  /**
   * Keeps the slot for a consumer that has not taken the message yet (the executor's device
   * driver pins once per subscriber on delivery). Unlike hold() it does not mark the tensor
   * taken, so a ring closing meanwhile still keeps its host copy. False if already stale.
   */
  pin(): boolean {
    if (!this.fresh) return false;
    this.slot.readers++;
    return true;
  }

  unpin(): void {
    this.release();
  }

  /** Consumers holding or pinned to the slot (tests: no pin left behind). */
  get readers(): number {
    return this.slot.readers;
  }

  /** The host copy exists already (a further read is no transfer). */
  get onHost(): boolean {
    return this.host !== undefined;
  }

  /** The host copy (made once, at the device's edge). */
  toHost(consumer?: string): Float32Array | Uint32Array {
    if (this.host) return this.host;
    this.hold();
    try {
      const n = this.count;
      const out = this.dtype === 'u32' ? new Uint32Array(n) : new Float32Array(n);
      const t0 = transferStart();
      if (n > 0) this.buffer.read(out);
      countTransfer('download', out.byteLength, consumer ?? this.producer, t0);
      this.host = out;
      return out;
    } finally {
      this.release();
    }
  }
}

/** The ring of output buffers of one port. */
export class TensorRing {
  private readonly slots: RingSlot[] = [];
  private next = 0;
  /** Times every slot was held and the ring grew. */
  grew = 0;

  constructor(
    readonly device: Device,
    readonly producer: string,
    size = 3,
  ) {
    for (let i = 0; i < size; i++) this.slots.push(new RingSlot());
  }

  get size(): number {
    return this.slots.length;
  }

  /** A tensor in the next free slot with room for `capacityBytes` (dims may be set smaller later). */
  take(capacityBytes: number, dims: readonly number[], dtype: DType): DeviceTensor {
    let slot: RingSlot | undefined;
    for (let k = 0; k < this.slots.length && !slot; k++) {
      const s = this.slots[(this.next + k) % this.slots.length]!;
      if (s.readers === 0) {
        slot = s;
        this.next = (this.next + k + 1) % this.slots.length;
      }
    }
    if (!slot) {
      slot = new RingSlot();
      this.slots.splice(this.next, 0, slot);
      this.next = (this.next + 1) % this.slots.length;
      this.grew++;
    }
    if (slot.capacity < capacityBytes || !slot.buffer) {
      slot.buffer?.free();
      // Grown by half again, so slowly varying sizes do not reallocate every frame.
      slot.capacity = Math.max(64, Math.ceil(capacityBytes * 1.5));
      slot.buffer = this.device.alloc(slot.capacity);
    }
    slot.gen++;
    slot.tensor = new DeviceTensor(this.device, slot, slot.gen, dims, dtype, this.producer);
    return slot.tensor;
  }

  /** Records the final dims of the tensor a slot holds (what close() keeps a host copy of). */
  settle(t: DeviceTensor, dims: readonly number[]): DeviceTensor {
    const done = t.withDims(dims);
    for (const s of this.slots) if (s.tensor && s.tensor.gen === t.gen && s.tensor.buffer === t.buffer) s.tensor = done;
    return done;
  }

  /**
   * Frees the ring. Tensors handed out, still fresh and never taken by a consumer get their
   * host copy first, so a message already emitted stays readable after its producer is gone
   * (no data is lost).
   */
  close(): void {
    if (this.device.isClosed) return;
    for (const s of this.slots) {
      if (s.tensor?.fresh && !s.tensor.taken) s.tensor.toHost();
      s.buffer?.free();
    }
    this.slots.length = 0;
  }
}

/**
 * Defines `obj[field]` as the host copy of `t`, made when first read (a host consumer), and
 * attaches `t` under DEVICE_TENSOR for device consumers, which never read the field.
 */
export function attachDevice<T extends object>(obj: T, field: string, t: DeviceTensor): T {
  Object.defineProperty(obj, field, { enumerable: true, configurable: true, get: () => t.toHost() });
  Object.defineProperty(obj, DEVICE_TENSOR, { enumerable: false, value: t });
  return obj;
}

/** The device tensor behind a message, if it has one that lives on `device`. */
export function deviceTensorOf(msg: unknown, device: Device): DeviceTensor | undefined {
  if (msg === null || typeof msg !== 'object') return undefined;
  const t = (msg as { [DEVICE_TENSOR]?: DeviceTensor })[DEVICE_TENSOR];
  return t && t.device === device ? t : undefined;
}
