// The dispatch core: decides what runs next, on any clock and any XPU driver. Sources emit
// frames (at their rates, or as fast as taken with backpressure); a stage is ready when its
// trigger inputs hold fresh messages (joins align them by frame number, or take the latest of
// each), or, timer-driven, when its timer ticks (it reads what its inputs hold); ready stages wait at
// their XPU, highest priority first, within its lanes and exclusive groups; inputs are taken
// when the stage actually starts (late binding: always the freshest data). The executor and
// the simulator are shells over this one class (exec/executor.ts, schedule/simulate.ts).
// (Above 400 lines: it is one state machine — readiness, dispatch, completion and failure
// change the same queues and counters, and kept together their invariants read in one place.)
import type { FrameInfo, PortValues, StageResult } from '../../xnode/types.js';
import { tickDueSources } from '../clock.js';
import { alignBySeq, type InputPort } from './ports.js';
import { isPacedSpec, overdueTick, recordRun, yieldsUntil } from './reserve.js';
import { buildState, DeadlineError, FALLBACK_AFTER, type Source, type StageState, type XpuState } from './state.js';
import type { Clock, CoreOptions, CoreStage, CoreSub, Driver, Envelope, Hooks, Job, Topology } from './types.js';

export { DeadlineError };
export type { StageState };

export class Dispatcher {
  readonly stages: StageState[];
  readonly xpus: XpuState[];
  private readonly dirty: XpuState[] = [];
  private draining = false;
  private running = 0;
  private started = false;
  /** When run() began: frame k of a source is due at origin + phase + k * period. */
  private origin = 0;
  private stopping = false;
  /** Topics from other processes that have not ended yet. */
  private remoteOpen = 0;
  /** Topics from ROS2: they keep the run going until the duration ends or stop(). */
  ros2Open = 0;
  private readonly busyGroups = new Set<string>();
  private readonly timed: Source[] = [];
  /** Timers of stages with inputs: their ticks keep their XPU (reserve.ts). */
  private paced: Source[] = [];
  /** Sources run as fast as taken, in step with each other (fast mode). */
  private readonly fastSources: Source[] = [];
  private cancelTick?: () => void;
  /** When the source clock next fires (Infinity: no timer left). */
  private nextTick = Infinity;
  /** A tick was taken between event-loop stages (pump) since the loop last turned. */
  private tickedInline = false;
  private idleResolve?: () => void;
  /** Sink completions. */
  completed = 0;
  overruns = 0;
  /** Source frames taken (due) but not yet run when the sources stopped. */
  abandoned = 0;

  constructor(
    readonly topo: Topology,
    readonly clock: Clock,
    readonly driver: Driver,
    readonly hooks: Hooks,
    readonly opts: CoreOptions,
  ) {
    const state = buildState(topo, opts);
    this.stages = state.stages;
    this.xpus = state.xpus;
    const drop = hooks.drop;
    if (drop) {
      for (const st of this.stages) st.inputs.forEach((input, k) => (input.onDrop = (env, why) => drop(st.index, k, env.seq, this.clock.now(), why)));
    }
  }

  /** Starts the sources; resolves once the run is over and the pipeline is empty. */
  run(durationMs?: number): Promise<void> {
    this.started = true;
    this.origin = this.clock.now();
    const idle = new Promise<void>((resolve) => (this.idleResolve = resolve));
    // Messages from outside may have arrived while stages were being made.
    for (const st of this.stages) if (!st.source && st.spec.local) this.offer(st);
    for (const st of this.stages) {
      if (!st.source || st.source.done) continue;
      if (this.opts.fast) this.fastSources.push(st.source);
      if (this.opts.fast || st.source.period === 0) this.fastTick(st);
      else this.timed.push(st.source);
    }
    this.paced = this.timed.filter((src) => this.isPaced(src));
    this.tickSources();
    let cancel: (() => void) | undefined;
    if (durationMs !== undefined) cancel = this.clock.timer(this.origin + durationMs, () => this.stopSources());
    this.drain();
    return idle.then(() => cancel?.());
  }

