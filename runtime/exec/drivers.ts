// The XPU drivers of the real executor: a stage runs as a call on the event loop (main), a
// promise from native addon threads or the device, or a call to the thread that holds its
// instance (the worker pool, an onnxruntime EP's session thread). Instances are made here,
// once per placement, and remade on runtime fallback. Device-resident tensors are looked after
// here (device-tensors.ts): pinned per subscriber until each took or dropped them, downloaded at
// the device's edge for host consumers, and every host<->device copy traced.
import type { Graph } from '../graph/graph.js';
import { counters } from '../trace/counters.js';
import { WorkerPool } from '../xpu/pool.js';
import { threadContext } from '../xpu/worker-protocol.js';
import { transferables } from '../xpu/transfer.js';
import type { XpuInfo } from '../xpu/types.js';
import { stateOf, type StageState } from '../xnode/state.js';
import { runsOnThread, type ImplContext, type ImplSpec, type PortValues, type StageFn, type StageInstance, type StageResult } from '../xnode/types.js';
import type { CoreSub, Done, Driver, Envelope, Job, Topology } from './core/types.js';
import { DeviceTensors, type InputView, type RecordTransfer } from './device-tensors.js';
import type { MessageCodec } from './executor.js';

interface Placed {
  impl: ImplSpec;
  xpu: number;
  fn?: StageFn;
  instance?: StageInstance;
}

export class HostDriver implements Driver {
  readonly placed: Placed[] = [];
  readonly sections: Record<string, Record<string, unknown>> = {};
  /** Called when a thread-owning XPU can take work again (a worker was replaced). */
  onReady?: (xpu: number) => void;
  /** Per stage: the nice its jobs run at on threads (exec/thread-priorities.ts; unlisted: 0). */
  nice: readonly number[] = [];
  /** Per XPU: its threads (thread-owning XPUs), started on first use. */
  private readonly threads: Array<WorkerPool | undefined>;
  /** Device tensors in messages: pins, edge downloads, transfer trace. */
  readonly tensors: DeviceTensors;

  constructor(
    private readonly graph: Graph,
    private readonly xpus: XpuInfo[],
    private readonly topo: Topology,
    private readonly log: (line: string) => void,
    private readonly codec?: MessageCodec,
  ) {
    this.threads = xpus.map(() => undefined);
    this.tensors = new DeviceTensors(graph, topo);
  }

  /**
   * Keeps each device tensor's ring slot until every subscriber took or dropped its message;
   * `inputs` shows the dispatch core's input queues (the executor passes them).
   */
  trackDeviceTensors(inputs: (stage: number, input: number) => InputView): void {
    this.tensors.track(inputs);
  }

  /** Traces every host<->device copy a stage makes, with its bytes and frame (real time only). */
  traceTransfers(record: RecordTransfer): void {
    this.tensors.trace(record);
  }

  slot(stage: number, xpu: number): number {
    return this.threads[xpu]?.idleWorkerFor(stage) ?? -1;
  }

  decode(_stage: number, _input: number, env: Envelope): unknown {
    return this.codec!.decode(env.encoded!, env.value as Uint8Array);
  }

  encode(stage: number, output: number, _sub: CoreSub, value: unknown): unknown {
    return this.codec!.encode(this.topo.stages[stage]!.outputs[output]!.type, value);
  }

  start(job: Job, done: Done): void {
    const p = this.placed[job.stage]!;
    if (this.tensors.active) {
      this.tensors.starting(job, p.impl, p.xpu);
      const inner = done;
      done = (o, e) => {
        if (o && e === undefined) this.tensors.produced(job.stage, o);
        inner(o, e);
        this.tensors.ended(job);
      };
    }
    if (runsOnThread(p.impl)) {
      // The result comes straight from the worker's response: no promise layer per hop.
      this.threads[p.xpu]!.start(job.worker, job.stage, job.inputs, job.frame, this.movable(job.stage, job.inputs), done);
      return;
    }
    let out: StageResult | Promise<StageResult>;
    try {
      out = p.fn!(job.inputs, job.frame);
    } catch (e) {
      done(null, e ?? new Error('threw'));
      return;
    }
    if (out instanceof Promise) {
      out.then(
        (o) => done(o),
        (e: unknown) => done(null, e ?? new Error('rejected')),
      );
    } else done(out);
  }

