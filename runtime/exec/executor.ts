// The executor: runs a plan on this host's XPUs. Sources emit frames; a stage runs when its
// trigger inputs hold fresh messages; ready stages wait at their XPU, highest priority first;
// inputs are taken when the stage actually starts (late binding: always the freshest data).
// Keep-last input queues drop the oldest message when full (ROS2 QoS history), and count it.
import { performance } from 'node:perf_hooks';
import type { Graph, Stage, Topic } from '../graph/graph.js';
import { counters } from '../trace/counters.js';
import { EventKind, Tracer } from '../trace/tracer.js';
import type { ExecFacts } from '../trace/report.js';
import { WorkerPool } from '../xpu/pool.js';
import { threadContext } from '../xpu/worker-protocol.js';
import { transferables } from '../xpu/transfer.js';
import type { XpuInfo } from '../xpu/types.js';
import { runsOn } from '../xpu/types.js';
import { runsOnThread, type FrameInfo, type ImplContext, type ImplSpec, type PortValues, type StageFn, type StageInstance, type StageResult } from '../xnode/types.js';
import { tickDueSources, type ClockSource } from './clock.js';
import type { ExecPlan, StagePlacement } from './plan.js';
import type { RemoteLinks, RemoteSender } from './remote.js';

/** Encodes messages crossing module boundaries (the ROS2-style baseline), e.g. CDR. */
export interface MessageCodec {
  encode(type: string, msg: unknown): Uint8Array;
  decode(type: string, bytes: Uint8Array): unknown;
}

/** Connects topics bound with `ros2: in|out` to ROS2. */
export interface TopicBridge {
  publisher(topic: string, type: string, qos: string): (msg: unknown) => void;
  subscribe(topic: string, type: string, qos: string, onMessage: (msg: unknown) => void): () => void;
}

export interface ExecOptions {
  xpus: XpuInfo[];
  /** Frames per source, emitted as fast as the pipeline takes them (lossless: backpressure). */
  frames?: number;
  /** Run at the sources' rates for this long (seconds). */
  durationS?: number;
  /** With `frames`: keep the sources' rates instead of running as fast as possible. */
  realtime?: boolean;
  tracer?: Tracer;
  codec?: MessageCodec;
  bridge?: TopicBridge;
  log?: (line: string) => void;
  /**
   * Runs only these stages (one process of a multi-process launch); topics between them and
   * stages elsewhere go through `links`.
   */
  local?: { stages: Set<number>; links: RemoteLinks };
  /** Sees every message published on a topic (profiling samples, recording). */
  tap?: (topic: string, value: unknown, seq: number) => void;
  /** Replacement placement for a stage whose implementation failed (runtime fallback). */
  fallback?: (stage: number, failed: StagePlacement) => StagePlacement | undefined;
  /**
   * The first frames of each source run through the pipeline but are not traced: threads,
   * sessions and caches made for this run settle before anything is measured.
   */
  settle?: number;
}

interface Envelope {
  value: unknown;
  /** performance.now() of the oldest source data behind it. */
  t0: number;
  seq: number;
  /** Set when `value` holds encoded bytes of this message type. */
  encoded?: string;
}

/** Frames a joining stage keeps per input while waiting for the same frame on the others. */
const SYNC_WINDOW = 8;

class InputRt {
  readonly queue: Envelope[] = [];
  latest: Envelope | null = null;
  drops = 0;
  /** Stages publishing the topic (for backpressure). */
  producers: StageRt[] = [];
  /** Per producer: the newest frame it has finished, whether or not it published on it. */
  done: number[] = [];
  /** Newest frame number pushed here. */
  seen = -Infinity;
  /** Subscribers of the topic in total: a worker may take the buffers only when it is the only one. */
  fanout = 1;

  constructor(
    readonly port: string,
    readonly type: string,
    public depth: number,
    readonly latched: boolean,
    readonly trigger: boolean,
  ) {}

  push(env: Envelope): void {
    if (this.latched) {
      this.latest = env;
      return;
    }
    if (env.seq > this.seen) this.seen = env.seq;
    if (this.queue.length >= this.depth) {
      this.queue.shift();
      this.drops++;
    }
    this.queue.push(env);
  }