  /** Stops everything: local sources, and waiting for outside input. */
  stop(): void {
    if (this.stopping) return;
    this.stopping = true;
    this.stopSources();
  }

  /** Stops the local sources (the duration is over); input from other processes still comes. */
  stopSources(): void {
    this.ros2Open = 0;
    for (const st of this.stages) {
      if (!st.source) continue;
      st.source.done = true;
      if (st.source.pending && !st.queued && !st.running) this.abandoned++; // a queued one still runs
      st.source.pending = false;
    }
    // No tick is coming: what yielded to one may start.
    for (const st of this.stages) {
      if (st.queued && st.yieldUntil === st.yieldUntil) this.markDirty(this.xpus[st.xpu]!);
      st.yieldUntil = -Infinity;
    }
    this.cancelTick?.();
    this.nextTick = Infinity;
    this.drain();
  }

  get isStopping(): boolean {
    return this.stopping;
  }

  /** A topic from another process opens; it keeps the run going until closeRemote(). */
  openRemote(): void {
    this.remoteOpen++;
  }

  closeRemote(): void {
    this.remoteOpen--;
    this.checkIdle();
  }

  /** A topic from ROS2 opens; it keeps the run going until the sources stop. */
  openRos2(): void {
    this.ros2Open++;
  }

  /** Whether input from ROS2 is still taken in. */
  get takesRos2(): boolean {
    return !this.stopping && this.ros2Open > 0;
  }

  /** XPU `xpu` can take work again (its driver replaced a worker): serve what waits there. */
  wake(xpu: number): void {
    this.markDirty(this.xpus[xpu]!);
    this.drain();
  }

  /**
   * Stage `stage` takes no more messages from this process's stages: it moves to another
   * process (exec/migrate.ts), which gets them instead. What it holds or runs, it finishes.
   */
  detach(stage: number): void {
    for (const st of this.stages) {
      for (const o of st.spec.outputs) if (o.subs.some((s) => s.stage === stage)) o.subs = o.subs.filter((s) => s.stage !== stage);
    }
  }

  /** Takes in a message from outside the graph (another process, ROS2); call drain() after. */
  inject(stage: number, input: number, env: Envelope): void {
    this.deliver(this.stages[stage]!, input, env);
  }

  /** The source clock (clock.ts): every source due when it fires ticks before anything runs. */
  private tickSources(): void {
    const next = tickDueSources(this.timed, this.origin, this.clock.now(), (src, due, seq) => {
      const st = this.stages[src.stage]!;
      // A frame is captured when it is due: a timer that fires late (a busy event loop) adds
      // to its latency instead of hiding it.
      if (st.running || st.queued || src.pending) {
        src.overruns++; // the source's XPU has not served the last tick: this frame is lost
        this.overruns++;
        this.hooks.overrun?.(st.index);
      } else {
        src.pending = true;
        src.tickT0 = due;
        src.tickSeq = seq;
        this.offer(st);
      }
    });
    this.cancelTick?.();
    this.cancelTick = undefined;
    this.nextTick = next;
    // Ticks are kept to the microsecond (the real clock sleeps on a timerfd, precise.ts), not to
    // the millisecond of Node's timers: a late tick adds its lateness to every frame it starts.
    if (next !== Infinity) this.cancelTick = this.clock.timer(next, () => this.tickSources(), true);
    this.drain();
  }

  /** Fast mode: the next frame is emitted once the previous one was taken downstream. */
  private fastTick(st: StageState): void {
    const src = st.source!;
    if (src.done || src.scheduled || src.pending || st.running || st.queued) return;
    if (src.emitted >= src.limit) {
      src.done = true;
      this.checkIdle();
      return;
    }
    if (this.outputsFull(st)) return;
    if (this.opts.fast && this.ahead(src)) return;
    src.scheduled = true;
    this.clock.soon(() => {
      src.scheduled = false;
      if (src.done) return;
      src.tickSeq = src.emitted++;
      src.pending = true;
      src.tickT0 = this.clock.now();
      this.offer(st);
      this.drain();
    });
  }

