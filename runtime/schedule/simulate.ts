// Discrete-event simulation of a plan in virtual time. It mirrors the executor
// (runtime/exec/executor.ts) step for step — readiness, priority queues at XPUs, lanes,
// exclusive groups, late binding of keep-last inputs (drops), source ticks and overruns,
// backpressure in fast mode, serialization between modules — and adds what the executor
// gets from the machine: the event loop (a synchronous main-thread stage delays the handling
// of every other completion), CPU cores shared by all threads (processor sharing), and, for
// declared boards, transfers between XPU memories.
import { Heap } from 'heap-js';
import { summarize, type Summary } from '../trace/stats.js';
import { transferMs, type Assignment, type CostModel, type Latency, type ModelPort } from './model.js';
import { mulberry32 } from '../util/random.js';
import { tickDueSources, type ClockSource } from '../exec/clock.js';

export interface SimOptions {
  /** Frames per source. */
  frames?: number;
  /** Run the sources at their rates for this long (ms). */
  durationMs?: number;
  /** With `frames`: keep the sources' rates (default true); false: as fast as taken. */
  realtime?: boolean;
  /** Draw run times from the measured distributions (seeded); default: always p50. */
  sample?: boolean;
  seed?: number;
  /** Ignore the e2e of frames before this source sequence number (warm-up). */
  warmup?: number;
}

export interface SimResult {
  /**
   * End-to-end latency (ms) over all sinks together, counted as the executor counts it: from
   * when each source frame was due, so a tick that waits for a busy event loop adds to it.
   */
  e2e: Summary;
  e2eBySink: Map<number, Summary>;
  /** Per stage: runs, drops, run-time summary (ms, as the executor's tracer measures it). */
  stages: Array<{ runs: number; drops: number; run: Summary; wait: Summary }>;
  overruns: number;
  emitted: number;
  /** Virtual wall time of the run (ms). */
  wallMs: number;
  /** Per XPU: busy fraction of the wall time (lane-ms over wall-ms). */
  utilisation: number[];
  simulated: boolean;
}

interface Env {
  /** When the oldest source data behind it was due (its tick's scheduled instant). */
  t0: number;
  seq: number;
  /** Carries encoded bytes (crossed modules under a serializing plan). */
  enc: boolean;
}

interface PortRt {
  m: ModelPort;
  queue: Env[];
  latest: Env | null;
  drops: number;
}

interface OutRt {
  topic: string;
  subs: Array<{ rt: StageRt; port: PortRt; cross: boolean }>;
}

interface SourceRt extends ClockSource {
  rt: StageRt;
  pending: boolean;
  tickT0: number;
  tickSeq: number;
  scheduled: boolean;
}

interface StageRt {
  i: number;
  xpu: number;
  lat: Latency;
  priority: number;
  group: string | undefined;
  inputs: PortRt[];
  /** Per output topic: its subscribers. */
  outs: OutRt[];
  running: boolean;
  queued: boolean;
  readySince: number;
  worker: number;
  /** Stateful stages in a worker pool: the one worker holding them. */
  pinned: number;
  source?: SourceRt;
  isSink: boolean;
  runs: number;
  runMs: number[];
  waitMs: number[];
}

interface XpuRt {
  i: number;
  lanes: number;
  busy: number;
  queue: StageRt[];
  dirty: boolean;
  busyMs: number;
  yielding: boolean;
  workerBusy: boolean[] | null;
}

/** Thread-level work: progresses under processor sharing until its solo time is used up. */
interface Job {
  remaining: number;
  cores: boolean;
  onDone: (() => void) | null;
}

interface Ev {
  t: number;
  n: number;
  run: () => void;
}

/** Simulates `a` on `m`; returns what the executor's tracer would report. */
export function simulate(m: CostModel, a: Assignment, opts: SimOptions = {}): SimResult {
  return new Sim(m, a, opts).run();
}

