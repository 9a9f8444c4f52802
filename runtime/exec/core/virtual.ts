// Virtual time for the dispatch core: a clock that jumps from event to event, and a machine
// model under it — the event-loop thread (synchronous work blocks everything else's dispatch),
// threads sharing the CPU cores (processor sharing), and work beside co-runners slowing down.
// The simulator runs the core on it with a cost model; the executor runs on it in tests, with
// real stage code and deterministic costs (RxJS's VirtualTimeScheduler is the pattern).
import { Heap } from 'heap-js';
import type { Clock } from './types.js';

interface Ev {
  t: number;
  n: number;
  run: (() => void) | null;
}

/** Thread-level work: progresses under processor sharing until its solo time is used up. */
interface Work {
  remaining: number;
  cores: boolean;
  /** Slowdown per other memory-sharing job running beside it (memory bandwidth, caches). */
  contention: number;
  /** Uses the memory the others share (this host's DRAM, a board's). */
  mem: boolean;
  onDone: (() => void) | null;
}

export interface MachineOptions {
  /** Cores the core-using threads share (Infinity: no sharing). */
  cores?: number;
}

export class VirtualMachine implements Clock {
  private t = 0;
  private evN = 0;
  private readonly events = new Heap<Ev>((x, y) => x.t - y.t || x.n - y.n);
  private readonly jobs: Work[] = [];
  /** Real work (stage code of a virtually-timed executor) whose result a completion awaits. */
  private readonly pending = new Set<Promise<unknown>>();
  private readonly micro: Array<() => void> = [];
  readonly cores: number;
  /** Set while the event loop runs synchronous work. */
  mainBusy = false;

  constructor(opts: MachineOptions = {}) {
    this.cores = opts.cores ?? Infinity;
  }

  now(): number {
    return this.t;
  }

  at(t: number, fn: () => void): () => void {
    const ev: Ev = { t, n: this.evN++, run: fn };
    this.events.push(ev);
    return () => (ev.run = null);
  }

  /** Node timers fire no sooner than 1 ms after they are set; a precise one (precise.ts) fires at its time. */
  timer(t: number, fn: () => void, precise = false): () => void {
    return this.at(precise ? Math.max(t, this.t) : Math.max(t, this.t + (t - this.t < 1 ? 1 : 0)), fn);
  }

  soon(fn: () => void): void {
    this.at(this.t, fn);
  }

  /**
   * Runs `fn` right after the current event, before any other (a promise continuation on the
   * event loop: real code that returned a promise on the main thread).
   */
  microtask(fn: () => void): void {
    this.micro.push(fn);
  }

  private async settle(): Promise<void> {
    for (;;) {
      while (this.pending.size) await Promise.all([...this.pending]);
      const fn = this.micro.shift();
      if (!fn) return;
      fn();
    }
  }

  /** Holds virtual time until `p` settles (real code running under virtual time), or release(). */
  hold(p: Promise<unknown>): () => void {
    let release!: () => void;
    const q: Promise<void> = Promise.race([p, new Promise<void>((r) => (release = r))]).then(
      () => void this.pending.delete(q),
      () => void this.pending.delete(q),
    );
    this.pending.add(q);
    return release;
  }

  /** Progress per ms of `j` with `n` core-using and `nm` memory-sharing jobs running. */
  private rate(j: Work, n: number, nm: number): number {
    const share = j.cores && n > this.cores ? this.cores / n : 1;
    // Co-runners beyond the cores take turns: at most cores - 1 run beside it at once.
    const others = j.mem ? Math.min(nm, this.cores) - 1 : 0;
    return j.contention > 0 && others > 0 ? share / (1 + j.contention * others) : share;
  }

  /** Advances threads to the next job end no later than `limit`; false when none ends by then. */
  private step(limit: number): boolean {
    if (this.jobs.length === 0) {
      if (limit !== Infinity) this.t = Math.max(this.t, limit);
      return false;
    }
    let n = 0;
    let nm = 0;
    for (const j of this.jobs) {
      if (j.cores) n++;
      if (j.mem) nm++;
    }
    let dt = Infinity;
    for (const j of this.jobs) dt = Math.min(dt, j.remaining / this.rate(j, n, nm));
    if (this.t + dt > limit) {
      const adv = limit - this.t;
      if (adv > 0) for (const j of this.jobs) j.remaining -= adv * this.rate(j, n, nm);
      this.t = Math.max(this.t, limit);
      return false;
    }
    this.t += dt;
    const done: Work[] = [];
    for (let k = this.jobs.length - 1; k >= 0; k--) {
      const j = this.jobs[k]!;
      j.remaining -= dt * this.rate(j, n, nm);
      if (j.remaining <= 1e-9) {
        done.push(j);
        this.jobs.splice(k, 1);
      }
    }
    for (let k = done.length - 1; k >= 0; k--) done[k]!.onDone?.();
    return true;
  }

  /** Runs `ms` of synchronous work on the event-loop thread; other threads progress meanwhile. */
  runSync(ms: number, cores: boolean, contention = 0, mem = cores): void {
    if (ms <= 0) return;
    let finished = false;
    this.jobs.push({ remaining: ms, cores, contention, mem, onDone: () => (finished = true) });
    const was = this.mainBusy;
    this.mainBusy = true;
    while (!finished) this.step(Infinity);
    this.mainBusy = was;
  }

  /** Starts `ms` of work on another thread; `then` is queued on the event loop when it ends. */
  runAsync(ms: number, cores: boolean, then: () => void, contention = 0, mem = cores): void {
    this.jobs.push({ remaining: Math.max(ms, 1e-6), cores, contention, mem, onDone: () => this.at(this.t, then) });
  }

  /** Runs events until none is left (no real work may be pending: see runUntilIdle). */
  runToEnd(): void {
    for (;;) {
      const next = this.events.peek();
      if (this.step(next ? next.t : Infinity)) continue;
      const ev = this.events.pop();
      if (!ev) return;
      if (this.pending.size) throw new Error('virtual machine: real work pending in a synchronous run');
      if (ev.t > this.t) this.t = ev.t;
      ev.run?.();
      for (let fn = this.micro.shift(); fn; fn = this.micro.shift()) fn();
    }
  }

  /**
   * Runs events until none is left, letting real work settle before each event: completions
   * then happen at their virtual times whatever the real ones were (deterministic).
   */
  async runUntilIdle(): Promise<void> {
    for (;;) {
      await this.settle();
      const next = this.events.peek();
      if (this.step(next ? next.t : Infinity)) continue;
      const ev = this.events.pop();
      if (!ev) {
        // Real work may resolve promises that schedule more: settle them, then look again.
        await new Promise<void>((r) => setImmediate(r));
        if (this.pending.size || this.micro.length || this.events.size()) continue;
        return;
      }
      if (ev.t > this.t) this.t = ev.t;
      ev.run?.();
    }
  }
}