  /**
   * Fast mode keeps the sources in step: a source emits frame k only once every other source
   * has emitted frame k - 1 and the pipeline took it (published, and not held in a full queue),
   * so no branch runs ahead of the others into a join.
   */
  private ahead(src: Source): boolean {
    for (const o of this.fastSources) {
      if (o === src || o.done) continue;
      if (o.emitted < src.emitted) return true;
      if (o.emitted === src.emitted) {
        const os = this.stages[o.stage]!;
        if (o.pending || os.running || os.queued || this.outputsFull(os)) return true;
      }
    }
    return false;
  }

  /** Fast mode: a source moved on or its frame was taken; the others may be free to emit. */
  private stepSources(except: StageState): void {
    for (const o of this.fastSources) if (o.stage !== except.index) this.fastTick(this.stages[o.stage]!);
  }

  private outputsFull(st: StageState): boolean {
    for (const o of st.spec.outputs) for (const sub of o.subs) if (this.stages[sub.stage]!.inputs[sub.input]!.full) return true;
    return false;
  }

  private isReady(st: StageState): boolean {
    if (st.running || st.queued) return false;
    if (st.source) return st.source.pending;
    if (st.syncBySeq && !alignBySeq(st.triggers, (i) => this.syncDropped(st, i))) return false;
    let triggered = false;
    for (const i of st.inputs) {
      if (i.trigger) {
        if (i.queue.length === 0) return false;
        triggered = true;
      } else if (i.latched && i.latest === null && !i.optional) return false;
    }
    if (!triggered) return false;
    return !(this.opts.fast && this.outputsFull(st));
  }

  private syncDropped(st: StageState, i: InputPort): void {
    this.hooks.syncDrop?.(st.index, st.inputs.indexOf(i));
    if (this.opts.fast) for (const p of i.producers) this.offerLater(this.stages[p]!);
  }

  /** Queues the stage at its XPU if it is ready. */
  offer(st: StageState): void {
    // Before run() inputs only queue (keep-last): no stage starts before every stage exists.
    if (!this.started || !this.isReady(st)) return;
    st.queued = true;
    st.readySince = this.clock.now();
    const x = this.xpus[st.xpu]!;
    const q = x.queue;
    let i = q.length;
    while (i > 0 && q[i - 1]!.priority < st.priority) i--;
    q.splice(i, 0, st);
    this.markDirty(x);
  }

  private markDirty(x: XpuState): void {
    if (x.dirty) return;
    x.dirty = true;
    this.dirty.push(x);
  }

  /**
   * Starts whatever can start. Re-entrant calls only mark work; the outer loop does it.
   * Dispatching to other threads takes microseconds while event-loop work blocks until done,
   * so every other XPU is served before the event loop runs its next stage.
   */
  drain(): void {
    if (this.draining) return;
    this.draining = true;
    try {
      while (this.dirty.length) {
        let k = this.dirty.length - 1;
        if (this.dirty[k]!.eventLoop) {
          const other = this.dirty.findIndex((x) => !x.eventLoop);
          if (other >= 0) k = other;
        }
        const x = this.dirty.splice(k, 1)[0]!;
        x.dirty = false;
        if (!x.yielding) this.pump(x); // a yielding event loop resumes from its soon()
      }
    } finally {
      this.draining = false;
    }
    this.checkIdle();
  }

