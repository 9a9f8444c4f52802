// A pool of worker threads that run stage implementations: the `pool` XPU's workers, or the
// session thread of an onnxruntime XPU. Each worker holds its own instances of the stages
// placed on it; a call goes to an idle worker holding the stage, through shared memory
// (channel.ts) when its message is small, else by postMessage with its buffers transferred.
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { packageRoot } from '../util/paths.js';
import type { StateSnapshot } from '../xnode/state.js';
import type { FrameInfo, PortValues, StageResult } from '../xnode/types.js';
import { valueCodecModules } from '../xnode/codec.js';
import type { FromWorker, ToWorker, WorkerStageContext } from './worker-protocol.js';
import { bytesOf, channelMemory, COPY_LIMIT, MainEnd } from './channel.js';

const fromSource = import.meta.url.endsWith('.ts');
const NO_INPUTS: PortValues = Object.freeze({});
// The boot file is plain JS kept beside the sources; dist/ runs it from there too.
const BOOT = pathToFileURL(join(packageRoot(), 'runtime', 'xpu', 'worker-boot.mjs'));
const HOST = new URL(fromSource ? './worker-host.ts' : './worker-host.js', import.meta.url).href;

export interface PoolEvents {
  log(stageId: number, message: string): void;
  count(name: string, n: number): void;
  summary(section: string, data: Record<string, unknown>): void;
  /** A replaced worker holds its stages again: work waiting for it can be dispatched. */
  ready?(): void;
}

interface Pending {
  resolve(out: StageResult): void;
  reject(e: Error): void;
}

/** How an idle worker waits: asleep in Atomics.wait (default), or on its event loop. */
export type IdleWait = 'sleep' | 'loop';

/** How a run call's result comes back: called once, with the outputs or the error. */
export type RunDone = (out: StageResult, error?: Error) => void;

class PoolWorker {
  readonly worker: Worker;
  busy = false;
  readonly stages = new Set<number>();
  /** The stages whose instance here declares a state. */
  readonly stateful = new Set<number>();
  private readonly pending = new Map<number, Pending>();
  private readonly creating = new Map<number, Pending>();
  private readonly stateCalls = new Map<number, { resolve(s: StateSnapshot | undefined): void; reject(e: Error): void }>();
  private nextCall = 0;
  private dead?: Error;
  /** The run call in progress (one at a time) and whom to tell: no promise or map entry per call. */
  private runCall = -1;
  private runDone?: RunDone;
  /** Reused for every run request (a posted one is cloned, a slot one written out). */
  private readonly runMsg: Extract<ToWorker, { op: 'run' }> = { op: 'run', id: 0, call: 0, inputs: {}, frame: { seq: 0, t0: 0 } };

  /** Ended (crashed, exited, killed): calls to it fail until the pool replaces it. */
  get gone(): boolean {
    return this.dead !== undefined;
  }
  private readonly channel: MainEnd;
  /** The call now in the shared-memory slot (-1: none); one at a time. */
  private channelCall = -1;
  /** Set by the pool: the thread ended without being asked to. */
  onExit?: (why: Error) => void;
  private closing = false;

  constructor(
    readonly index: number,
    name: string,
    events: PoolEvents,
    private readonly shared: boolean,
    idle: IdleWait,
  ) {
    const mem = channelMemory();
    this.channel = new MainEnd(mem);
    this.worker = new Worker(BOOT, { workerData: { fromSource, host: HOST, channel: mem, idle }, name: `xauto-${name}-${index}` });
    this.channel.onResponse((m) => this.done(m));
    this.worker.on('message', (m: FromWorker) => {
      switch (m.op) {
        case 'done':
          this.done(m);
          return;
        case 'created':
          this.stages.add(m.id);
          if (m.state) this.stateful.add(m.id);
          this.creating.get(m.id)?.resolve(null);
          this.creating.delete(m.id);
          return;
        case 'state': {
          const c = this.stateCalls.get(m.call);
          this.stateCalls.delete(m.call);
          if (m.error !== undefined) c?.reject(new Error(m.error));
          else c?.resolve(m.state);
          return;
        }
        case 'failed':
          this.creating.get(m.id)?.reject(new Error(m.error));
          this.creating.delete(m.id);
          return;
        case 'log':
          events.log(m.id, m.message);
          return;
        case 'count':
          events.count(m.name, m.n);
          return;
        case 'summary':
          events.summary(m.section, m.data);
      }
    });
    this.worker.on('error', (e) => this.fail(e));
    this.worker.on('exit', (code) => {
      const why = this.dead ?? new Error(`${name} worker ${index} exited (code ${code})`);
      this.fail(why);
      if (!this.closing) this.onExit?.(why);
    });
  }

