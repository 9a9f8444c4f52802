// A driver that runs jobs on the virtual machine (virtual.ts) for the time a cost model says:
// the simulator's driver as it is, and the driver of an executor on virtual time when it is
// given the real driver to run the stage code itself (outputs come from the real code, time
// from the costs, so a run is deterministic whatever this host is doing).
import type { StageResult } from '../../xnode/types.js';
import type { CoreSub, Done, Driver, Envelope, Job, Topology } from './types.js';
import type { VirtualMachine } from './virtual.js';

/** What things cost, in ms of solo time. */
export interface Costs {
  /** One run of `stage` on XPU `xpu` for frame `seq` (called once per job, in dispatch order). */
  runMs(stage: number, xpu: number, seq: number): number;
  /** Decoding an encoded message on input `input` of `stage`. */
  decodeMs(stage: number, input: number): number;
  /** Encoding a message for subscriber `sub` (once per published message). */
  encodeMs(sub: CoreSub): number;
  /** Moving a message between XPU memories (0 within host memory). */
  transferMs(fromXpu: number, toXpu: number, sub: CoreSub): number;
  /** Work on this XPU runs on the host's shared cores. */
  usesCores(xpu: number): boolean;
  /** How much one run of `stage` slows per other memory-sharing job beside it (0: none). */
  contention?(stage: number, xpu: number): number;
  /** Work on this XPU uses the memory others share (default: when it uses the cores). */
  sharesMemory?(xpu: number): boolean;
  /** Stateful stages on worker XPUs: the one worker holding them (-1: every worker). */
  pinnedWorker(stage: number): number;
}

export class CostedDriver implements Driver {
  private decodePending = 0;
  private readonly loop: number;
  private readonly workerBusy: boolean[][];
  private readonly tokens: StageResult[];

  constructor(
    private readonly vm: VirtualMachine,
    private readonly topo: Topology,
    private readonly costs: Costs,
    /** Runs the stage code (executor on virtual time); absent: outputs are tokens (simulator). */
    private readonly real?: Driver,
  ) {
    this.loop = topo.xpus.findIndex((x) => x.eventLoop);
    this.workerBusy = topo.xpus.map((x) => (x.workers ? new Array<boolean>(x.lanes).fill(false) : []));
    // A simulated stage publishes on every output it has subscribers on.
    this.tokens = topo.stages.map((s) => (s.outputs.length ? Object.fromEntries(s.outputs.map((o) => [o.port, true])) : null));
  }

  private readonly aborted = new Set<Job>();

  /** Past its deadline: its completion is ignored (its real code may never end), its worker is free. */
  abort(job: Job): void {
    this.aborted.add(job);
    if (job.worker >= 0) this.workerBusy[job.xpu]![job.worker] = false;
    this.real?.abort?.(job);
  }

  slot(stage: number, xpu: number): number {
    const w = this.workerBusy[xpu]!;
    const pinned = this.costs.pinnedWorker(stage);
    if (pinned >= 0) return w[pinned] ? -1 : pinned;
    return w.indexOf(false);
  }

  decode(stage: number, input: number, env: Envelope): unknown {
    this.decodePending += this.costs.decodeMs(stage, input);
    return this.real?.decode ? this.real.decode(stage, input, env) : env.value;
  }

  encode(stage: number, output: number, sub: CoreSub, value: unknown): unknown {
    const ms = this.costs.encodeMs(sub);
    // Encoding happens on the event loop at publish; without one (boards) it delays delivery.
    if (this.loop >= 0) this.vm.runSync(ms, true);
    return this.real?.encode ? this.real.encode(stage, output, sub, value) : value;
  }

  deliveryMs(_stage: number, _output: number, sub: CoreSub, fromXpu: number, toXpu: number): number {
    const t = this.costs.transferMs(fromXpu, toXpu, sub);
    return sub.cross && this.loop < 0 ? t + this.costs.encodeMs(sub) : t;
  }

  start(job: Job, done: Done): void {
    const decode = this.decodePending;
    this.decodePending = 0;
    const work = this.costs.runMs(job.stage, job.xpu, job.frame.seq);
    const cores = this.costs.usesCores(job.xpu);
    const contention = this.costs.contention?.(job.stage, job.xpu) ?? 0;
    const mem = this.costs.sharesMemory ? this.costs.sharesMemory(job.xpu) : cores;
    const w = job.worker >= 0 ? this.workerBusy[job.xpu]! : undefined;
    if (w) w[job.worker] = true;
    let result: { out: StageResult; error?: unknown } | undefined;
    let real: Promise<void> | undefined;
    const finish = () => {
      if (this.aborted.delete(job)) return; // its frame was dropped at the deadline
      if (this.real && !result) {
        // Virtual time waits here for the real code, then completes before anything else.
        this.vm.hold(real!);
        void real!.then(() => this.vm.microtask(finish));
        return;
      }
      if (w) w[job.worker] = false;
      const r = result ?? { out: this.tokens[job.stage]! };
      done(r.out, r.error);
    };
    if (this.real) {
      let settle: (() => void) | undefined;
      this.real.start(job, (out, error) => {
        result = { out, error };
        settle?.();
      });
      if (!result) real = new Promise<void>((r) => (settle = r));
    }
    if (this.loop >= 0) {
      // Decoding happens on the event loop before the call, inside the stage's run time.
      this.vm.runSync(decode, true);
      if (job.xpu === this.loop) {
        this.vm.runSync(work, cores, contention, mem);
        // Real code that returned a promise on the event loop completes right after this turn.
        if (this.real && !result) this.vm.microtask(finish);
        else finish();
      } else this.vm.runAsync(work, cores, finish, contention, mem);
    } else this.vm.runAsync(decode + work, cores, finish, contention, mem);
  }
}