  take(): Envelope | undefined {
    if (this.latched) return this.latest ?? undefined;
    return this.queue.shift();
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
    if (this.queue.some((e) => e.seq === seq)) return false;
    if (this.seen > seq) return true;
    if (this.done.length === 0) return false;
    for (const d of this.done) if (d < seq) return false;
    return true;
  }
}

interface Subscriber {
  rt: StageRt;
  input: InputRt;
  crossModule: boolean;
  /** This publisher's index in `input.producers`. */
  producer: number;
}

interface OutputRt {
  port: string;
  topic: string;
  type: string;
  subscribers: Subscriber[];
  ros2?: (msg: unknown) => void;
  /** Subscribers in other processes. */
  remote?: RemoteSender;
}

interface XpuRt {
  info: XpuInfo;
  index: number;
  busy: number;
  queue: StageRt[];
  dirty: boolean;
  busyMs: number;
  /** The event loop yielded before its next stage (setImmediate pending). */
  yielding?: boolean;
  /** XPUs that own threads (the worker pool, an onnxruntime EP): those threads, once used. */
  threads?: WorkerPool;
}

interface StageRt {
  s: Stage;
  placement: StagePlacement;
  impl: ImplSpec;
  xpu: XpuRt;
  fn?: StageFn;
  instance?: StageInstance;
  inputs: InputRt[];
  outputs: OutputRt[];
  running: boolean;
  queued: boolean;
  readySince: number;
  isSink: boolean;
  failures: number;
  /**
   * Trigger inputs are joined by source frame number (like message_filters' exact-time sync):
   * set when every trigger input descends from sources of one rate, so frame k of each meets.
   */
  syncBySeq: boolean;
  /** The trigger inputs (not latched, not optional). */
  triggers: InputRt[];
  /** Sources. */
  source?: SourceRt;
}

interface SourceRt extends ClockSource {
  rt: StageRt;
  period: number;
  emitted: number;
  limit: number;
  pendingTicks: number;
  tickT0: number;
  tickSeq: number;
  overruns: number;
  done: boolean;
  scheduled: boolean;
}

export class Executor {
  readonly tracer: Tracer;
  private readonly stages: StageRt[] = [];
  private readonly xpus: XpuRt[] = [];
  private readonly dirty: XpuRt[] = [];
  private draining = false;
  private running = 0;
  private stopping = false;
  private started = 0;
  /** Sink completions. */
  private completed = 0;
  private finished = 0;
  private readonly fast: boolean;
  private idleResolve?: () => void;
  private readonly unsubscribe: Array<() => void> = [];
  /** Exclusive groups with a stage running now. */
  private readonly busyGroups = new Set<string>();
  /** Topics received from other processes that have not ended yet. */
  private remoteOpen = 0;
  /** Topics received from ROS2: they keep the run going until the duration ends or stop(). */
  private ros2Open = 0;
  private readonly senders: RemoteSender[] = [];
  private readonly sections: Record<string, Record<string, unknown>> = {};
  /** Sources ticking at their rates, and the one timer that serves them all. */
  private readonly timedSources: SourceRt[] = [];
  private clock?: NodeJS.Timeout;
  private readonly errors: number[];
  private readonly runs: number[];
  private readonly log: (line: string) => void;

  constructor(
    readonly graph: Graph,
    readonly plan: ExecPlan,
    private readonly opts: ExecOptions,
  ) {
    this.tracer = opts.tracer ?? new Tracer(graph.stages.length);
    this.fast = opts.frames !== undefined && !opts.realtime && opts.durationS === undefined;
    this.log = opts.log ?? ((l) => process.stderr.write(l + '\n'));
    this.errors = graph.stages.map(() => 0);
    this.runs = graph.stages.map(() => 0);
    if (plan.placements.length !== graph.stages.length) {
      throw new Error(`plan '${plan.name}' places ${plan.placements.length} stages; the graph has ${graph.stages.length}`);
    }
  }

