// The executor: runs a plan on this host's XPUs. It is a shell over the dispatch core
// (core/dispatcher.ts), which decides what runs next: here on real time with the host's XPU
// drivers (drivers.ts), or, for tests and conformance with the simulator, on virtual time with
// the real stage code and deterministic costs. This file wires the graph, topics to ROS2 and
// to other processes, and turns the core's decisions into trace events and the run's report.
// Its options and the launch deadlines are in options.ts. It is one file of ~400 lines
// because start, run and close share the instances, links and tracer it holds; what can stand
// alone (drivers, outputs, migration, thread priorities, the GC watch) lives beside it.
import { inputOf, type Graph, type Topic } from '../graph/graph.js';
import { counters } from '../trace/counters.js';
import { EventKind, Tracer } from '../trace/tracer.js';
import type { ExecFacts } from '../trace/report.js';
import { runsOn } from '../xpu/types.js';
import { realClock } from './clock.js';
import { CostedDriver } from './core/costed.js';
import { DeadlineError, Dispatcher } from './core/dispatcher.js';
import { threadPriorities } from './thread-priorities.js';
import { watchGc } from './heap.js';
import { checkOutputs } from './outputs.js';
import type { Clock, CoreStage, Driver, Hooks, Job, Replacement, Topology } from './core/types.js';
import type { StageInstance } from '../xnode/types.js';
import type { StageState } from '../xnode/state.js';
import { HostDriver } from './drivers.js';
import type { ExecPlan, StagePlacement } from './plan.js';
import type { RemoteSender } from './remote.js';
import { Migration } from './migrate.js';

export { DEFAULT_DEADLINE_MS, launchTimeouts, type ExecOptions, type MessageCodec, type TopicBridge } from './options.js';
import { DEFAULT_DEADLINE_MS, type ExecOptions } from './options.js';

export class Executor {
  readonly tracer: Tracer;
  private readonly topo: Topology;
  private readonly clock: Clock;
  private readonly host: HostDriver;
  private readonly core: Dispatcher;
  private readonly placements: StagePlacement[];
  private readonly unsubscribe: Array<() => void> = [];
  private readonly senders: RemoteSender[] = [];
  /** Per stage, per output: where else it goes (ROS2, other processes). */
  private readonly ros2Out: Array<Array<((msg: unknown) => void) | undefined>> = [];
  private readonly remoteOut: Array<Array<RemoteSender | undefined>> = [];
  private readonly log: (line: string) => void;
  private started = 0;
  private finished = 0;
  /** Stages every implementation of which failed (no fallback left). */
  private readonly exhausted = new Set<number>();
  /** A stage moving to or from this process (exec/migrate.ts). */
  private readonly migration: Migration | undefined;

  constructor(
    readonly graph: Graph,
    readonly plan: ExecPlan,
    private readonly opts: ExecOptions,
  ) {
    this.tracer = opts.tracer ?? new Tracer(graph.stages.length);
    this.log = opts.log ?? ((l) => process.stderr.write(l + '\n'));
    if (plan.placements.length !== graph.stages.length) {
      throw new Error(`plan '${plan.name}' places ${plan.placements.length} stages; the graph has ${graph.stages.length}`);
    }
    this.placements = [...plan.placements];
    this.topo = this.topology();
    this.clock = opts.virtual?.machine ?? realClock;
    this.host = new HostDriver(graph, opts.xpus, this.topo, this.log, opts.codec);
    const driver: Driver = opts.virtual ? new CostedDriver(opts.virtual.machine, this.topo, opts.virtual.costs, this.host) : this.host;
    const fast = opts.frames !== undefined && !opts.realtime && opts.durationS === undefined;
    if (!opts.virtual && !fast) this.host.nice = threadPriorities(graph, this.topo, this.placements, this.log);
    this.core = new Dispatcher(this.topo, this.clock, driver, this.hooks(), { fast, frames: opts.frames ?? Infinity });
    this.host.onReady = (xpu) => this.core.wake(xpu);
    this.host.trackDeviceTensors((stage, input) => this.core.stages[stage]!.inputs[input]!);
    const links = opts.local?.links;
    if (opts.migration && links) {
      const [state, section] = [(stage: number) => this.state(stage), (name: string, data: Record<string, unknown>) => this.addSection(name, data)];
      this.migration = new Migration(opts.migration, { graph, core: this.core, clock: this.clock, links, log: this.log, tap: opts.tap, state, section, runStarted: () => this.started });
    }
    if (!opts.virtual) this.host.traceTransfers((stage, xpu, seq, start, end, bytes) => this.traced(seq) && this.tracer.record(stage, xpu, EventKind.Transfer, seq, start, end, bytes));
  }

