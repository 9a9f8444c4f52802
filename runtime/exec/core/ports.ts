// Input ports: keep-last queues (ROS2 QoS history: the oldest message goes when full, counted),
// latched inputs (the last message stays, or, `clear`, stays until the stage takes it), and what a join needs to know about frames: which
// arrived, and which can no longer arrive.
import type { CoreInput, DropReason, Envelope } from './types.js';

export class InputPort {
  readonly queue: Envelope[] = [];
  latest: Envelope | null = null;
  drops = 0;
  /** Stages publishing the topic here (for backpressure and "can no longer arrive"). */
  readonly producers: number[] = [];
  /** Per producer: the newest frame it has finished, whether or not it published on it. */
  readonly done: number[] = [];
  /** Newest frame number pushed here. */
  seen = -Infinity;
  /** Subscribers of the topic in total: a worker may take the buffers only when it is the only one. */
  fanout = 1;
  depth: number;
  /** Sees every message dropped here (after `drops` counted it). */
  onDrop: ((env: Envelope, why: DropReason) => void) | undefined = undefined;
  readonly latched: boolean;
  /** Latched, cleared when taken: a message replaced before the stage took it is a drop. */
  readonly clear: boolean;
  /** Trigger input: the stage runs when it holds a fresh message. */
  readonly trigger: boolean;
  readonly optional: boolean;
  readonly port: string;

  constructor(readonly spec: CoreInput) {
    this.port = spec.port;
    this.depth = Math.max(1, spec.depth);
    this.latched = spec.latched;
    this.clear = spec.latched && !!spec.clear;
    this.optional = spec.optional;
    this.trigger = !spec.latched && !spec.optional;
  }

  push(env: Envelope): void {
    if (this.latched) {
      if (this.clear && this.latest) this.dropped(this.latest, 'replaced');
      this.latest = env;
      return;
    }
    if (env.seq > this.seen) this.seen = env.seq;
    if (this.queue.length >= this.depth) this.dropped(this.queue.shift()!, 'depth');
    this.queue.push(env);
  }

  take(): Envelope | undefined {
    if (this.latched) {
      const env = this.latest ?? undefined;
      if (this.clear) this.latest = null;
      return env;
    }
    return this.queue.shift();
  }

  /** The newest queued message; the older ones are dropped (a `latest` join). */
  takeLatest(): Envelope | undefined {
    while (this.queue.length > 1) this.dropped(this.queue.shift()!, 'latest');
    return this.take();
  }

  dropped(env: Envelope, why: DropReason): void {
    this.drops++;
    this.onDrop?.(env, why);
  }

  get full(): boolean {
    return !this.latched && this.queue.length >= this.depth;
  }

  /**
   * True when frame `seq` can no longer arrive here: a newer frame did (frames arrive in
   * order), or every producer finished it without it being here (published nothing for it,
   * or it was taken or dropped already).
   */
  gone(seq: number): boolean {
    for (const e of this.queue) if (e.seq === seq) return false;
    if (this.seen > seq) return true;
    if (this.done.length === 0) return false;
    for (const d of this.done) if (d < seq) return false;
    return true;
  }

  holds(seq: number): boolean {
    for (const e of this.queue) if (e.seq === seq) return true;
    return false;
  }
}

/**
 * Joins trigger queues on frame number, freshest frame first: finds the newest frame present
 * on every trigger input and drops what can no longer meet its frame (older than that, or
 * already passed by another input), reporting each drop. True when every trigger queue holds
 * that frame at its head.
 */
export function alignBySeq(triggers: InputPort[], drop: (input: InputPort) => void): boolean {
  let common = -Infinity;
  let all = true;
  for (const i of triggers) if (i.queue.length === 0) all = false;
  if (all) {
    const first = triggers[0]!.queue;
    for (let k = first.length - 1; k >= 0 && common === -Infinity; k--) {
      const seq = first[k]!.seq;
      let everywhere = true;
      for (const i of triggers) if (!i.holds(seq)) everywhere = false;
      if (everywhere) common = seq;
    }
  }
  for (const i of triggers) {
    for (let k = 0; k < i.queue.length; ) {
      const seq = i.queue[k]!.seq;
      let stale = seq < common;
      if (!stale && common === -Infinity) for (const o of triggers) if (o !== i && o.gone(seq)) stale = true;
      if (!stale) {
        k++;
        continue;
      }
      const env = i.queue.splice(k, 1)[0]!;
      i.dropped(env, 'sync');
      drop(i);
    }
  }
  return common !== -Infinity;
}
