// The shared-memory hop between the main thread and a pool worker: one request and one
// response slot (a ring of depth one each way: a worker runs one call at a time) in
// SharedArrayBuffers, signalled with Atomics.notify. The main thread awaits answers with
// Atomics.waitAsync (its event loop never blocks); an idle worker sleeps in Atomics.wait on a
// wake word that every request and every posted message bumps (worker-host.ts), which wakes
// it in about half the time an event-loop wake-up takes. A call is written into its slot
// (wire.ts: tensors as raw floats); one too large for the slot, or carrying buffers large
// enough to be worth moving rather than copying, goes by postMessage with transfer.
import { readRequest, readResult, writeRequest, writeResult, type RunRequest, type RunResult } from './wire.js';

// Node 20 has Atomics.waitAsync; the ES2023 lib typings do not.
const waitAsync = (Atomics as unknown as { waitAsync(a: Int32Array, i: number, v: number): { async: boolean; value: Promise<unknown> | string } }).waitAsync;

/** Control words: sequence numbers and byte lengths of the two slots. */
const REQ_SEQ = 0;
const REQ_LEN = 1;
const RESP_SEQ = 2;
const RESP_LEN = 3;
const CLOSED = 4;
/** Bumped by the main thread for each request and each posted message: what a worker sleeps on. */
const WAKE = 5;

/** Slot size; messages up to it go through shared memory. */
export const SLOT_BYTES = 256 * 1024;
/** Buffers larger than this in total move by transfer (no copy) instead. */
export const COPY_LIMIT = 64 * 1024;

export interface ChannelMemory {
  ctl: SharedArrayBuffer;
  req: SharedArrayBuffer;
  resp: SharedArrayBuffer;
}

export function channelMemory(): ChannelMemory {
  return { ctl: new SharedArrayBuffer(32), req: new SharedArrayBuffer(SLOT_BYTES), resp: new SharedArrayBuffer(SLOT_BYTES) };
}

/** Total bytes of the buffers in a transfer list (what copying through a slot would cost). */
export function bytesOf(list: ArrayBuffer[] | undefined): number {
  let n = 0;
  if (list) for (const b of list) n += b.byteLength;
  return n;
}

class Side {
  protected readonly ctl: Int32Array;
  protected readonly reqBytes: Uint8Array;
  protected readonly respBytes: Uint8Array;

  constructor(mem: ChannelMemory) {
    this.ctl = new Int32Array(mem.ctl);
    this.reqBytes = new Uint8Array(mem.req);
    this.respBytes = new Uint8Array(mem.resp);
  }

  /** Publishes what was written into a slot (`len` bytes; < 0: it did not fit, nothing sent). */
  protected publish(seqAt: number, lenAt: number, len: number, notifyAt = seqAt): boolean {
    if (len < 0) return false;
    Atomics.store(this.ctl, lenAt, len);
    Atomics.add(this.ctl, seqAt, 1);
    if (notifyAt === WAKE) Atomics.add(this.ctl, WAKE, 1);
    Atomics.notify(this.ctl, notifyAt);
    return true;
  }

  get closed(): boolean {
    return Atomics.load(this.ctl, CLOSED) !== 0;
  }

  /**
   * Calls `on` with each message arriving on a slot, awaiting without blocking the event loop.
   * (Polling for the next message before sleeping measured slower on a loaded 2-core host.)
   */
  protected listen(seqAt: number, on: () => void): void {
    let seen = Atomics.load(this.ctl, seqAt);
    const next = (): void => {
      for (;;) {
        if (Atomics.load(this.ctl, CLOSED)) return;
        const now = Atomics.load(this.ctl, seqAt);
        if (now !== seen) {
          seen = now;
          on();
          continue;
        }
        const w = waitAsync(this.ctl, seqAt, seen);
        if (!w.async) continue;
        void (w.value as Promise<unknown>).then(next);
        return;
      }
    };
    next();
  }
}

/** The main thread's end: requests out, responses in. */
export class MainEnd extends Side {
  send(m: RunRequest): boolean {
    return this.publish(REQ_SEQ, REQ_LEN, writeRequest(this.reqBytes, m), WAKE);
  }

  /** A message was posted to the worker: wake it (asleep in Atomics.wait, it takes no port events). */
  posted(): void {
    Atomics.add(this.ctl, WAKE, 1);
    Atomics.notify(this.ctl, WAKE);
  }

  onResponse(on: (m: RunResult) => void): void {
    this.listen(RESP_SEQ, () => on(readResult(this.respBytes)));
  }

  close(): void {
    Atomics.store(this.ctl, CLOSED, 1);
    this.posted();
    Atomics.notify(this.ctl, RESP_SEQ);
  }
}

/** The worker's end: requests in, responses out. */
export class WorkerEnd extends Side {
  private seenRequest: number;

  constructor(mem: ChannelMemory) {
    super(mem);
    this.seenRequest = Atomics.load(this.ctl, REQ_SEQ);
  }

  reply(m: RunResult): boolean {
    return this.publish(RESP_SEQ, RESP_LEN, writeResult(this.respBytes, m));
  }

  /** The wake word now: read it before looking for work, then sleep on it. */
  get wakes(): number {
    return Atomics.load(this.ctl, WAKE);
  }

  /** The request in the slot, if one came since the last. */
  request(): RunRequest | undefined {
    const seq = Atomics.load(this.ctl, REQ_SEQ);
    if (seq === this.seenRequest) return undefined;
    this.seenRequest = seq;
    return readRequest(this.reqBytes);
  }

  /** Blocks the thread until the wake word moves from `seen` or `ms` pass; false: timed out. */
  sleep(seen: number, ms: number): boolean {
    return Atomics.wait(this.ctl, WAKE, seen, ms) !== 'timed-out';
  }

  /** Resolves once the wake word moves from `seen`, the event loop running meanwhile (undefined: it already has). */
  woken(seen: number): Promise<unknown> | undefined {
    const w = waitAsync(this.ctl, WAKE, seen);
    return w.async ? (w.value as Promise<unknown>) : undefined;
  }
}