  private isLocal(stage: number): boolean {
    return !this.opts.local || this.opts.local.stages.has(stage);
  }

  /** The dispatch core's view of the graph under this plan; checks the placements. */
  private topology(): Topology {
    const xpuIndex = new Map(this.opts.xpus.map((x, i) => [x.id, i]));
    const inputIndex = (stage: number, port: string) => this.graph.stages[stage]!.inputs.findIndex((i) => i.port === port);
    const stages = this.graph.stages.map((s): CoreStage => {
      const placement = this.placements[s.index]!;
      const xpu = xpuIndex.get(placement.xpu) ?? -1; // start() says which is unknown
      const local = this.isLocal(s.index);
      const outputs = s.outputs.map((o) => {
        const topic = this.graph.topics.get(o.topic)!;
        const subs = local
          ? topic.subscribers
              .filter(({ stage }) => this.isLocal(stage))
              .map(({ stage, port }) => ({
                stage,
                input: inputIndex(stage, port),
                cross: !!this.plan.serializeBetweenModules && this.graph.stages[stage]!.module !== s.module,
              }))
          : [];
        return { port: o.port, topic: o.topic, type: o.spec.type, subs, fanout: topic.subscribers.length };
      });
      const remote = (o: { topic: string }) => this.graph.topics.get(o.topic)!.subscribers.some(({ stage }) => !this.isLocal(stage));
      return {
        name: s.name,
        module: s.module,
        xpu,
        priority: placement.priority,
        group: placement.group,
        inputs: s.inputs.map((i) => ({
          ...inputOf(i),
          external: this.graph.topics.get(i.topic)!.ros2?.dir === 'in',
        })),
        outputs,
        periodMs: s.inputs.length === 0 || s.def.timer ? (s.rateHz > 0 ? 1000 / s.rateHz : 0) : -1,
        phaseMs: placement.phaseMs,
        join: s.def.join,
        rateHz: s.rateHz,
        isSink: outputs.every((o) => o.subs.length === 0 && !(this.opts.local && remote(o))),
        local,
      };
    });
    const xpus = this.opts.xpus.map((x) => ({ id: x.id, lanes: x.lanes, eventLoop: x.backend === 'main', workers: x.backend === 'worker' || x.backend === 'onnx' }));
    return { stages, xpus };
  }

  private traced(seq: number): boolean {
    return seq >= (this.opts.settle ?? 0);
  }