class Sim {
  private now = 0;
  private evN = 0;
  private readonly events = new Heap<Ev>((x, y) => x.t - y.t || x.n - y.n);
  private readonly jobs: Job[] = [];
  private readonly stages: StageRt[];
  private readonly xpus: XpuRt[];
  private readonly dirty: XpuRt[] = [];
  private draining = false;
  private readonly busyGroups = new Set<string>();
  private readonly fast: boolean;
  private readonly loop: number;
  private readonly rand: () => number;
  private readonly e2e = new Map<number, number[]>();
  private overruns = 0;
  private stopping = false;
  /** Set while the event loop runs synchronous work. */
  private mainBusy = false;
  /** Stages running now (on any XPU). */
  private running = 0;

  constructor(
    private readonly m: CostModel,
    private readonly a: Assignment,
    private readonly opts: SimOptions,
  ) {
    this.fast = opts.frames !== undefined && opts.realtime === false && opts.durationMs === undefined;
    this.loop = m.xpus.findIndex((x) => x.eventLoop);
    this.rand = mulberry32(opts.seed ?? 1);
    this.xpus = m.xpus.map((x, i) => ({
      i,
      lanes: x.lanes,
      busy: 0,
      queue: [],
      dirty: false,
      busyMs: 0,
      yielding: false,
      workerBusy: x.pinsStateful ? new Array<boolean>(x.lanes).fill(false) : null,
    }));
    const pinCount = new Array<number>(m.xpus.length).fill(0);
    this.stages = m.stages.map((s, i) => {
      const o = s.options[a.option[i]!]!;
      const x = m.xpus[o.xpu]!;
      const pinned = x.pinsStateful && s.stateful ? pinCount[o.xpu]!++ % x.lanes : -1;
      return {
        i,
        xpu: o.xpu,
        lat: o.lat,
        priority: a.priority[i]!,
        group: a.group?.[i],
        inputs: s.inputs.map((p) => ({ m: p, queue: [], latest: null, drops: 0 })),
        outs: [],
        running: false,
        queued: false,
        readySince: 0,
        worker: -1,
        pinned,
        isSink: s.sink,
        runs: 0,
        runMs: [],
        waitMs: [],
      };
    });
    for (const rt of this.stages) {
      for (const port of rt.inputs) {
        for (const p of port.m.producers) {
          const prod = this.stages[p]!;
          let out = prod.outs.find((o) => o.topic === port.m.topic);
          if (!out) prod.outs.push((out = { topic: port.m.topic, subs: [] }));
          out.subs.push({ rt, port, cross: !!a.serialize && m.stages[p]!.module !== m.stages[rt.i]!.module });
        }
      }
    }
    for (const rt of this.stages) {
      rt.isSink = rt.outs.length === 0 || m.stages[rt.i]!.sink;
      const s = m.stages[rt.i]!;
      if (s.periodMs >= 0 && s.inputs.length === 0) {
        rt.source = {
          rt,
          period: s.periodMs,
          emitted: 0,
          limit: opts.frames ?? Infinity,
          pending: false,
          tickT0: 0,
          tickSeq: 0,
          done: false,
          scheduled: false,
        };
      }
    }
  }

  run(): SimResult {
    const timed: SourceRt[] = [];
    for (const rt of this.stages) {
      if (!rt.source) continue;
      if (this.fast || rt.source.period === 0) this.fastTick(rt);
      else timed.push(rt.source);
    }
    if (timed.length) this.tickSources(timed);
    if (this.opts.durationMs !== undefined) this.at(this.opts.durationMs, () => this.stop());
    this.drain();
    this.loopRun();
    return this.result();
  }

  // ---- virtual machine: event loop + threads under processor sharing ----

  private at(t: number, run: () => void): void {
    this.events.push({ t, n: this.evN++, run });
  }

  private rateOf(): number {
    let n = 0;
    for (const j of this.jobs) if (j.cores) n++;
    return n > this.m.cores ? this.m.cores / n : 1;
  }