  /** Creates every stage instance on its XPU and wires topics. */
  async start(): Promise<void> {
    const xpuById = new Map(this.opts.xpus.map((x, index) => [x.id, { info: x, index, busy: 0, queue: [], dirty: false, busyMs: 0 } as XpuRt]));
    for (const x of xpuById.values()) this.xpus.push(x);
    for (const s of this.graph.stages) {
      const placement = this.plan.placements[s.index]!;
      const xpu = xpuById.get(placement.xpu);
      const impl = s.impls.find((i) => i.name === placement.impl);
      if (!xpu) throw new Error(`plan '${this.plan.name}' puts '${s.name}' on unknown XPU '${placement.xpu}'`);
      if (!impl) throw new Error(`plan '${this.plan.name}' uses unknown implementation '${placement.impl}' of '${s.name}'`);
      if (!xpu.info.real) throw new Error(`'${s.name}' is placed on '${xpu.info.id}', a simulated XPU: plans with simulated XPUs can only be simulated`);
      if (!runsOn(impl, xpu.info)) throw new Error(`implementation '${impl.name}' of '${s.name}' (${impl.backend}/${impl.xpu}) cannot run on XPU '${xpu.info.id}'`);
      const inputs = s.inputs.map(
        (i) => new InputRt(i.port, i.spec.type, Math.max(1, i.spec.depth ?? 1), !!i.spec.latched, !i.spec.latched && !i.spec.optional),
      );
      this.stages.push({
        s,
        placement,
        impl,
        xpu,
        inputs,
        outputs: [],
        running: false,
        queued: false,
        readySince: 0,
        isSink: true,
        failures: 0,
        syncBySeq: false,
        triggers: inputs.filter((i) => i.trigger),
      });
    }
    this.wire();
    await Promise.all(this.stages.filter((rt) => this.isLocal(rt)).map((rt) => this.instantiate(rt)));
    await this.opts.local?.links.connected();
  }

  private isLocal(rt: StageRt): boolean {
    return !this.opts.local || this.opts.local.stages.has(rt.s.index);
  }

  private wire(): void {
    const links = this.opts.local?.links;
    for (const rt of this.stages) {
      if (!this.isLocal(rt)) {
        if (rt.s.inputs.length === 0) rt.source = { rt, period: 0, emitted: 0, limit: 0, pendingTicks: 0, tickT0: 0, tickSeq: 0, overruns: 0, done: true, scheduled: false };
        continue;
      }
      rt.outputs = rt.s.outputs.map((o) => {
        const topic = this.graph.topics.get(o.topic)!;
        const elsewhere = topic.subscribers.filter(({ stage }) => !this.isLocal(this.stages[stage]!)).map(({ stage }) => this.stages[stage]!.s.process);
        const subscribers = this.localInputs(topic).map(({ rt: sub, input }) => {
          const producer = input.producers.push(rt) - 1;
          input.done.push(-Infinity);
          input.fanout = topic.subscribers.length;
          return { rt: sub, input, producer, crossModule: !!this.plan.serializeBetweenModules && sub.s.module !== rt.s.module };
        });
        const out: OutputRt = { port: o.port, topic: o.topic, type: o.spec.type, subscribers };
        if (topic.ros2?.dir === 'out' && this.opts.bridge) out.ros2 = this.opts.bridge.publisher(topic.name, topic.type, topic.ros2.qos);
        if (links && elsewhere.length) {
          out.remote = links.sender(topic.name, topic.type, new Set(elsewhere).size);
          this.senders.push(out.remote);
        }
        return out;
      });
      rt.isSink = rt.outputs.every((o) => o.subscribers.length === 0 && !o.remote);
      if (rt.s.inputs.length === 0) {
        const limit = this.opts.frames ?? Infinity;
        const period = rt.s.rateHz > 0 ? 1000 / rt.s.rateHz : 0;
        rt.source = { rt, period, emitted: 0, limit, pendingTicks: 0, tickT0: 0, tickSeq: 0, overruns: 0, done: false, scheduled: false };
      }
    }
    this.decideSync();
    // Topics published in other processes arrive through the links.
    if (links) {
      for (const topic of this.graph.topics.values()) {
        const targets = this.localInputs(topic);
        if (!targets.length || topic.publishers.every(({ stage }) => this.isLocal(this.stages[stage]!))) continue;
        this.remoteOpen++;
        this.unsubscribe.push(
          links.receive(
            topic.name,
            (value, t0, seq) => {
              const env: Envelope = { value, t0, seq };
              for (const { rt, input } of targets) this.deliver(rt, input, env);
              this.drain();
            },
            () => {
              this.remoteOpen--;
              this.checkIdle();
            },
          ),
        );
      }
    }
    // Topics fed from ROS2 enter the graph as if a publisher sent them.
    if (this.opts.bridge) {
      for (const topic of this.graph.topics.values()) {
        if (topic.ros2?.dir !== 'in') continue;
        const subs = this.localInputs(topic);
        if (!subs.length) continue;
        let seq = 0;
        this.ros2Open++;
        this.unsubscribe.push(
          this.opts.bridge.subscribe(topic.name, topic.type, topic.ros2.qos, (msg) => {
            if (this.stopping || this.ros2Open === 0) return;
            const env: Envelope = { value: msg, t0: performance.now(), seq: seq++ };
            for (const { rt, input } of subs) this.deliver(rt, input, env);
            this.drain();
          }),
        );
      }
    }
  }