  private hooks(): Hooks {
    const t = this.tracer;
    const first = this.opts.firstFrame ?? 0;
    const jobs = this.opts.jobs;
    return {
      dispatch: first || jobs || this.opts.onDispatch || this.opts.migration ? (job) => this.dispatched(job, first) : undefined,
      wait: (stage, xpu, seq, from, to, lane) => this.traced(seq) && t.record(stage, xpu, EventKind.Wait, seq, from, to, 0, lane),
      run: (stage, xpu, seq, start, end, lane) => {
        jobs?.finished(stage, seq);
        this.migration?.ran(stage, seq);
        if (this.traced(seq)) t.record(stage, xpu, EventKind.Run, seq, start, end, 0, lane);
      },
      endToEnd: (stage, seq, ms) => this.traced(seq) && t.endToEnd(stage, ms, seq),
      capture: (stage, seq, due, ready) => this.traced(seq) && t.record(stage, this.core.stages[stage]!.xpu, EventKind.Capture, seq, due, ready),
      transfer: (stage, _input, seq, from, to, _fromXpu, toXpu) => this.traced(seq) && t.record(stage, toXpu, EventKind.Transfer, seq, from, to),
      drop: (stage, _input, seq, at) => this.traced(seq) && t.record(stage, this.core.stages[stage]!.xpu, EventKind.Drop, seq, at, at),
      publish: (stage, output, value, frame) => {
        this.ros2Out[stage]?.[output]?.(value);
        if (this.opts.tap) this.opts.tap(this.topo.stages[stage]!.outputs[output]!.topic, value, frame.seq);
        this.remoteOut[stage]?.[output]?.send(value, frame.t0, frame.seq);
      },
      overrun: () => counters.add('exec.source_overruns'),
      syncDrop: () => counters.add('exec.sync_drops'),
      quiet: (open) => this.migration?.quiet(open),
      deadlineMs: (stage) => this.opts.timeout?.(stage, this.placements[stage]!) ?? DEFAULT_DEADLINE_MS,
      validate: (stage, out) => checkOutputs(this.graph.stages[stage]!.def.outputs, out),
      failed: (stage, frame, e, failures) => {
        counters.add(e instanceof DeadlineError ? 'exec.stage_timeouts' : 'exec.stage_errors');
        const p = this.placements[stage]!;
        const msg = e instanceof Error ? e.message : String(e);
        if (failures === 1) this.log(`[${this.graph.stages[stage]!.name}] ${p.impl}@${p.xpu} failed on frame ${frame.seq}: ${msg}`);
      },
      fallback: (stage) => this.fallBack(stage),
    };
  }

  private dispatched(job: Job, first: number): void {
    // A source's frame number is the one its job carries downstream: shifted here, before the
    // stage runs, every later frame number of the run follows (no copy on the frame path).
    if (first && this.topo.stages[job.stage]!.inputs.length === 0) job.frame.seq += first;
    this.opts.jobs?.started(job.stage, job.frame.seq);
    this.opts.onDispatch?.(job, this.clock.now());
    this.migration?.dispatched(job.stage);
  }

  /** The instance of a stage run on this thread (undefined for one held by worker threads). */
  instance(stage: number): StageInstance | undefined {
    return this.host.placed[stage]?.instance;
  }

  /** The state a stage declares, on this thread or on the worker thread holding it (undefined: none). */
  state(stage: number): StageState | undefined {
    return this.host.state(stage);
  }

  /** The implementation and XPU a stage runs as now. */
  placement(stage: number): StagePlacement {
    return this.placements[stage]!;
  }

  /** Adds a section to the run's report (e.g. what was checkpointed). */
  addSection(section: string, data: Record<string, unknown>): void {
    this.host.addSection(section, data);
  }

  /** Where a failing stage goes next, as the planner offers; re-created there meanwhile. */
  private fallBack(stage: number): Promise<Replacement | undefined> | undefined {
    if (this.exhausted.has(stage)) return undefined;
    const s = this.graph.stages[stage]!;
    const failed = this.placements[stage]!;
    // Without a fallback (a fixed plan) the one implementation was all there was.
    const next = this.opts.fallback?.(stage, failed);
    const xpu = next ? this.opts.xpus.findIndex((x) => x.id === next.xpu) : -1;
    const impl = next && s.impls.find((i) => i.name === next.impl);
    if (!next || xpu < 0 || !impl) {
      // Said once; the stage is marked failed in the report (and the run stops if asked to).
      this.exhausted.add(stage);
      counters.add('exec.failed_stages');
      this.log(`[${s.name}] no fallback left after ${failed.impl}@${failed.xpu} failed: the stage is marked failed${this.opts.onStageFailed === 'stop' ? '; stopping the run' : ''}`);
      if (this.opts.onStageFailed === 'stop') this.core.stop();
      return undefined;
    }
    this.log(`[${s.name}] falling back from ${failed.impl}@${failed.xpu} to ${impl.name}@${next.xpu}`);
    counters.add('exec.fallbacks');
    const made = (async () => {
      try {
        await this.host.discard(stage);
        this.placements[stage] = next;
        await this.host.instantiate(stage, impl, xpu, next.priority);
      } catch (e) {
        this.log(`[${s.name}] fallback failed: ${e instanceof Error ? e.message : String(e)}`);
      }
      return { xpu, priority: next.priority, group: next.group };
    })();
    // On virtual time the clock waits while the new instance is made.
    this.opts.virtual?.machine.hold(made);
    return made;
  }