  private pump(x: XpuState): void {
    const now = this.clock.now();
    // A chain of event-loop stages holds the source clock's timer back: a paced tick that is
    // due and outranks what waits here is taken before the next stage, and the event loop turns
    // after that stage. (Equal ranks keep the order of a ROS2 executor: timers seen between
    // rounds of ready work.)
    if (now >= this.nextTick && overdueTick(this.paced, this.stages, this.origin, now, x.queue[0]?.priority ?? -Infinity)) {
      this.tickSources();
      this.tickedInline = true;
    }
    while (x.busy < x.lanes && x.queue.length) {
      let worker = -1;
      const pick = x.queue.findIndex(
        (st) =>
          !(st.group !== undefined && this.busyGroups.has(st.group)) &&
          !this.yields(st, x, now) &&
          (!x.workers || (worker = this.driver.slot!(st.index, x.index)) >= 0),
      );
      if (pick < 0) return;
      const st = x.queue.splice(pick, 1)[0]!;
      st.queued = false;
      this.execute(st, x, worker);
      if (x.eventLoop) {
        // One synchronous stage at a time: what it made ready elsewhere is dispatched first.
        // With work in flight elsewhere, the event loop also takes in the completions that
        // arrived meanwhile before it runs the next stage (a chain of main-thread stages would
        // otherwise hold them back until its end).
        // (One that returned a promise does this when it ends.)
        if (!st.running) this.yieldLoop(x);
        return;
      }
    }
  }

  /** A timer-driven stage that reads inputs: its ticks keep their XPU (reserve.ts). */
  private isPaced(src: Source): boolean {
    return isPacedSpec(this.stages[src.stage]!.spec);
  }

  /** Whether `st` waits for a paced tick on `x` (reserve.ts). */
  private yields(st: StageState, x: XpuState, now: number): boolean {
    const due = yieldsUntil(st, x, now, this.paced, this.stages, this.origin);
    if (due !== due) return false;
    if (st.yieldUntil !== due) {
      st.yieldUntil = due;
      // Served at the tick whatever the tick does (an overrun, or the sources stopped meanwhile).
      this.clock.timer(
        due,
        () => {
          if (st.yieldUntil !== due) return;
          st.yieldUntil = -Infinity; // yielded: it may start
          this.markDirty(x);
          this.drain();
        },
        true,
      );
    }
    return true;
  }

  private yieldLoop(x: XpuState): void {
    if (!x.queue.length) return;
    if (this.running === 0 && !this.tickedInline) this.markDirty(x);
    else this.turnLoop(x);
  }

  /** The event loop runs what is due (completions, timers) before its next stage. */
  private turnLoop(x: XpuState): void {
    if (x.yielding) return;
    x.yielding = true;
    this.clock.soon(() => {
      x.yielding = false;
      this.tickedInline = false;
      this.markDirty(x);
      this.drain();
    });
  }