  /** The inputs of this process's stages that subscribe to `topic`. */
  private localInputs(topic: Topic): Array<{ rt: StageRt; input: InputRt }> {
    return topic.subscribers
      .filter(({ stage }) => this.isLocal(this.stages[stage]!))
      .map(({ stage, port }) => {
        const rt = this.stages[stage]!;
        return { rt, input: rt.inputs[rt.s.inputs.findIndex((i) => i.port === port)]! };
      });
  }

  /** Which multi-input stages join their inputs by source frame number (see syncBySeq). */
  private decideSync(): void {
    const sources = new Map<number, Set<number>>(); // stage -> sources upstream of it (memo)
    const fromRos = new Set<string>([...this.graph.topics.values()].filter((t) => t.ros2?.dir === 'in').map((t) => t.name));
    const upstream = (stage: number): Set<number> => {
      let set = sources.get(stage);
      if (set) return set;
      set = new Set();
      sources.set(stage, set);
      const st = this.graph.stages[stage]!;
      if (st.inputs.length === 0) set.add(stage);
      for (const i of st.inputs) {
        if (i.spec.latched) continue;
        if (fromRos.has(i.topic)) set.add(-1); // no source frame numbers from ROS2
        for (const p of this.graph.topics.get(i.topic)!.publishers) for (const x of upstream(p.stage)) set.add(x);
      }
      return set;
    };
    for (const rt of this.stages) {
      const triggers = rt.s.inputs.filter((i) => !i.spec.latched && !i.spec.optional);
      if (triggers.length < 2) continue;
      const srcs = [...upstream(rt.s.index)];
      if (srcs.includes(-1) || srcs.length === 0) continue;
      const periods = new Set(srcs.map((x) => (this.fast ? 0 : this.graph.stages[x]!.rateHz)));
      rt.syncBySeq = periods.size === 1;
      // Frames of one number reach a join at different times: keep a window of them to pair.
      // (Fast mode needs none: backpressure keeps the branches in step without drops.)
      if (rt.syncBySeq && !this.fast) for (const i of rt.triggers) i.depth = Math.max(i.depth, SYNC_WINDOW);
    }
  }

  private context(rt: StageRt): ImplContext {
    return {
      name: rt.s.name,
      type: rt.s.def.type,
      impl: rt.impl.name,
      xpu: rt.xpu.info.id,
      executionProvider: rt.xpu.info.executionProvider,
      params: rt.s.params,
      priority: rt.s.priority,
      log: (m) => this.log(`[${rt.s.name}] ${m}`),
      count: (name, n = 1) => counters.add(name, n),
      summary: (section, data) => this.addSection(section, data),
    };
  }

  /** The threads of a thread-owning XPU, started on first use. */
  private threadsOf(x: XpuRt): WorkerPool {
    x.threads ??= new WorkerPool(
      x.info.lanes,
      {
        log: (id, m) => this.log(`[${this.graph.stages[id]!.name}] ${m}`),
        count: (name, n) => counters.add(name, n),
        summary: (section, data) => this.addSection(section, data),
      },
      x.info.id,
    );
    return x.threads;
  }

  private async instantiate(rt: StageRt): Promise<void> {
    const ctx = this.context(rt);
    if (runsOnThread(rt.impl)) {
      await this.threadsOf(rt.xpu).createStage(rt.s.index, rt.impl.module, threadContext(ctx), !!rt.s.def.stateful);
      return;
    }
    const made = await rt.impl.create(ctx);
    if (typeof made === 'function') rt.fn = made;
    else {
      rt.instance = made;
      rt.fn = made.process.bind(made);
    }
  }