  /** Advances threads to the next job end no later than `limit`; returns false when none ends by then. */
  private step(limit: number): boolean {
    if (this.jobs.length === 0) {
      if (limit !== Infinity) this.now = Math.max(this.now, limit);
      return false;
    }
    const rate = this.rateOf();
    let dt = Infinity;
    for (const j of this.jobs) dt = Math.min(dt, j.remaining / (j.cores ? rate : 1));
    if (this.now + dt > limit) {
      const adv = limit - this.now;
      if (adv > 0) for (const j of this.jobs) j.remaining -= adv * (j.cores ? rate : 1);
      this.now = Math.max(this.now, limit);
      return false;
    }
    this.now += dt;
    const done: Job[] = [];
    for (let k = this.jobs.length - 1; k >= 0; k--) {
      const j = this.jobs[k]!;
      j.remaining -= dt * (j.cores ? rate : 1);
      if (j.remaining <= 1e-9) {
        done.push(j);
        this.jobs.splice(k, 1);
      }
    }
    for (const j of done.reverse()) j.onDone?.();
    return true;
  }

  /** Runs `ms` of synchronous work on the event-loop thread; other threads progress meanwhile. */
  private runSync(ms: number, usesCores: boolean): void {
    if (ms <= 0) return;
    const me: Job = { remaining: ms, cores: usesCores, onDone: null };
    let finished = false;
    me.onDone = () => (finished = true);
    this.jobs.push(me);
    const was = this.mainBusy;
    this.mainBusy = true;
    while (!finished) this.step(Infinity);
    this.mainBusy = was;
  }

  /** Starts `ms` of work on another thread; `then` is queued on the event loop when it ends. */
  private runAsync(ms: number, usesCores: boolean, then: () => void): void {
    const job: Job = { remaining: Math.max(ms, 1e-6), cores: usesCores, onDone: null };
    job.onDone = () => this.at(this.now, then);
    this.jobs.push(job);
  }

  private loopRun(): void {
    for (;;) {
      const next = this.events.peek();
      if (this.step(next ? next.t : Infinity)) continue;
      const ev = this.events.pop();
      if (!ev) return;
      if (ev.t > this.now) this.now = ev.t;
      ev.run();
      this.drain();
    }
  }

  private sample(l: Latency): number {
    if (!this.opts.sample || !l.q) return l.p50;
    return inverseCdf(l.q, this.rand());
  }

  // ---- the executor's logic, in virtual time ----

  /** The executor's source clock (exec/clock.ts), in virtual time from 0. */
  private tickSources(timed: SourceRt[]): void {
    const next = tickDueSources(timed, 0, this.now, (src, due, seq) => {
      const rt = src.rt;
      if (rt.running || rt.queued || src.pending) this.overruns++;
      else {
        src.pending = true;
        src.tickT0 = due;
        src.tickSeq = seq;
        this.offer(rt);
      }
    });
    // Node timers fire no sooner than 1 ms after they are set.
    if (next !== Infinity) this.at(Math.max(next, this.now + (next - this.now < 1 ? 1 : 0)), () => this.tickSources(timed));
    this.drain();
  }

  private fastTick(rt: StageRt): void {
    const src = rt.source!;
    if (src.done || src.scheduled || src.pending || rt.running || rt.queued) return;
    if (src.emitted >= src.limit) {
      src.done = true;
      return;
    }
    if (this.outputsFull(rt)) return;
    src.scheduled = true;
    this.at(this.now, () => {
      src.scheduled = false;
      if (src.done) return;
      src.tickSeq = src.emitted++;
      src.pending = true;
      src.tickT0 = this.now;
      this.offer(rt);
    });
  }

  private stop(): void {
    if (this.stopping) return;
    this.stopping = true;
    for (const rt of this.stages) if (rt.source) rt.source.done = true;
  }

  private outputsFull(rt: StageRt): boolean {
    for (const o of rt.outs) for (const s of o.subs) if (!s.port.m.latched && s.port.queue.length >= s.port.m.depth) return true;
    return false;
  }

  private isReady(rt: StageRt): boolean {
    if (rt.running || rt.queued) return false;
    if (rt.source) return rt.source.pending;
    let triggered = false;
    for (const p of rt.inputs) {
      if (p.m.trigger) {
        if (p.queue.length === 0) return false;
        triggered = true;
      } else if (p.m.latched && p.latest === null && !p.m.optional) return false;
    }
    if (!triggered) return false;
    return !(this.fast && this.outputsFull(rt));
  }

