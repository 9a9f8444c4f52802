// The device side of the executor's driver (drivers.ts): messages that carry a device-resident
// tensor (runtime/gpu/tensor.ts).
// - Fanout: a tensor delivered to several inputs keeps its ring slot until the last of them took
//   it (the run ended) or dropped it (runtime/gpu/fanout.ts); a run also pins what it took, so a
//   stage that reads its input only after an await still finds its frame there.
// - The device's edge: a host implementation that takes a device tensor gets the host copy made
//   at the start of its run (one download, counted and traced as that stage's, for that frame).
// - Transfers: every host<->device copy a stage makes becomes a trace slice (bytes, frame) on its
//   XPU, on real time only (copies are timed with performance.now, the executor's clock there).
import type { Graph } from '../graph/graph.js';
import { FanoutLedger } from '../gpu/fanout.js';
import { DEVICE_TENSOR, setTransferListener, type DeviceTensor, type TransferListener } from '../gpu/tensor.js';
import type { ImplSpec, StageResult } from '../xnode/types.js';
import type { Job, Topology } from './core/types.js';

/** What the ledger needs of a dispatch-core input: its queue, or its latched message. */
export interface InputView {
  readonly queue: ReadonlyArray<{ readonly value: unknown }>;
  readonly latest: { readonly value: unknown } | null;
  readonly latched: boolean;
}

/** Records a copy as a trace slice: `stage` made it during frame `seq` on XPU `xpu`. */
export type RecordTransfer = (stage: number, xpu: number, seq: number, startMs: number, endMs: number, bytes: number, dir: 'upload' | 'download') => void;

function tensorOf(v: unknown): DeviceTensor | undefined {
  return v !== null && typeof v === 'object' ? (v as { [DEVICE_TENSOR]?: DeviceTensor })[DEVICE_TENSOR] : undefined;
}

export class DeviceTensors {
  private ledger?: FanoutLedger;
  /** Per stage: the job whose pins `held` are, and the tensors it took. */
  private readonly job: Array<Job | undefined>;
  private readonly held: DeviceTensor[][];
  /** Per stage: the frame and XPU of its current (or last) run, for transfers it makes. */
  private readonly seq: Int32Array;
  private readonly xpu: Int16Array;
  private readonly byName = new Map<string, number>();
  private record?: RecordTransfer;
  private previous?: TransferListener;

  constructor(
    private readonly graph: Graph,
    private readonly topo: Topology,
  ) {
    const n = graph.stages.length;
    this.job = new Array<Job | undefined>(n);
    this.held = Array.from({ length: n }, () => []);
    this.seq = new Int32Array(n).fill(-1);
    this.xpu = new Int16Array(n);
    for (const s of graph.stages) this.byName.set(s.name, s.index);
  }

  /** Pins per subscriber, released against the core's queues. */
  track(inputs: (stage: number, input: number) => InputView): void {
    this.ledger = new FanoutLedger((stage, input, value) => {
      const i = inputs(stage, input);
      if (i.latched) return i.latest !== null && i.latest.value === value;
      for (const e of i.queue) if (e.value === value) return true;
      return false;
    });
  }

  trace(record: RecordTransfer): void {
    this.record = record;
    this.previous = setTransferListener((dir, bytes, name, start, end) => {
      const s = name === undefined ? undefined : this.byName.get(name);
      if (s === undefined || this.seq[s]! < 0) return;
      this.record?.(s, this.xpu[s]!, this.seq[s]!, start, end, bytes, dir);
    });
  }

  /** Device implementations placed (none: no message can carry a device tensor). */
  deviceStages = 0;

  /** Whether start() needs to look at the job at all (not in a plan without device stages). */
  get active(): boolean {
    return this.deviceStages > 0 && (this.ledger !== undefined || this.record !== undefined);
  }

  /** Pins stats (the run summary's `device.fanout` section). */
  get stats(): FanoutLedger['stats'] | undefined {
    return this.ledger?.stats;
  }

  /** Pins not released yet (tests: none after a run). */
  get outstanding(): number {
    return this.ledger?.outstanding ?? 0;
  }

  /** A job starts: it takes its inputs; a host implementation gets device tensors' host copies. */
  starting(job: Job, impl: ImplSpec, xpu: number): void {
    const stage = job.stage;
    this.seq[stage] = job.frame.seq;
    this.xpu[stage] = xpu;
    const held = this.held[stage]!;
    this.release(stage);
    this.job[stage] = job;
    const inputs = this.topo.stages[stage]!.inputs;
    for (let k = 0; k < inputs.length; k++) {
      const v = job.inputs[inputs[k]!.port];
      const t = tensorOf(v);
      if (!t) continue;
      if (this.ledger) {
        if (t.pin()) held.push(t);
        this.ledger.took(stage, k, v);
      }
      // The device's edge: a host consumer reads the points, so the copy is this run's.
      if (impl.backend !== 'device' && !t.onHost && t.fresh) t.toHost(this.graph.stages[stage]!.name);
    }
    this.ledger?.reconcile();
  }

  /** A job's outputs, before the core delivers them: one pin per subscriber here. */
  produced(stage: number, out: StageResult): void {
    if (!this.ledger || !out) return;
    for (const o of this.topo.stages[stage]!.outputs) {
      const v = out[o.port];
      const t = tensorOf(v);
      if (!t) continue;
      // Encoded deliveries (serializing plans) carry bytes, not the tensor.
      for (const sub of o.subs) if (!sub.cross) this.ledger.delivered(sub.stage, sub.input, v, t);
    }
  }

  /** A job ended (done, failed, or past its deadline): its own pins go; what left its inputs is released. */
  ended(job: Job): void {
    if (this.job[job.stage] !== job) return; // a later job of the stage holds the pins now
    this.release(job.stage);
    this.ledger?.reconcile();
  }

  /** The run is over: releases the pins of every message not still waiting at an input. */
  settle(): void {
    this.ledger?.reconcile(true);
  }

  close(): void {
    for (let s = 0; s < this.held.length; s++) this.release(s);
    this.ledger?.releaseAll();
    if (this.record) setTransferListener(this.previous);
    this.record = undefined;
  }

  private release(stage: number): void {
    const held = this.held[stage]!;
    for (const t of held) t.unpin();
    held.length = 0;
    this.job[stage] = undefined;
  }
}