  private execute(st: StageState, x: XpuState, worker: number): void {
    const start = this.clock.now();
    st.running = true;
    st.yieldUntil = NaN;
    x.busy++;
    const lane = worker >= 0 ? worker : x.laneBusy.indexOf(false);
    if (lane >= 0 && lane < x.lanes) x.laneBusy[lane] = true;
    this.running++;
    if (st.group !== undefined) this.busyGroups.add(st.group);
    const frame: FrameInfo = { seq: 0, t0: Infinity };
    const inputs: PortValues = {};
    const timed = st.source !== undefined;
    if (st.source) {
      // A source's frame, or a timer-driven stage's: the tick, whatever its inputs hold.
      frame.seq = st.source.tickSeq;
      frame.t0 = st.source.tickT0;
      st.source.pending = false;
    }
    for (let k = 0; k < st.inputs.length; k++) {
      const input = st.inputs[k]!;
      const env = st.latest && input.trigger ? input.takeLatest() : input.take();
      if (!env) continue;
      inputs[input.port] = env.encoded && this.driver.decode ? this.driver.decode(st.index, k, env) : env.value;
      if (!input.latched && !timed) {
        if (env.t0 < frame.t0) frame.t0 = env.t0;
        if (env.seq > frame.seq) frame.seq = env.seq;
      }
      if (this.opts.fast) for (const p of input.producers) this.offerLater(this.stages[p]!);
    }
    if (timed) this.hooks.capture?.(st.index, frame.seq, frame.t0, st.readySince);
    this.hooks.wait?.(st.index, x.index, frame.seq, st.readySince, start, lane);
    const job: Job = { stage: st.index, xpu: x.index, lane, worker, frame, inputs };
    this.hooks.dispatch?.(job);
    let sync = true;
    let settled = false;
    let cancelDeadline: (() => void) | undefined;
    this.driver.start(job, (out, error) => {
      if (settled) return; // it ran past its deadline and was already counted
      settled = true;
      // Outputs are checked against the declared ports: a bad one is the producer's failure.
      const bad = error === undefined ? this.hooks.validate?.(st.index, out) : undefined;
      if (error !== undefined || bad !== undefined) this.failed(st, x, lane, frame, start, error ?? new Error(bad), 'error');
      else this.complete(st, x, lane, frame, start, out);
      // An event-loop stage that returned a promise ends in a later microtask: as after a
      // synchronous one, completions that arrived meanwhile are taken in before its next stage.
      if (!sync && x.eventLoop) this.yieldLoop(x);
      if (!sync) this.drain();
      // Last: what this completion started (the next hop) is under way before the timer is cleared.
      cancelDeadline?.();
    });
    sync = false;
    const deadline = settled ? Infinity : (this.hooks.deadlineMs?.(st.index) ?? Infinity);
    if (deadline < Infinity) {
      cancelDeadline = this.clock.timer(start + deadline, () => {
        if (settled) return;
        settled = true;
        // The frame is dropped and counted; the driver frees what the job holds (a stuck
        // worker is replaced); the implementation counts as failed (fallback after 3).
        this.driver.abort?.(job);
        this.failed(st, x, lane, frame, start, new DeadlineError(st.spec.name, deadline), 'timeout');
        if (x.eventLoop) this.yieldLoop(x);
        this.drain();
      });
    }
  }

  private offerLater(p: StageState): void {
    if (p.source) {
      this.fastTick(p);
      if (this.opts.fast) this.stepSources(p);
    } else this.offer(p);
  }

  private release(st: StageState, x: XpuState, lane: number, start: number): number {
    const end = this.clock.now();
    st.running = false;
    x.busy--;
    if (lane >= 0 && lane < x.lanes) x.laneBusy[lane] = false;
    x.busyMs += end - start;
    recordRun(st, end - start);
    this.running--;
    this.markDirty(x);
    if (st.group !== undefined) {
      this.busyGroups.delete(st.group);
      // Stages of the group may wait on other XPUs.
      for (const other of this.stages) if (other.queued && other.group === st.group) this.markDirty(this.xpus[other.xpu]!);
    }
    return end;
  }

  /**
   * Records that `st` finished `frame` at every input it feeds; a join whose partner frame
   * will now never come re-checks what it holds (and drops what cannot meet).
   */
  private progressed(st: StageState, frame: FrameInfo, except?: Set<CoreSub>): void {
    for (const o of st.spec.outputs) for (const sub of o.subs) if (!except?.has(sub)) this.progressedAt(st, sub, frame.seq);
  }

  private progressedAt(st: StageState, sub: CoreSub, seq: number): void {
    const target = this.stages[sub.stage]!;
    const input = target.inputs[sub.input]!;
    const p = input.producers.indexOf(st.index);
    if (seq > input.done[p]!) input.done[p] = seq;
    if (target.syncBySeq) this.offer(target);
  }

