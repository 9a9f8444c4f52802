// Fanout-aware release of device-resident tensors. A message carrying a DeviceTensor that is
// delivered to several inputs keeps its ring slot until every one of them is done with it:
// each delivery pins the slot once, and that pin goes when the message has left that input —
// taken by a run (which holds it until the run ends) or dropped (keep-last overflow, a join
// that cannot pair it). Without this a slow second consumer would find the slot rewritten by
// a later frame (a stale frame, dropped) although the message was delivered to it in time.
//
// The ledger does not see the queues itself: `queued(stage, input, value)` asks whoever owns
// them (the dispatch core, through the executor) whether a delivered value still waits there.
// A pin goes only once its message was seen waiting (or taken) and is no longer there, or once
// a later message on the same input was: so a delivery still in transit (a transfer delay on
// virtual time) is never released early.
import type { DeviceTensor } from './tensor.js';

/** Whether `value`, delivered to input `input` of `stage`, still waits there. */
export type QueuedAt = (stage: number, input: number, value: unknown) => boolean;

interface Entry {
  stage: number;
  input: number;
  key: number;
  value: unknown;
  tensor: DeviceTensor | undefined;
  /** Delivery order (per ledger). */
  order: number;
  /** Seen waiting at its input, or taken from it. */
  seen: boolean;
  /** Taken by a run (else, once gone, it was dropped). */
  taken: boolean;
}

/** Inputs per stage in a key (stage * INPUTS + input). */
const INPUTS = 1024;

export class FanoutLedger {
  private readonly pending: Entry[] = [];
  /** Recycled entries: no allocation per delivery once warm. */
  private readonly spare: Entry[] = [];
  /** Per input key: order of the newest delivery seen there or taken from there. */
  private readonly newestSeen = new Map<number, number>();
  private order = 0;
  /** Pins made, and released after a take or a drop (for the run summary and tests). */
  readonly stats = { pinned: 0, taken: 0, dropped: 0, stale: 0 };

  constructor(private readonly queued: QueuedAt) {}

  /** Pins `t` for the delivery of `value` to input `input` of `stage`. */
  delivered(stage: number, input: number, value: unknown, t: DeviceTensor): void {
    if (!t.pin()) {
      this.stats.stale++; // rewritten already: its consumer will drop the frame (counted there)
      return;
    }
    const e = this.spare.pop() ?? { stage: 0, input: 0, key: 0, value: undefined, tensor: undefined, order: 0, seen: false, taken: false };
    e.stage = stage;
    e.input = input;
    e.key = stage * INPUTS + input;
    e.value = value;
    e.tensor = t;
    e.order = this.order++;
    e.seen = false;
    e.taken = false;
    this.pending.push(e);
    this.stats.pinned++;
  }

  /** A run of `stage` took `value` from input `input` (it holds the tensor itself meanwhile). */
  took(stage: number, input: number, value: unknown): void {
    const key = stage * INPUTS + input;
    for (const e of this.pending) {
      if (e.key !== key || e.value !== value || e.taken) continue;
      e.seen = e.taken = true;
      this.stats.taken++;
      if ((this.newestSeen.get(key) ?? -1) < e.order) this.newestSeen.set(key, e.order);
      return;
    }
  }

  /**
   * Releases the pins of messages that have left their inputs (taken or dropped). `final`: the
   * run is over and nothing is in transit, so whatever is not waiting anywhere has left.
   */
  reconcile(final = false): void {
    const p = this.pending;
    let w = 0;
    // Pass 1: what still waits where it was delivered.
    for (const e of p) {
      if (this.queued(e.stage, e.input, e.value)) {
        e.seen = true;
        if ((this.newestSeen.get(e.key) ?? -1) < e.order) this.newestSeen.set(e.key, e.order);
      }
    }
    // Pass 2: release what was there (or was passed by a later message) and is gone now.
    for (let r = 0; r < p.length; r++) {
      const e = p[r]!;
      const gone = !this.queued(e.stage, e.input, e.value) && (final || e.seen || (this.newestSeen.get(e.key) ?? -1) > e.order);
      if (!gone) {
        p[w++] = e;
        continue;
      }
      if (!e.taken) this.stats.dropped++;
      this.recycle(e);
    }
    p.length = w;
  }

  /** Releases every pin (the run is over). */
  releaseAll(): void {
    for (const e of this.pending) this.recycle(e);
    this.pending.length = 0;
    this.newestSeen.clear();
  }

  /** Pins not released yet. */
  get outstanding(): number {
    return this.pending.length;
  }

  private recycle(e: Entry): void {
    e.tensor?.unpin();
    e.tensor = undefined;
    e.value = undefined;
    this.spare.push(e);
  }
}