  private addSection(section: string, data: Record<string, unknown>): void {
    this.sections[section] = { ...(this.sections[section] ?? {}), ...data };
  }

  /** Runs until the frame budget or duration is used up, or stop() is called. */
  async run(): Promise<void> {
    this.started = performance.now();
    const idle = new Promise<void>((resolve) => (this.idleResolve = resolve));
    // Messages from ROS2 or other processes may have arrived while stages were being made.
    for (const rt of this.stages) if (!rt.source) this.offer(rt);
    for (const rt of this.stages) {
      if (!rt.source) continue;
      if (this.fast || rt.source.period === 0) this.fastTick(rt);
      else this.timedSources.push(rt.source);
    }
    this.tickSources();
    let deadline: NodeJS.Timeout | undefined;
    if (this.opts.durationS !== undefined) deadline = setTimeout(() => this.stopSources(), this.opts.durationS * 1000);
    this.drain();
    await idle;
    if (deadline) clearTimeout(deadline);
    this.finished = performance.now();
  }

  /**
   * Stops everything: local sources, and waiting for other processes' frames. run() resolves
   * once the frames in flight have left the pipeline.
   */
  stop(): void {
    if (this.stopping) return;
    this.stopping = true;
    this.stopSources();
  }

  /** Stops the local sources (the duration is over); frames from other processes still come. */
  private stopSources(): void {
    this.ros2Open = 0;
    for (const rt of this.stages) {
      if (!rt.source) continue;
      rt.source.done = true;
      rt.source.pendingTicks = 0;
    }
    if (this.clock) clearTimeout(this.clock);
    this.drain();
  }

  /**
   * The source clock (clock.ts): every source due when the timer fires ticks before anything
   * runs, so ready work starts in priority order across sources (a source whose stage runs on
   * the event loop cannot hold back another's dispatch).
   */
  private tickSources(): void {
    const next = tickDueSources(this.timedSources, this.started, performance.now(), (src, due, seq) => {
      const rt = src.rt;
      // A frame is captured when it is due: a timer that fires late (a busy event loop) adds
      // to its latency instead of hiding it.
      if (rt.running || rt.queued || src.pendingTicks > 0) {
        src.overruns++; // the source's XPU has not served the last tick: this frame is lost
        counters.add('exec.source_overruns');
      } else {
        src.pendingTicks = 1;
        src.tickT0 = due;
        src.tickSeq = seq;
        this.offer(rt);
      }
    });
    if (next !== Infinity) this.clock = setTimeout(() => this.tickSources(), Math.max(0, next - performance.now()));
    this.drain();
  }

  /** Fast mode: the next frame is emitted once the previous one was taken downstream. */
  private fastTick(rt: StageRt): void {
    const src = rt.source!;
    if (src.done || src.scheduled || src.pendingTicks > 0 || rt.running || rt.queued) return;
    if (src.emitted >= src.limit) {
      src.done = true;
      this.checkIdle();
      return;
    }
    if (this.outputsFull(rt)) return;
    src.scheduled = true;
    setImmediate(() => {
      src.scheduled = false;
      if (src.done) return;
      src.tickSeq = src.emitted++;
      src.pendingTicks = 1;
      src.tickT0 = performance.now();
      this.offer(rt);
      this.drain();
    });
  }

  private outputsFull(rt: StageRt): boolean {
    for (const o of rt.outputs) for (const sub of o.subscribers) if (sub.input.full) return true;
    return false;
  }

  private isReady(rt: StageRt): boolean {
    if (rt.running || rt.queued) return false;
    if (rt.source) return rt.source.pendingTicks > 0;
    if (rt.syncBySeq && !this.alignBySeq(rt)) return false;
    let triggered = false;
    for (const i of rt.inputs) {
      if (i.trigger) {
        if (i.queue.length === 0) return false;
        triggered = true;
      } else if (i.latched && i.latest === null && !rt.s.def.inputs[i.port]!.optional) return false;
    }
    if (!triggered) return false;
    return !(this.fast && this.outputsFull(rt));
  }