  private offer(rt: StageRt): void {
    if (!this.isReady(rt)) return;
    rt.queued = true;
    rt.readySince = this.now;
    const x = this.xpus[rt.xpu]!;
    const q = x.queue;
    let i = q.length;
    while (i > 0 && q[i - 1]!.priority < rt.priority) i--;
    q.splice(i, 0, rt);
    this.markDirty(x);
  }

  private markDirty(x: XpuRt): void {
    if (x.dirty) return;
    x.dirty = true;
    this.dirty.push(x);
  }

  /** As the executor's: every other XPU is served before the event loop runs its next stage. */
  private drain(): void {
    if (this.draining) return;
    this.draining = true;
    while (this.dirty.length) {
      let k = this.dirty.length - 1;
      if (this.dirty[k]!.i === this.loop) {
        const other = this.dirty.findIndex((x) => x.i !== this.loop);
        if (other >= 0) k = other;
      }
      const x = this.dirty.splice(k, 1)[0]!;
      x.dirty = false;
      if (!x.yielding) this.pump(x);
    }
    this.draining = false;
  }

  private idleWorker(x: XpuRt, rt: StageRt): number {
    const w = x.workerBusy!;
    if (rt.pinned >= 0) return w[rt.pinned] ? -1 : rt.pinned;
    return w.indexOf(false);
  }

  private pump(x: XpuRt): void {
    while (x.busy < x.lanes && x.queue.length) {
      let worker = -1;
      const pick = x.queue.findIndex(
        (rt) => !(rt.group !== undefined && this.busyGroups.has(rt.group)) && (x.workerBusy === null || (worker = this.idleWorker(x, rt)) >= 0),
      );
      if (pick < 0) return;
      const rt = x.queue.splice(pick, 1)[0]!;
      rt.queued = false;
      this.execute(rt, worker);
      if (x.i === this.loop) {
        // As the executor: with work in flight elsewhere, completions already due are taken
        // in (events at this instant, queued before) before the next main-thread stage.
        if (!x.queue.length) return;
        if (this.running === 0) this.markDirty(x);
        else if (!x.yielding) {
          x.yielding = true;
          this.at(this.now, () => {
            x.yielding = false;
            this.markDirty(x);
          });
        }
        return;
      }
    }
  }

  private execute(rt: StageRt, worker: number): void {
    const start = this.now;
    rt.waitMs.push(start - rt.readySince);
    rt.running = true;
    this.running++;
    const x = this.xpus[rt.xpu]!;
    const mx = this.m.xpus[rt.xpu]!;
    x.busy++;
    if (worker >= 0) x.workerBusy![worker] = true;
    rt.worker = worker;
    if (rt.group !== undefined) this.busyGroups.add(rt.group);
    const frame: Env = { seq: 0, t0: Infinity, enc: false };
    let decode = 0;
    if (rt.source) {
      frame.seq = rt.source.tickSeq;
      frame.t0 = rt.source.tickT0;
      rt.source.pending = false;
    } else {
      for (const p of rt.inputs) {
        const env = p.m.latched ? p.latest : p.queue.shift();
        if (!env) continue;
        if (env.enc) decode += p.m.decodeMs;
        if (!p.m.latched) {
          if (env.t0 < frame.t0) frame.t0 = env.t0;
          if (env.seq > frame.seq) frame.seq = env.seq;
        }
        if (this.fast) for (const pr of p.m.producers) this.offerLater(this.stages[pr]!);
      }
    }
    const work = this.sample(rt.lat);
    if (this.loop >= 0) {
      // Decoding happens on the event loop before the call, inside the stage's run time.
      this.runSync(decode, true);
      if (rt.xpu === this.loop) {
        this.runSync(work, mx.usesCores);
        this.complete(rt, frame, start);
      } else {
        this.runAsync(work, mx.usesCores, () => this.complete(rt, frame, start));
      }
    } else {
      this.runAsync(decode + work, mx.usesCores, () => this.complete(rt, frame, start));
    }
  }