  private done(m: { call: number; outputs: StageResult; error?: string }): void {
    if (m.call === this.channelCall) this.channelCall = -1;
    if (m.call === this.runCall) {
      const cb = this.runDone!;
      this.endRun();
      if (m.error !== undefined) cb(null, new Error(m.error));
      else cb(m.outputs);
      return;
    }
    const p = this.pending.get(m.call);
    if (!p) return;
    this.pending.delete(m.call);
    if (m.error !== undefined) p.reject(new Error(m.error));
    else p.resolve(m.outputs);
  }

  private endRun(): void {
    this.runCall = -1;
    this.runDone = undefined;
    this.busy = false;
  }

  private fail(e: Error): void {
    this.channel.close();
    this.channelCall = -1;
    this.dead ??= e;
    const cb = this.runDone;
    if (cb) {
      this.endRun();
      cb(null, e);
    }
    for (const p of [...this.pending.values(), ...this.creating.values(), ...this.stateCalls.values()]) p.reject(e);
    this.pending.clear();
    this.creating.clear();
    this.stateCalls.clear();
  }

  private send(m: ToWorker, transfer?: ArrayBuffer[]): void {
    if (this.dead) throw this.dead;
    // Small runs go through shared memory (their few buffers copied); big ones move by transfer.
    // While a state call is on the port, runs follow it there: the worker takes them in order.
    if (this.shared && m.op === 'run' && this.channelCall < 0 && this.stateCalls.size === 0 && bytesOf(transfer) <= COPY_LIMIT && this.channel.send(m)) {
      this.channelCall = m.call;
      return;
    }
    this.worker.postMessage(m, transfer);
    this.channel.posted();
  }

  create(id: number, module: string, ctx: WorkerStageContext): Promise<void> {
    return new Promise<unknown>((resolve, reject) => {
      this.creating.set(id, { resolve, reject });
      this.send({ op: 'create', id, module, ctx, codecs: valueCodecModules() });
    }).then(() => undefined);
  }

  /** Snapshot or restore of a stage's declared state, after every call sent to this worker before it. */
  state(m: { op: 'snapshot'; id: number } | { op: 'restore'; id: number; state: StateSnapshot }): Promise<StateSnapshot | undefined> {
    const call = this.nextCall++;
    return new Promise((resolve, reject) => {
      this.stateCalls.set(call, { resolve, reject });
      try {
        this.send({ ...m, call });
      } catch (e) {
        this.stateCalls.delete(call);
        reject(e as Error);
      }
    });
  }

  async terminate(): Promise<void> {
    this.closing = true;
    this.channel.close();
    await this.worker.terminate();
  }

  /** Ends a stuck thread: its calls fail, and the pool replaces it. */
  kill(why: Error): void {
    this.dead ??= why;
    this.channel.close();
    void this.worker.terminate();
  }

  /** Starts a run call (the worker must be idle); `done` is called once, never synchronously. */
  run(id: number, inputs: PortValues, frame: FrameInfo, transfer: ArrayBuffer[] | undefined, done: RunDone): void {
    const m = this.runMsg;
    m.id = id;
    m.call = this.nextCall++;
    m.inputs = inputs;
    m.frame = frame;
    this.busy = true;
    this.runCall = m.call;
    this.runDone = done;
    try {
      this.send(m, transfer);
    } catch (e) {
      this.endRun();
      queueMicrotask(() => done(null, e as Error));
    } finally {
      m.inputs = NO_INPUTS; // not kept alive here
    }
  }

  call(m: { op: 'finish'; id: number }): Promise<StageResult> {
    const call = this.nextCall++;
    return new Promise((resolve, reject) => {
      this.pending.set(call, { resolve, reject });
      try {
        this.send({ ...m, call });
      } catch (e) {
        this.pending.delete(call);
        reject(e as Error);
      }
    });
  }
}

export class WorkerPool {
  private readonly workers: PoolWorker[];
  private rr = 0;
  /** Every stage created, and where (a worker index, or all): a replaced worker gets them again. */
  private readonly made: Array<{ id: number; module: string; ctx: WorkerStageContext; on: number }> = [];
  private readonly restarts: number[];
  private closed = false;
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(
    readonly size: number,
    private readonly events: PoolEvents,
    /** Names the threads (`xauto-<name>-<i>`), e.g. the XPU id. */
    private readonly name = 'pool',
    /** Small calls through shared memory (default); false: every call by postMessage. */
    private readonly sharedMemory = true,
    /** How idle workers wait (worker-host.ts); 'loop' only to compare against. */
    private readonly idle: IdleWait = 'sleep',
  ) {
    this.workers = Array.from({ length: size }, (_, i) => this.spawn(i));
    this.restarts = new Array<number>(size).fill(0);
  }