  /** The state a stage's instance declares, here or in the worker that holds it (undefined: none). */
  state(stage: number): StageState | undefined {
    const p = this.placed[stage];
    if (!p) return undefined;
    if (!runsOnThread(p.impl)) return stateOf(p.instance);
    const pool = this.threads[p.xpu];
    if (!pool?.hasState(stage)) return undefined;
    return { thread: true, snapshot: () => pool.snapshotState(stage), restore: (s) => pool.restoreState(stage, s) };
  }

  /** Past its deadline: a worker still running it is stuck and is replaced (its pool restarts it). */
  abort(job: Job): void {
    this.tensors.ended(job);
    const p = this.placed[job.stage];
    if (p && runsOnThread(p.impl) && job.worker >= 0) this.threads[p.xpu]?.kill(job.worker, new Error(`worker stuck in '${this.graph.stages[job.stage]!.name}'`));
  }

  /** Buffers a worker may take: those of messages no other stage also received. */
  private movable(stage: number, inputs: PortValues): ArrayBuffer[] | undefined {
    let list: ArrayBuffer[] | undefined;
    for (const input of this.topo.stages[stage]!.inputs) {
      if (input.latched || this.fanout(input.topic) !== 1) continue;
      const v = inputs[input.port];
      if (v !== undefined) list = transferables(v, list ?? []);
    }
    return list;
  }

  private fanout(topic: string): number {
    return this.graph.topics.get(topic)?.subscribers.length ?? 1;
  }

  /** `priority` is the plan's (critical-path priorities included), not the launch file's. */
  private context(stage: number, impl: ImplSpec, xpu: XpuInfo, priority: number, nice: number): ImplContext {
    const s = this.graph.stages[stage]!;
    return {
      name: s.name,
      type: s.def.type,
      impl: impl.name,
      xpu: xpu.id,
      executionProvider: xpu.executionProvider,
      params: s.params,
      priority,
      nice,
      log: (m) => this.log(`[${s.name}] ${m}`),
      count: (name, n = 1) => counters.add(name, n),
      summary: (section, data) => this.addSection(section, data),
    };
  }

  private threadsOf(xpu: number): WorkerPool {
    const info = this.xpus[xpu]!;
    return (this.threads[xpu] ??= new WorkerPool(
      info.lanes,
      {
        log: (id, m) => this.log(`[${this.graph.stages[id]!.name}] ${m}`),
        count: (name, n) => counters.add(name, n),
        summary: (section, data) => this.addSection(section, data),
        ready: () => this.onReady?.(xpu),
      },
      info.id,
    ));
  }

  /** Makes the instance of `stage` as `impl` on XPU `xpu` at the plan's `priority` (replacing any before). */
  async instantiate(stage: number, impl: ImplSpec, xpu: number, priority: number): Promise<void> {
    const p: Placed = { impl, xpu };
    if (impl.backend === 'device') this.tensors.deviceStages++;
    this.placed[stage] = p;
    const ctx = this.context(stage, impl, this.xpus[xpu]!, priority, this.nice[stage] ?? 0);
    if (runsOnThread(impl)) {
      await this.threadsOf(xpu).createStage(stage, impl.module, threadContext(ctx), !!this.graph.stages[stage]!.def.stateful);
      return;
    }
    const made = await impl.create(ctx);
    if (typeof made === 'function') p.fn = made;
    else {
      p.instance = made;
      p.fn = made.process.bind(made);
    }
  }

  /** Releases a replaced instance (fallback). */
  async discard(stage: number): Promise<void> {
    await this.placed[stage]?.instance?.close?.();
  }

  /** Calls finish() then close() on the stage's instance(s). */
  async finish(stage: number): Promise<void> {
    const p = this.placed[stage];
    if (!p) return;
    if (runsOnThread(p.impl)) await this.threads[p.xpu]!.finishStage(stage);
    else {
      await p.instance?.finish?.();
      await p.instance?.close?.();
    }
  }

  async close(): Promise<void> {
    // What left its inputs after the last job (virtual time delivers and drops after it) goes first.
    this.tensors.settle();
    const st = this.tensors.stats;
    if (st && st.pinned > 0) this.addSection('device_tensors', { ...st, left_at_stop: this.tensors.outstanding });
    this.tensors.close();
    await Promise.all(this.threads.map((t) => t?.close()));
  }

  addSection(section: string, data: Record<string, unknown>): void {
    this.sections[section] = { ...(this.sections[section] ?? {}), ...data };
  }
}
