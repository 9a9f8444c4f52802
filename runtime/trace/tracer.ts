// Trace events in preallocated columns (a ring): no allocation per event. Per-stage latency
// and end-to-end samples are kept for exact percentiles in the final report.
import { Samples } from './stats.js';

export enum EventKind {
  Run = 0,
  /** Time a ready stage waited for its XPU. */
  Wait = 1,
  Transfer = 2,
  Preempt = 3,
}

export interface TraceEvent {
  stage: number;
  xpu: number;
  kind: EventKind;
  seq: number;
  start: number;
  end: number;
}

export class Tracer {
  readonly capacity: number;
  private readonly stage: Int32Array;
  private readonly xpu: Int16Array;
  private readonly kind: Uint8Array;
  private readonly seq: Int32Array;
  private readonly start: Float64Array;
  private readonly end: Float64Array;
  private n = 0;
  readonly stageRun: Samples[];
  readonly stageWait: Samples[];
  /** End-to-end latency per sink stage (ms). */
  readonly e2e = new Map<number, Samples>();

  constructor(stages: number, capacity = 1 << 18) {
    this.capacity = capacity;
    this.stage = new Int32Array(capacity);
    this.xpu = new Int16Array(capacity);
    this.kind = new Uint8Array(capacity);
    this.seq = new Int32Array(capacity);
    this.start = new Float64Array(capacity);
    this.end = new Float64Array(capacity);
    this.stageRun = Array.from({ length: stages }, () => new Samples(256));
    this.stageWait = Array.from({ length: stages }, () => new Samples(256));
  }

  record(stage: number, xpu: number, kind: EventKind, seq: number, start: number, end: number): void {
    const i = this.n++ % this.capacity;
    this.stage[i] = stage;
    this.xpu[i] = xpu;
    this.kind[i] = kind;
    this.seq[i] = seq;
    this.start[i] = start;
    this.end[i] = end;
    if (kind === EventKind.Run) this.stageRun[stage]!.push(end - start);
    else if (kind === EventKind.Wait) this.stageWait[stage]!.push(end - start);
  }

  endToEnd(sink: number, latencyMs: number): void {
    let s = this.e2e.get(sink);
    if (!s) this.e2e.set(sink, (s = new Samples(256)));
    s.push(latencyMs);
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
      yield { stage: this.stage[i]!, xpu: this.xpu[i]!, kind: this.kind[i] as EventKind, seq: this.seq[i]!, start: this.start[i]!, end: this.end[i]! };
    }
  }
}
