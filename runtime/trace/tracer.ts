// Trace events in preallocated columns (a ring): no allocation per event. Per-stage latency
// and end-to-end samples are kept for exact percentiles in the final report; each sink
// completion also keeps its frame number and end time, so paths can be decomposed after the
// run (runtime/trace/paths.ts) without any work on the per-frame path.
import { performance } from 'node:perf_hooks';
import { Samples } from './stats.js';

export enum EventKind {
  Run = 0,
  /** Time a ready stage waited for its XPU. */
  Wait = 1,
  Transfer = 2,
  Preempt = 3,
  /** A source frame from its capture (tick due) to its source stage being ready. */
  Capture = 4,
  /** A message dropped at `stage`'s input (keep-last overflow, a join that cannot pair it): start = end = when. */
  Drop = 5,
}

export interface TraceEvent {
  stage: number;
  xpu: number;
  kind: EventKind;
  seq: number;
  start: number;
  end: number;
  /** Transfer events: bytes moved (host<->device copies). */
  bytes?: number;
  /** The XPU lane the dispatch core ran (or queued) the job on, when it said. */
  lane?: number;
}

/** A sink completion: frame `seq` finished at sink `sink` at `end` (ms), `latency` ms after its capture. */
export interface Completion {
  sink: number;
  seq: number;
  end: number;
  latency: number;
}

export interface TracerOptions {
  capacity?: number;
  /** The clock completions are stamped with (default performance.now; a virtual clock in tests). */
  now?: () => number;
}

export class Tracer {
  readonly capacity: number;
  private readonly stage: Int32Array;
  private readonly xpu: Int16Array;
  private readonly kind: Uint8Array;
  private readonly seq: Int32Array;
  private readonly start: Float64Array;
  private readonly end: Float64Array;
  /** Bytes of Transfer events (0 for the others). */
  private readonly bytes: Float64Array;
  /** XPU lane of the event, -1 when not known. */
  private readonly lane: Int16Array;
  private n = 0;
  readonly stageRun: Samples[];
  readonly stageWait: Samples[];
  /** End-to-end latency per sink stage (ms). */
  readonly e2e = new Map<number, Samples>();
  /** Frame of each stage's latest run (a completion is recorded right after its sink's run). */
  private readonly lastSeq: Int32Array;
  private readonly doneSink = new Samples(256);
  private readonly doneSeq = new Samples(256);
  private readonly doneEnd = new Samples(256);
  private readonly doneLatency = new Samples(256);
  private readonly now: () => number;

  constructor(stages: number, capacity: number | TracerOptions = 1 << 18) {
    const o = typeof capacity === 'number' ? { capacity } : capacity;
    this.capacity = o.capacity ?? 1 << 18;
    this.now = o.now ?? (() => performance.now());
    this.stage = new Int32Array(this.capacity);
    this.xpu = new Int16Array(this.capacity);
    this.kind = new Uint8Array(this.capacity);
    this.seq = new Int32Array(this.capacity);
    this.start = new Float64Array(this.capacity);
    this.end = new Float64Array(this.capacity);
    this.bytes = new Float64Array(this.capacity);
    this.lane = new Int16Array(this.capacity);
    this.lastSeq = new Int32Array(stages).fill(-1);
    this.stageRun = Array.from({ length: stages }, () => new Samples(256));
    this.stageWait = Array.from({ length: stages }, () => new Samples(256));
  }

  record(stage: number, xpu: number, kind: EventKind, seq: number, start: number, end: number, bytes = 0, lane = -1): void {
    const i = this.n++ % this.capacity;
    this.bytes[i] = bytes;
    this.lane[i] = lane;
    this.stage[i] = stage;
    this.xpu[i] = xpu;
    this.kind[i] = kind;
    this.seq[i] = seq;
    this.start[i] = start;
    this.end[i] = end;
    if (kind === EventKind.Run) {
      this.stageRun[stage]!.push(end - start);
      this.lastSeq[stage] = seq;
    } else if (kind === EventKind.Wait) this.stageWait[stage]!.push(end - start);
  }

  /** Frame `seq` completed at sink `sink`, `latencyMs` after its capture (seq: the dispatch core's word; else the sink's latest run's). */
  endToEnd(sink: number, latencyMs: number, seq?: number): void {
    let s = this.e2e.get(sink);
    if (!s) this.e2e.set(sink, (s = new Samples(256)));
    s.push(latencyMs);
    this.doneSink.push(sink);
    this.doneSeq.push(seq ?? this.lastSeq[sink] ?? -1);
    this.doneEnd.push(this.now());
    this.doneLatency.push(latencyMs);
  }

  /** Adds a completion recorded elsewhere (another process's trace, merged). */
  addCompletion(c: Completion): void {
    let s = this.e2e.get(c.sink);
    if (!s) this.e2e.set(c.sink, (s = new Samples(256)));
    s.push(c.latency);
    this.doneSink.push(c.sink);
    this.doneSeq.push(c.seq);
    this.doneEnd.push(c.end);
    this.doneLatency.push(c.latency);
  }

  /** Number of events recorded (the ring keeps the last `capacity`). */
  get recorded(): number {
    return this.n;
  }

  /** The retained events, oldest first. */
  *events(): IterableIterator<TraceEvent> {
    const count = Math.min(this.n, this.capacity);
    const first = this.n - count;
    for (let k = first; k < this.n; k++) {
      const i = k % this.capacity;
      yield this.event(i);
    }
  }

  private event(i: number): TraceEvent {
    const e: TraceEvent = { stage: this.stage[i]!, xpu: this.xpu[i]!, kind: this.kind[i] as EventKind, seq: this.seq[i]!, start: this.start[i]!, end: this.end[i]! };
    if (this.bytes[i]! > 0) e.bytes = this.bytes[i]!;
    if (this.lane[i]! >= 0) e.lane = this.lane[i]!;
    return e;
  }

  /** Events recorded since the `from`-th (those still in the ring), oldest first: for live views. */
  *eventsSince(from: number): IterableIterator<TraceEvent> {
    for (let k = Math.max(from, this.n - Math.min(this.n, this.capacity)); k < this.n; k++) {
      yield this.event(k % this.capacity);
    }
  }

  /** Completions since the `from`-th. */
  completionsSince(from: number): Completion[] {
    const out: Completion[] = [];
    const sink = this.doneSink.values();
    const seq = this.doneSeq.values();
    const end = this.doneEnd.values();
    const latency = this.doneLatency.values();
    for (let i = from; i < sink.length; i++) out.push({ sink: sink[i]!, seq: seq[i]!, end: end[i]!, latency: latency[i]! });
    return out;
  }

  get completed(): number {
    return this.doneSink.count;
  }

  /** Every sink completion, in completion order. */
  completions(): Completion[] {
    const sink = this.doneSink.values();
    const seq = this.doneSeq.values();
    const end = this.doneEnd.values();
    const latency = this.doneLatency.values();
    return Array.from(sink, (s, i) => ({ sink: s, seq: seq[i]!, end: end[i]!, latency: latency[i]! }));
  }
}