  /**
   * Joins the trigger queues on frame number, freshest frame first: finds the newest frame
   * present on every trigger input and drops what can no longer meet its frame (older than
   * that, or already passed by another input), counting the drops. True when the head of
   * every trigger queue is that frame.
   */
  private alignBySeq(rt: StageRt): boolean {
    const triggers = rt.triggers;
    let common = -Infinity;
    if (triggers.every((i) => i.queue.length > 0)) {
      const first = triggers[0]!.queue;
      for (let k = first.length - 1; k >= 0 && common === -Infinity; k--) {
        const seq = first[k]!.seq;
        if (triggers.every((i) => i.queue.some((e) => e.seq === seq))) common = seq;
      }
    }
    for (const i of triggers) {
      for (let k = 0; k < i.queue.length; ) {
        const seq = i.queue[k]!.seq;
        const stale = seq < common || (common === -Infinity && triggers.some((o) => o !== i && o.gone(seq)));
        if (!stale) {
          k++;
          continue;
        }
        i.queue.splice(k, 1);
        i.drops++;
        counters.add('exec.sync_drops');
        if (this.fast) for (const p of i.producers) this.offerLater(p);
      }
    }
    return common !== -Infinity;
  }

  /** Queues the stage at its XPU if it is ready. */
  private offer(rt: StageRt): void {
    // Before run() inputs only queue (keep-last): no stage starts before every stage exists.
    if (this.started === 0 || !this.isReady(rt)) return;
    rt.queued = true;
    rt.readySince = performance.now();
    const q = rt.xpu.queue;
    let i = q.length;
    while (i > 0 && q[i - 1]!.placement.priority < rt.placement.priority) i--;
    q.splice(i, 0, rt);
    this.markDirty(rt.xpu);
  }

  private markDirty(x: XpuRt): void {
    if (x.dirty) return;
    x.dirty = true;
    this.dirty.push(x);
  }

  /**
   * Starts whatever can start. Re-entrant calls only mark work; the outer loop does it.
   * Dispatching to other threads takes microseconds while event-loop work blocks until done,
   * so every other XPU is served before the event loop runs its next stage.
   */
  private drain(): void {
    if (this.draining) return;
    this.draining = true;
    try {
      while (this.dirty.length) {
        let k = this.dirty.length - 1;
        if (this.dirty[k]!.info.backend === 'main') {
          const other = this.dirty.findIndex((x) => x.info.backend !== 'main');
          if (other >= 0) k = other;
        }
        const x = this.dirty.splice(k, 1)[0]!;
        x.dirty = false;
        if (!x.yielding) this.pump(x); // a yielding event loop resumes from its setImmediate
      }
    } finally {
      this.draining = false;
    }
    this.checkIdle();
  }

  private pump(x: XpuRt): void {
    while (x.busy < x.info.lanes && x.queue.length) {
      let worker = -1;
      const pick = x.queue.findIndex(
        (rt) =>
          !(rt.placement.group !== undefined && this.busyGroups.has(rt.placement.group)) &&
          (!x.threads || (worker = x.threads.idleWorkerFor(rt.s.index)) >= 0),
      );
      if (pick < 0) return;
      const rt = x.queue.splice(pick, 1)[0]!;
      rt.queued = false;
      this.execute(rt, worker);
      if (x.info.backend === 'main') {
        // One synchronous stage at a time: what it made ready elsewhere is dispatched first.
        // With work in flight elsewhere, the event loop also takes in the completions that
        // arrived meanwhile before it runs the next stage (a chain of main-thread stages would
        // otherwise hold them back until its end).
        if (!x.queue.length) return;
        if (this.running === 0) this.markDirty(x);
        else if (!x.yielding) {
          x.yielding = true;
          setImmediate(() => {
            x.yielding = false;
            this.markDirty(x);
            this.drain();
          });
        }
        return;
      }
    }
  }