  private complete(st: StageState, x: XpuState, lane: number, frame: FrameInfo, start: number, out: StageResult): void {
    const end = this.release(st, x, lane, start);
    st.failures = 0;
    st.runs++;
    this.hooks.run?.(st.index, x.index, frame.seq, start, end, lane);
    let delayed: Set<CoreSub> | undefined;
    let delivered = false;
    if (out) {
      const outputs = st.spec.outputs;
      for (let k = 0; k < outputs.length; k++) {
        const o = outputs[k]!;
        const value = out[o.port];
        if (value === undefined) continue;
        this.hooks.publish?.(st.index, k, value, frame);
        if (o.subs.length === 0) continue;
        delivered = true;
        const env: Envelope = { value, t0: frame.t0, seq: frame.seq };
        let encoded: Envelope | undefined;
        for (const sub of o.subs) {
          let e = env;
          if (sub.cross && this.driver.encode) {
            encoded ??= { value: this.driver.encode(st.index, k, sub, value), t0: frame.t0, seq: frame.seq, encoded: o.type };
            e = encoded;
          }
          const target = this.stages[sub.stage]!;
          const delay = this.driver.deliveryMs ? this.driver.deliveryMs(st.index, k, sub, x.index, target.xpu) : 0;
          if (delay > 0) {
            // In transit: the frame is not finished at that input until it arrives there.
            (delayed ??= new Set()).add(sub);
            this.hooks.transfer?.(sub.stage, sub.input, frame.seq, end, end + delay, x.index, target.xpu);
            this.clock.at(end + delay, () => {
              this.deliver(target, sub.input, e);
              this.progressedAt(st, sub, frame.seq);
              this.drain();
            });
          } else this.deliver(target, sub.input, e);
        }
      }
    }
    this.progressed(st, frame, delayed);
    // A stage that publishes nothing downstream ends its frame here (a filter): counted.
    if (!delivered && !st.spec.isSink && st.spec.outputs.some((o) => o.subs.length > 0)) st.ended++;
    if (st.spec.isSink) {
      this.completed++;
      this.hooks.endToEnd?.(st.index, frame.seq, this.clock.now() - frame.t0);
    }
    if (st.source) {
      if (this.opts.fast) {
        this.fastTick(st);
        this.stepSources(st);
      }
    } else {
      this.offer(st);
    }
  }

  private deliver(st: StageState, input: number, env: Envelope): void {
    st.inputs[input]!.push(env);
    this.offer(st);
  }

  /** A job that did not complete: counted once, as an error or a timeout. */
  private failed(st: StageState, x: XpuState, lane: number, frame: FrameInfo, start: number, e: unknown, kind: 'error' | 'timeout'): void {
    this.release(st, x, lane, start);
    this.progressed(st, frame);
    if (kind === 'timeout') st.timeouts++;
    else st.errors++;
    st.failures++;
    this.hooks.failed?.(st.index, frame, e, st.failures);
    const next = st.failures >= FALLBACK_AFTER ? this.hooks.fallback?.(st.index) : undefined;
    if (next) void this.fallBack(st, next);
    else this.resume(st);
  }

  private resume(st: StageState): void {
    if (st.source && this.opts.fast) this.fastTick(st);
    else this.offer(st);
  }

  /** Moves a failing stage where the shell says (it re-creates it meanwhile); frames keep flowing. */
  private async fallBack(st: StageState, next: Promise<unknown>): Promise<void> {
    st.running = true; // keep it off its XPU while the new instance is made
    this.running++;
    try {
      const r = (await next) as { xpu: number; priority: number; group?: string } | undefined;
      if (r) {
        st.xpu = r.xpu;
        st.priority = r.priority;
        st.group = r.group;
        st.failures = 0;
      }
    } finally {
      st.running = false;
      this.running--;
      this.resume(st);
      this.drain();
    }
  }

  /** Frames still in the pipeline: due at a stopped source, or held in a trigger input that will never run. */
  inFlight(): number {
    let n = this.abandoned;
    for (const st of this.stages) for (const i of st.inputs) if (i.trigger) n += i.queue.length;
    return n;
  }

  private checkIdle(): void {
    if (!this.idleResolve || this.running > 0 || this.draining) return;
    for (const st of this.stages) {
      if (st.queued) return;
      if (st.source && !st.source.done) return;
    }
    if (this.ros2Open > 0) return;
    if (this.remoteOpen > 0 && !this.stopping) {
      this.hooks.quiet?.(this.remoteOpen);
      return;
    }
    const resolve = this.idleResolve;
    this.idleResolve = undefined;
    resolve();
  }
}