  private spawn(index: number): PoolWorker {
    const w = new PoolWorker(index, this.name, this.events, this.sharedMemory, this.idle);
    w.onExit = (why) => this.replace(index, why);
    return w;
  }

  /**
   * A worker that crashed, exited or was killed comes back after a backoff (50 ms, doubling to
   * 2 s) with every stage it held created again; restarts are counted.
   */
  private replace(index: number, why: Error): void {
    if (this.closed) return;
    const delay = Math.min(2000, 50 * 2 ** this.restarts[index]!++);
    this.events.count('exec.worker_restarts', 1);
    const first = this.made.find((m) => m.on < 0 || m.on === index);
    if (first) this.events.log(first.id, `${why.message}; restarting ${this.name} worker ${index} in ${delay} ms`);
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (this.closed) return;
      const w = this.spawn(index);
      this.workers[index] = w;
      const again = this.made
        .filter((m) => m.on < 0 || m.on === index)
        .map((m) => w.create(m.id, m.module, m.ctx).catch((e: Error) => this.events.log(m.id, `re-creating it on ${this.name} worker ${index} failed: ${e.message}`)));
      void Promise.all(again).then(() => this.events.ready?.());
    }, delay);
    this.timers.add(timer);
  }

  /**
   * Creates a stage in the pool: on every worker, or on one (stateful stages are pinned so
   * their state stays in one place). Resolves when all instances exist.
   */
  async createStage(id: number, module: string, ctx: WorkerStageContext, pinned: boolean): Promise<void> {
    const on = pinned ? this.rr++ % this.size : -1;
    this.made.push({ id, module, ctx, on });
    const targets = on >= 0 ? [this.workers[on]!] : this.workers;
    await Promise.all(targets.map((w) => w.create(id, module, ctx)));
  }

  /** An idle worker that holds the stage, or -1. */
  idleWorkerFor(id: number): number {
    for (const w of this.workers) if (!w.busy && !w.gone && w.stages.has(id)) return w.index;
    return -1;
  }

  /**
   * Starts one call on worker `index` (which must be idle); buffers in `transfer` move. `done`
   * gets the outputs or the error, once, from the response itself (the executor's path: no
   * promise in between).
   */
  start(index: number, id: number, inputs: PortValues, frame: FrameInfo, transfer: ArrayBuffer[] | undefined, done: RunDone): void {
    this.workers[index]!.run(id, inputs, frame, transfer, done);
  }

  /** start() as a promise. */
  run(index: number, id: number, inputs: PortValues, frame: FrameInfo, transfer?: ArrayBuffer[]): Promise<StageResult> {
    return new Promise((resolve, reject) => this.start(index, id, inputs, frame, transfer, (out, e) => (e ? reject(e) : resolve(out))));
  }

  /** Ends worker `index` (stuck past a deadline); it is replaced as after a crash. */
  kill(index: number, why: Error): void {
    this.workers[index]?.kill(why);
  }

  /** The worker holding a pinned (stateful) stage whose instance declares a state. */
  private stateHolder(id: number): PoolWorker | undefined {
    const on = this.made.find((m) => m.id === id)?.on ?? -1;
    const w = on >= 0 ? this.workers[on] : undefined;
    return w?.stateful.has(id) ? w : undefined;
  }

  /** Whether the stage's instance (pinned to one worker) declares a state. */
  hasState(id: number): boolean {
    return this.stateHolder(id) !== undefined;
  }

  /**
   * A copy of the stage's declared state, taken in its worker once the calls sent there before
   * this one are done (ask between two of its jobs: as of the end of the last); its arrays
   * come back moved, not copied.
   */
  async snapshotState(id: number): Promise<StateSnapshot> {
    const w = this.stateHolder(id);
    if (!w) throw new Error(`stage ${id} has no state on the ${this.name} workers`);
    return (await w.state({ op: 'snapshot', id }))!;
  }

  /** Puts a snapshot back into the stage's instance in its worker (a copy goes there). */
  async restoreState(id: number, state: StateSnapshot): Promise<void> {
    const w = this.stateHolder(id);
    if (!w) throw new Error(`stage ${id} has no state on the ${this.name} workers`);
    await w.state({ op: 'restore', id, state });
  }

  /** Calls finish() and close() of the stage on every worker holding it. */
  async finishStage(id: number): Promise<void> {
    await Promise.all(this.workers.filter((w) => w.stages.has(id)).map((w) => w.call({ op: 'finish', id })));
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