  private execute(rt: StageRt, worker: number): void {
    const start = performance.now();
    rt.running = true;
    rt.xpu.busy++;
    this.running++;
    if (rt.placement.group !== undefined) this.busyGroups.add(rt.placement.group);
    const frame: FrameInfo = { seq: 0, t0: Infinity };
    const inputs: PortValues = {};
    if (rt.source) {
      frame.seq = rt.source.tickSeq;
      frame.t0 = rt.source.tickT0;
      rt.source.pendingTicks = 0;
    } else {
      for (const input of rt.inputs) {
        const env = input.take();
        if (!env) continue;
        inputs[input.port] = env.encoded ? this.opts.codec!.decode(env.encoded, env.value as Uint8Array) : env.value;
        if (!input.latched) {
          if (env.t0 < frame.t0) frame.t0 = env.t0;
          if (env.seq > frame.seq) frame.seq = env.seq;
        }
        if (this.fast) for (const p of input.producers) this.offerLater(p);
      }
    }
    if (this.traced(frame)) this.tracer.record(rt.s.index, rt.xpu.index, EventKind.Wait, frame.seq, rt.readySince, start);
    let out: StageResult | Promise<StageResult>;
    try {
      if (runsOnThread(rt.impl)) {
        out = rt.xpu.threads!.run(worker, rt.s.index, inputs, frame, this.movable(rt, inputs));
      } else {
        out = rt.fn!(inputs, frame);
      }
    } catch (e) {
      this.failed(rt, frame, start, e);
      return;
    }
    if (out instanceof Promise) {
      out.then(
        (o) => {
          this.complete(rt, frame, start, o);
          this.drain();
        },
        (e) => {
          this.failed(rt, frame, start, e);
          this.drain();
        },
      );
    } else {
      this.complete(rt, frame, start, out);
    }
  }

  /** Buffers a worker may take: those of messages no other stage also received. */
  private movable(rt: StageRt, inputs: PortValues): ArrayBuffer[] | undefined {
    let list: ArrayBuffer[] | undefined;
    for (const input of rt.inputs) {
      if (input.fanout !== 1 || input.latched) continue;
      const v = inputs[input.port];
      if (v !== undefined) list = transferables(v, list ?? []);
    }
    return list;
  }

  private traced(frame: FrameInfo): boolean {
    return frame.seq >= (this.opts.settle ?? 0);
  }

  private offerLater(p: StageRt): void {
    if (p.source) this.fastTick(p);
    else this.offer(p);
  }

  private release(rt: StageRt, start: number): number {
    const end = performance.now();
    rt.running = false;
    rt.xpu.busy--;
    rt.xpu.busyMs += end - start;
    this.running--;
    this.markDirty(rt.xpu);
    if (rt.placement.group !== undefined) {
      this.busyGroups.delete(rt.placement.group);
      // Stages of the group may wait on other XPUs.
      for (const other of this.stages) if (other.queued && other.placement.group === rt.placement.group) this.markDirty(other.xpu);
    }
    return end;
  }

  /**
   * Records that `rt` finished `frame` at every input it feeds; a join whose partner frame
   * will now never come re-checks what it holds (and drops what cannot meet).
   */
  private progressed(rt: StageRt, frame: FrameInfo): void {
    for (const o of rt.outputs) {
      for (const sub of o.subscribers) {
        if (frame.seq > sub.input.done[sub.producer]!) sub.input.done[sub.producer] = frame.seq;
        if (sub.rt.syncBySeq) this.offer(sub.rt);
      }
    }
  }

  private complete(rt: StageRt, frame: FrameInfo, start: number, out: StageResult): void {
    const end = this.release(rt, start);
    rt.failures = 0;
    this.runs[rt.s.index]!++;
    const traced = this.traced(frame);
    if (traced) this.tracer.record(rt.s.index, rt.xpu.index, EventKind.Run, frame.seq, start, end);
    if (out) {
      for (const o of rt.outputs) {
        const value = out[o.port];
        if (value === undefined) continue;
        if (o.ros2) o.ros2(value);
        if (this.opts.tap) this.opts.tap(o.topic, value, frame.seq);
        if (o.remote) o.remote.send(value, frame.t0, frame.seq);
        if (o.subscribers.length === 0) continue;
        const env: Envelope = { value, t0: frame.t0, seq: frame.seq };
        let encoded: Envelope | undefined;
        for (const sub of o.subscribers) {
          if (sub.crossModule) {
            encoded ??= { value: this.opts.codec!.encode(o.type, value), t0: frame.t0, seq: frame.seq, encoded: o.type };
            this.deliver(sub.rt, sub.input, encoded);
          } else {
            this.deliver(sub.rt, sub.input, env);
          }
        }
      }
    }
    this.progressed(rt, frame);
    if (rt.isSink) {
      this.completed++;
      if (traced) this.tracer.endToEnd(rt.s.index, performance.now() - frame.t0);
    }
    if (rt.source) {
      if (this.fast) this.fastTick(rt);
    } else {
      this.offer(rt);
    }
  }

