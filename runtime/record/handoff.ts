// How the recorder (publishing thread) hands messages to its writer thread without a
// postMessage per batch: a queue of fixed-size descriptors in shared memory (where a message
// lies in the ring, its channel, sequence and times), published by one store of the queue's
// tail; the writer sleeps on that word (Atomics.wait, 10 ms at most) and is woken only when
// work piles up. What cannot sit in shared memory (channel announcements, a message that found
// the ring full, the end) goes through a MessagePort the writer reads synchronously, and takes a
// CONTROL or port-data descriptor in the queue so that everything keeps one order.

/** Descriptors in the queue (a power of two). */
export const SLOTS = 1024;
/** Key of a descriptor whose content is the next port message (a channel, the end). */
export const CONTROL = -1;
/** Offset of a message whose bytes are the next port message (the ring was full). */
export const ON_PORT = -1;
/** The writer's longest sleep: how late a message reaches the file when little is published. */
export const IDLE_MS = 10;

// Words of the control block.
/** Ring bytes in use (reserved by the recorder, freed by the writer). */
export const USED = 0;
/** Descriptors published (int32, wrapping). */
export const TAIL = 1;
/** Descriptors consumed (int32, wrapping). */
export const HEAD = 2;
/** 1 while the writer sleeps. */
export const SLEEPING = 3;

// Fields of a descriptor.
const INTS = 5; // key, sequence, ring offset (or ON_PORT), length, ring bytes it frees
const TIMES = 2; // log and publish time: performance.now() ms on the recorder's thread

export interface HandoffMemory {
  control: SharedArrayBuffer;
  ints: SharedArrayBuffer;
  times: SharedArrayBuffer;
}

export class Descriptors {
  readonly control: Int32Array;
  readonly ints: Int32Array;
  readonly times: Float64Array;

  /** Slots in the queue (a power of two) and the mask that wraps a count into a slot. */
  readonly slots: number;
  readonly mask: number;

  /** A new queue of `slots` descriptors, or (the writer's side) the one in `memory`. */
  constructor(memory?: HandoffMemory, slots = SLOTS) {
    if (slots & (slots - 1)) throw new Error(`hand-over queue of ${slots} slots: a power of two is needed`);
    const m = memory ?? { control: new SharedArrayBuffer(16), ints: new SharedArrayBuffer(4 * INTS * slots), times: new SharedArrayBuffer(8 * TIMES * slots) };
    this.control = new Int32Array(m.control);
    this.ints = new Int32Array(m.ints);
    this.times = new Float64Array(m.times);
    this.slots = this.ints.length / INTS;
    this.mask = this.slots - 1;
  }

  get memory(): HandoffMemory {
    return { control: this.control.buffer as SharedArrayBuffer, ints: this.ints.buffer as SharedArrayBuffer, times: this.times.buffer as SharedArrayBuffer };
  }

  /** Descriptors published and not yet consumed. */
  pending(): number {
    return (Atomics.load(this.control, TAIL) - Atomics.load(this.control, HEAD)) | 0;
  }

  /** Publishes one descriptor (the recorder's side); false when the queue is full. */
  push(key: number, seq: number, offset: number, length: number, frees: number, logMs: number, publishMs: number): boolean {
    const c = this.control;
    const tail = Atomics.load(c, TAIL);
    if (((tail - Atomics.load(c, HEAD)) | 0) >= this.slots) return false;
    const slot = tail & this.mask;
    const i = INTS * slot;
    this.ints[i] = key;
    this.ints[i + 1] = seq | 0;
    this.ints[i + 2] = offset;
    this.ints[i + 3] = length;
    this.ints[i + 4] = frees;
    this.times[TIMES * slot] = logMs;
    this.times[TIMES * slot + 1] = publishMs;
    Atomics.store(c, TAIL, (tail + 1) | 0); // the fields above are visible to whoever sees this
    return true;
  }

  /** Wakes the writer if it sleeps. */
  wake(): void {
    if (Atomics.load(this.control, SLEEPING)) Atomics.notify(this.control, TAIL);
  }

  // The writer's side: slot `s` of the queue.
  key = (s: number) => this.ints[INTS * s]!;
  seq = (s: number) => this.ints[INTS * s + 1]! >>> 0;
  offset = (s: number) => this.ints[INTS * s + 2]!;
  length = (s: number) => this.ints[INTS * s + 3]!;
  frees = (s: number) => this.ints[INTS * s + 4]!;
  logMs = (s: number) => this.times[TIMES * s]!;
  publishMs = (s: number) => this.times[TIMES * s + 1]!;
}