  /** Creates every stage instance on its XPU and wires topics. */
  async start(): Promise<void> {
    for (const s of this.graph.stages) {
      const placement = this.placements[s.index]!;
      const xpu = this.opts.xpus[this.topo.stages[s.index]!.xpu];
      if (!xpu) throw new Error(`plan '${this.plan.name}' puts '${s.name}' on unknown XPU '${placement.xpu}'`);
      const impl = s.impls.find((i) => i.name === placement.impl);
      if (!impl) throw new Error(`plan '${this.plan.name}' uses unknown implementation '${placement.impl}' of '${s.name}'`);
      if (!xpu.real) throw new Error(`'${s.name}' is placed on '${xpu.id}', a simulated XPU: plans with simulated XPUs can only be simulated`);
      if (!runsOn(impl, xpu)) throw new Error(`implementation '${impl.name}' of '${s.name}' (${impl.backend}/${impl.xpu}) cannot run on XPU '${xpu.id}'`);
    }
    this.wire();
    await Promise.all(
      this.graph.stages
        .filter((s) => this.isLocal(s.index))
        .map((s) => {
          const p = this.placements[s.index]!;
          return this.host.instantiate(s.index, s.impls.find((i) => i.name === p.impl)!, this.topo.stages[s.index]!.xpu, p.priority);
        }),
    );
    this.migration?.check();
    await this.opts.local?.links.connected();
  }