  private offerLater(p: StageRt): void {
    if (p.source) this.fastTick(p);
    else this.offer(p);
  }

  private complete(rt: StageRt, frame: Env, start: number): void {
    const x = this.xpus[rt.xpu]!;
    rt.running = false;
    this.running--;
    x.busy--;
    if (rt.worker >= 0) x.workerBusy![rt.worker] = false;
    x.busyMs += this.now - start;
    this.markDirty(x);
    if (rt.group !== undefined) {
      this.busyGroups.delete(rt.group);
      for (const o of this.stages) if (o.queued && o.group === rt.group) this.markDirty(this.xpus[o.xpu]!);
    }
    rt.runs++;
    rt.runMs.push(this.now - start);
    for (const o of rt.outs) {
      const env: Env = { t0: frame.t0, seq: frame.seq, enc: false };
      let encoded: Env | undefined;
      for (const s of o.subs) {
        let delay = transferMs(this.m, rt.xpu, s.rt.xpu, s.port.m.bytes);
        let e = env;
        if (s.cross) {
          if (!encoded) {
            // One encoding per published message, shared by every subscriber in other modules.
            encoded = { t0: frame.t0, seq: frame.seq, enc: true };
            if (this.loop >= 0) this.runSync(s.port.m.encodeMs, true);
            else delay += s.port.m.encodeMs;
          }
          e = encoded;
        }
        if (delay > 0) this.at(this.now + delay, () => this.deliver(s.rt, s.port, e));
        else this.deliver(s.rt, s.port, e);
      }
    }
    if (rt.isSink && frame.seq >= (this.opts.warmup ?? 0)) {
      let l = this.e2e.get(rt.i);
      if (!l) this.e2e.set(rt.i, (l = []));
      l.push(this.now - frame.t0);
    }
    if (rt.source) {
      if (this.fast) this.fastTick(rt);
    } else this.offer(rt);
  }

  private deliver(rt: StageRt, port: PortRt, env: Env): void {
    if (port.m.latched) port.latest = env;
    else {
      if (port.queue.length >= port.m.depth) {
        port.queue.shift();
        port.drops++;
      }
      port.queue.push(env);
    }
    this.offer(rt);
  }

  private result(): SimResult {
    const all: number[] = [];
    const bySink = new Map<number, Summary>();
    for (const [s, l] of this.e2e) {
      bySink.set(s, summarize(l));
      all.push(...l);
    }
    return {
      e2e: summarize(all),
      e2eBySink: bySink,
      stages: this.stages.map((rt) => ({
        runs: rt.runs,
        drops: rt.inputs.reduce((n, p) => n + p.drops, 0),
        run: summarize(rt.runMs),
        wait: summarize(rt.waitMs),
      })),
      overruns: this.overruns,
      emitted: this.stages.reduce((n, rt) => n + (rt.source?.emitted ?? 0), 0),
      wallMs: this.now,
      utilisation: this.xpus.map((x) => (this.now > 0 ? x.busyMs / this.now : 0)),
      simulated: this.m.simulated,
    };
  }
}

const Q_PROBS = [0, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99, 1];

/** Quantile sketch [min, p10, p25, p50, p75, p90, p99, max] of measured values. */
export function sketch(values: ArrayLike<number>): number[] {
  const sorted = Float64Array.from(values).sort();
  const n = sorted.length;
  return Q_PROBS.map((p) => {
    const pos = (n - 1) * p;
    const lo = Math.floor(pos);
    const hi = Math.min(n - 1, lo + 1);
    return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
  });
}

function inverseCdf(q: number[], u: number): number {
  for (let k = 1; k < Q_PROBS.length; k++) {
    if (u <= Q_PROBS[k]!) {
      const f = (u - Q_PROBS[k - 1]!) / (Q_PROBS[k]! - Q_PROBS[k - 1]!);
      return q[k - 1]! + (q[k]! - q[k - 1]!) * f;
    }
  }
  return q[q.length - 1]!;
}