  private deliver(rt: StageRt, input: InputRt, env: Envelope): void {
    input.push(env);
    this.offer(rt);
  }

  private failed(rt: StageRt, frame: FrameInfo, start: number, e: unknown): void {
    this.release(rt, start);
    this.progressed(rt, frame);
    this.errors[rt.s.index]!++;
    counters.add('exec.stage_errors');
    const msg = e instanceof Error ? e.message : String(e);
    if (rt.failures++ === 0) this.log(`[${rt.s.name}] ${rt.impl.name}@${rt.xpu.info.id} failed on frame ${frame.seq}: ${msg}`);
    if (rt.failures >= 3 && this.opts.fallback) void this.fallBack(rt);
    else if (rt.source && this.fast) this.fastTick(rt);
    else this.offer(rt);
  }

  /** Moves a failing stage to the next placement the planner offers; frames keep flowing. */
  private async fallBack(rt: StageRt): Promise<void> {
    const next = this.opts.fallback!(rt.s.index, rt.placement);
    const xpu = next && this.xpus.find((x) => x.info.id === next.xpu);
    const impl = next && rt.s.impls.find((i) => i.name === next.impl);
    if (!next || !xpu || !impl) return;
    this.log(`[${rt.s.name}] falling back from ${rt.impl.name}@${rt.xpu.info.id} to ${impl.name}@${xpu.info.id}`);
    counters.add('exec.fallbacks');
    rt.running = true; // keep it off its XPU while the new instance is made
    this.running++;
    try {
      await rt.instance?.close?.();
      rt.placement = next;
      rt.impl = impl;
      rt.xpu = xpu;
      rt.fn = undefined;
      rt.instance = undefined;
      rt.failures = 0;
      await this.instantiate(rt);
    } catch (e) {
      this.log(`[${rt.s.name}] fallback failed: ${e instanceof Error ? e.message : String(e)}`);
    } finally {
      rt.running = false;
      this.running--;
      if (rt.source && this.fast) this.fastTick(rt);
      else this.offer(rt);
      this.drain();
    }
  }

  private checkIdle(): void {
    if (!this.idleResolve || this.running > 0 || this.draining || this.ros2Open > 0 || (this.remoteOpen > 0 && !this.stopping)) return;
    for (const rt of this.stages) {
      if (rt.queued) return;
      if (rt.source && !rt.source.done) return;
    }
    const resolve = this.idleResolve;
    this.idleResolve = undefined;
    resolve();
  }

  /** Calls finish() on every stage (e.g. to report quality), then releases everything. */
  async close(): Promise<void> {
    await Promise.all(this.senders.map((s) => s.end()));
    for (const u of this.unsubscribe) u();
    for (const rt of this.stages) {
      if (!this.isLocal(rt)) continue;
      try {
        if (runsOnThread(rt.impl)) await rt.xpu.threads!.finishStage(rt.s.index);
        else {
          await rt.instance?.finish?.();
          await rt.instance?.close?.();
        }
      } catch (e) {
        this.log(`[${rt.s.name}] finish failed: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    await Promise.all(this.xpus.map((x) => x.threads?.close()));
  }

  /** Facts about the run for the report. */
  report(): ExecFacts {
    return {
      wallMs: (this.finished || performance.now()) - this.started,
      completed: this.completed,
      stages: this.stages.filter((rt) => this.isLocal(rt)).map((rt) => ({
        index: rt.s.index,
        name: rt.s.name,
        type: rt.s.def.type,
        module: rt.s.module,
        impl: rt.impl.name,
        xpu: rt.xpu.info.id,
        runs: this.runs[rt.s.index]!,
        drops: rt.inputs.reduce((n, i) => n + i.drops, 0),
        errors: this.errors[rt.s.index]!,
      })),
      sources: this.stages.filter((rt) => rt.source && this.isLocal(rt)).map((rt) => ({ name: rt.s.name, emitted: rt.source!.emitted, overruns: rt.source!.overruns })),
      xpus: this.xpus.map((x) => ({ id: x.info.id, real: x.info.real, busyMs: x.busyMs })),
      sections: this.sections,
    };
  }
}