  /** Topics to ROS2 and to other processes, both ways. */
  private wire(): void {
    const links = this.opts.local?.links;
    for (const s of this.graph.stages) {
      if (!this.isLocal(s.index)) continue;
      this.ros2Out[s.index] = s.outputs.map((o) => {
        const topic = this.graph.topics.get(o.topic)!;
        return topic.ros2?.dir === 'out' && this.opts.bridge ? this.opts.bridge.publisher(topic.name, topic.type, topic.ros2.qos) : undefined;
      });
      this.remoteOut[s.index] = s.outputs.map((o) => {
        const topic = this.graph.topics.get(o.topic)!;
        const elsewhere = topic.subscribers.filter(({ stage }) => !this.isLocal(stage)).map(({ stage }) => this.graph.stages[stage]!.process);
        if (!links || !elsewhere.length) return undefined;
        const sender = links.sender(topic.name, topic.type, new Set(elsewhere).size);
        this.senders.push(sender);
        return sender;
      });
    }
    if (this.migration) {
      const m = this.migration.wire((topic) => this.localInputs(this.graph.topics.get(topic)!), this.unsubscribe);
      for (const f of m.forwarders) (this.remoteOut[f.stage] ??= [])[f.output] ??= f.sender;
      this.senders.push(...m.senders);
    }
    // Topics published in other processes arrive through the links.
    if (links) {
      for (const topic of this.graph.topics.values()) {
        const targets = this.localInputs(topic);
        if (!targets.length || topic.publishers.every(({ stage }) => this.isLocal(stage))) continue;
        this.core.openRemote();
        this.unsubscribe.push(
          links.receive(
            topic.name,
            (value, t0, seq) => {
              for (const [stage, input] of targets) {
                if (this.migration?.takes(stage)) this.migration.accept(input, { value, t0, seq });
                else this.core.inject(stage, input, { value, t0, seq });
              }
              this.core.drain();
            },
            // A stage taken over from another process gets what is queued for it first.
            () => (this.migration && targets.some(([s]) => this.migration!.takes(s)) ? this.migration.whenDrained(() => this.core.closeRemote()) : this.core.closeRemote()),
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
        this.core.openRos2();
        this.unsubscribe.push(
          this.opts.bridge.subscribe(topic.name, topic.type, topic.ros2.qos, (msg) => {
            if (!this.core.takesRos2) return;
            const env = { value: msg, t0: this.clock.now(), seq: seq++ };
            for (const [stage, input] of subs) this.core.inject(stage, input, env);
            this.core.drain();
          }),
        );
      }
    }
  }

  /** The inputs (stage, input index) of this process's stages that subscribe to `topic`. */
  private localInputs(topic: Topic): Array<[number, number]> {
    return topic.subscribers
      .filter(({ stage }) => this.isLocal(stage))
      .map(({ stage, port }) => [stage, this.graph.stages[stage]!.inputs.findIndex((i) => i.port === port)]);
  }

  /** Runs until the frame budget or duration is used up, or stop() is called. */
  async run(): Promise<void> {
    this.started = this.clock.now();
    const durationMs = this.opts.durationS !== undefined ? this.opts.durationS * 1000 : undefined;
    const done = this.core.run(durationMs);
    const gc = this.opts.virtual ? undefined : watchGc(this.log);
    if (this.opts.virtual) {
      let over = false;
      void done.then(() => (over = true));
      // Virtual time runs until nothing is due; real work it was not told to wait for (e.g. a
      // stage instance being made) may still add events: look again until the run is over.
      while (!over) {
        await this.opts.virtual.machine.runUntilIdle();
        if (!over) await Promise.race([done, new Promise((r) => setTimeout(r, 5))]);
      }
    } else await done;
    this.finished = this.clock.now();
    if (gc) this.addSection('gc', { ...(await gc.stop()) });
  }

  /**
   * Stops everything: local sources, and waiting for other processes' frames. run() resolves
   * once the frames in flight have left the pipeline.
   */
  stop(): void {
    this.core.stop();
  }

  /** Calls finish() on every stage (e.g. to report quality), then releases everything. */
  async close(): Promise<void> {
    this.migration?.close();
    await Promise.all(this.senders.map((s) => s.end()));
    for (const u of this.unsubscribe) u();
    for (const s of this.graph.stages) {
      if (!this.isLocal(s.index) || this.migration?.movedAway(s.index)) continue;
      try {
        await this.host.finish(s.index);
      } catch (e) {
        this.log(`[${s.name}] finish failed: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    await this.host.close();
  }

  /** Names of the stages every implementation of which failed (a run with any should exit non-zero). */
  failedStages(): string[] {
    return [...this.exhausted].map((k) => this.graph.stages[k]!.name);
  }

  /** Facts about the run for the report. */
  report(): ExecFacts {
    const local = this.core.stages.filter((st) => st.spec.local);
    const faults = local.filter((st) => st.timeouts > 0 || this.exhausted.has(st.index));
    if (faults.length) {
      this.host.sections.faults = Object.fromEntries(faults.map((st) => [st.spec.name, { timeouts: st.timeouts, errors: st.errors, failed: this.exhausted.has(st.index) }]));
    }
    return {
      wallMs: (this.finished || this.clock.now()) - this.started,
      completed: this.core.completed,
      stages: local.map((st) => ({
        index: st.index,
        name: st.spec.name,
        type: this.graph.stages[st.index]!.def.type,
        module: st.spec.module,
        impl: this.placements[st.index]!.impl,
        xpu: this.placements[st.index]!.xpu,
        runs: st.runs,
        drops: st.inputs.reduce((n, i) => n + i.drops, 0),
        errors: st.errors,
        timeouts: st.timeouts,
        ended: st.ended,
      })),
      inFlight: this.core.inFlight(),
      sources: local.filter((st) => st.source).map((st) => ({ name: st.spec.name, emitted: st.source!.emitted, overruns: st.source!.overruns })),
      xpus: this.core.xpus.map((x) => ({ id: this.opts.xpus[x.index]!.id, real: this.opts.xpus[x.index]!.real, busyMs: x.busyMs })),
      sections: this.host.sections,
      failedStages: this.failedStages(),
    };
  }
}
