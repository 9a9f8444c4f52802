// Decoupled speculation: drafters run ahead on a worker thread (one XPU) while the target
// verifies on this one. Each round the verifier takes, per rollout, the freshest draft that
// continues the committed prefix (a draft built on since-rejected tokens is stale: counted
// and discarded; the worker redrafts), picks the drafter by measured acceptance (Selector),
// optionally verifies a second candidate as an extra row when rows are cheap (greedy only:
// choosing after verification would bias sampling), commits, and tells the worker.
import { Worker } from 'node:worker_threads';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { packageRoot } from '../util/paths.js';
import { createBoard, readDraft, STALE, type Board } from './board.js';
import { CallBuffers, jobEnd, phaseOf, Verifier } from './engine.js';
import { Selector, SELECTOR_DEFAULTS, type SelectorOptions } from './selector.js';
import { newStats, type RunStats } from './stats.js';
import type { RolloutJob, Target } from './types.js';

export interface DecoupledOptions {
  /** The worker's drafters this job may use (default: all). */
  use?: string[];
  selector?: Partial<SelectorOptions>;
  /** Extra candidate rows allowed per call, as a share of the call's cost (0 = never). */
  extraCost?: number;
  /** Test hook: called after every round, before the worker is told of the commits. */
  onRound?(board: Board, round: number): void | Promise<void>;
}

const BOOT = pathToFileURL(join(packageRoot(), 'runtime', 'xpu', 'worker-boot.mjs'));
const WORKER = new URL(`./draft.worker.${import.meta.url.endsWith('.ts') ? 'ts' : 'js'}`, import.meta.url).href;

/** Call cost as intercept + slope per row, fitted online from measured calls. */
class CostModel {
  #n = 0;
  #sx = 0;
  #sy = 0;
  #sxx = 0;
  #sxy = 0;
  add(rows: number, ms: number): void {
    this.#n++;
    this.#sx += rows;
    this.#sy += ms;
    this.#sxx += rows * rows;
    this.#sxy += rows * ms;
  }
  /** Rows that can be added to a call of `rows` rows for at most `share` of its cost. */
  spare(rows: number, share: number): number {
    if (this.#n < 3 || share <= 0) return 0;
    const den = this.#n * this.#sxx - this.#sx * this.#sx;
    if (den <= 0) return 0;
    const b = Math.max(1e-6, (this.#n * this.#sxy - this.#sx * this.#sy) / den);
    const a = Math.max(0, (this.#sy - b * this.#sx) / this.#n);
    return Math.max(0, Math.floor((share * (a + b * rows)) / b));
  }
}

/** The draft worker: started once (drafter models load there), then serves job after job. */
export class DraftWorker {
  readonly board: Board;
  readonly #worker: Worker;
  readonly #exited: Promise<void>;
  #started: Promise<void>;
  #failure: Error | undefined;

  constructor(
    readonly drafters: string[],
    readonly capacity: number,
    factory: string,
    options: Record<string, unknown> = {},
    readonly ahead = SELECTOR_DEFAULTS.maxAhead,
    readonly window = 64,
    readonly contextDim = 8,
  ) {
    const shape = { rows: capacity, window, drafters: drafters.length, ahead, contextDim };
    this.board = createBoard(shape);
    const init = { shape, buffers: this.board.buffers, factory, names: drafters, options: { rows: capacity, ...options } };
    this.#worker = new Worker(BOOT, { workerData: { fromSource: import.meta.url.endsWith('.ts'), host: WORKER, init }, name: 'xauto-drafts' });
    this.#exited = new Promise((resolve) => {
      this.#worker.once('error', (e) => (this.#failure = e instanceof Error ? e : new Error(String(e))));
      this.#worker.once('exit', () => resolve());
    });
    this.#started = this.#reply('started');
  }

  #reply(type: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const onMessage = (m: { type: string }) => {
        if (m.type !== type) return;
        this.#worker.off('message', onMessage);
        resolve();
      };
      this.#worker.on('message', onMessage);
      void this.#exited.then(() => reject(this.#failure ?? new Error('draft worker exited')));
    });
  }

  /** Loads the job's committed tokens and context; the worker starts drafting once it is ready. */
  async begin(job: RolloutJob, contextDim: number): Promise<void> {
    await this.#started;
    if (job.rows > this.capacity) throw new Error(`draft worker holds ${this.capacity} rows; the job has ${job.rows}`);
    Atomics.store(this.board.control, 1, 0);
    const W = job.tokens.length / job.rows;
    if (W !== this.window || contextDim !== this.contextDim) throw new Error(`draft worker window ${this.window}x${this.contextDim}; the job has ${W}x${contextDim}`);
    this.board.committed.set(job.tokens);
    this.board.context.set(job.context);
    this.board.lens.fill(job.prompt, 0, job.rows);
    this.board.want.fill(0);
    const ready = this.#reply('ready');
    this.#worker.postMessage({ type: 'job', rows: job.rows, end: job.prompt + job.steps });
    await ready;
    Atomics.store(this.board.control, 1, 1);
  }

  /** Stops drafting for the job (the worker stays up for the next). */
  end(): void {
    Atomics.store(this.board.control, 1, 0);
    this.notify();
  }

  notify(): void {
    Atomics.add(this.board.control, 0, 1);
    Atomics.notify(this.board.control, 0);
  }

  async close(): Promise<void> {
    this.end();
    this.#worker.postMessage({ type: 'stop' });
    this.notify();
    await this.#exited;
  }
}

// Node 20 has Atomics.waitAsync; the TypeScript lib this project targets does not declare it.
const waitAsync = (Atomics as unknown as { waitAsync(a: Int32Array, i: number, v: number, ms: number): { value: Promise<unknown> | string } }).waitAsync;

const remaining = (b: Board, job: RolloutJob, end: number) => {
  let n = 0;
  for (let row = 0; row < job.rows; row++) if (b.lens[row]! < end) n++;
  return n;
};

/** Unfinished rollouts, drafting on, with no draft beyond their committed prefix. */
function missing(b: Board, job: RolloutJob, D: number, use: boolean[], end: number): number {
  let n = 0;
  for (let row = 0; row < job.rows; row++) {
    const c = b.lens[row]!;
    if (c >= end) continue;
    let any = false;
    for (let d = 0; d < D && !any; d++) {
      if (!use[d] || b.want[row * D + d]! <= 0) continue;
      const slot = (row * D + d) * 3;
      any = b.meta[slot]! > 0 && b.meta[slot + 1]! <= c && b.meta[slot + 1]! + b.meta[slot + 2]! > c;
    }
    // Rows only measured or probed (want 2) are not waited for.
    let wanted = false;
    for (let d = 0; d < D; d++) wanted ||= use[d]! && b.want[row * D + d]! > 2;
    if (wanted && !any) n++;
  }
  return n;
}

export async function decodeDecoupled(job: RolloutJob, target: Target, worker: DraftWorker, o: DecoupledOptions = {}): Promise<RunStats> {
  const sel = { ...SELECTOR_DEFAULTS, ...o.selector, maxAhead: worker.ahead };
  const D = worker.drafters.length;
  const ahead = sel.maxAhead;
  const use = worker.drafters.map((n) => (o.use ?? worker.drafters).includes(n));
  const names = worker.drafters.filter((_, d) => use[d]);
  const stats = newStats(names.length > 1 ? 'dynamic' : `decoupled:${names[0]}`, job.rows, worker.drafters);
  const dstats = worker.drafters.map((n) => stats.drafters[n]!);
  const greedy = job.sampling.temperature <= 0;
  await worker.begin(job, target.contextDim);
  const b = worker.board;
  // Rows are filled from the committed tokens on the board, which this thread owns.
  const live: RolloutJob = { ...job, tokens: b.committed };
  const selector = new Selector(job.rows, D, sel);
  for (let d = 0; d < D; d++) if (!use[d]) selector.disable(d);
  // Measured drafting cost per token (the worker accumulates it over the jobs it served).
  const perToken = new Float64Array(D);
  const measureCost = () => {
    for (let d = 0; d < D; d++) perToken[d] = b.cost[d * 2 + 1]! > 0 ? b.cost[d * 2]! / b.cost[d * 2 + 1]! : 0;
  };
  measureCost();
  const cost = new CostModel();
  const call = new CallBuffers(target, job.rows * 2, ahead);
  const v = new Verifier(job, target);
  const end = jobEnd(job);
  // Per rollout, this round: each drafter's usable draft (for the pick and for scoring).
  const cand = new Int32Array(job.rows * D * ahead);
  const usable = new Int32Array(job.rows * D);
  const first = new Int32Array(job.rows).fill(-1);
  const second = new Int32Array(job.rows).fill(-1);
  const chosen = new Int32Array(job.rows * 2);
  const results = new Int32Array(job.rows * (ahead + 1));
  const committedN = new Int32Array(job.rows);
  const wantOf = (row: number, d: number, round: number) => (use[d] ? selector.want(row, d, round, perToken) : 0);
  for (let row = 0; row < job.rows; row++) for (let d = 0; d < D; d++) b.want[row * D + d] = wantOf(row, d, 0);
  worker.notify();
  let lastCallMs = 1;
  const drafting = use.some((u) => u);
  const t0 = performance.now();
  try {
    for (let round = 0; ; round++) {
      // Drafting overlaps verification; only when most rollouts have nothing to verify, wait
      // for the worker, at most about one call's time.
      if (drafting && missing(b, live, D, use, end) * 2 > remaining(b, live, end)) await waitAsync(b.control, 2, Atomics.load(b.control, 2), Math.max(1, lastCallMs)).value;
      call.count = 0;
      let active = 0;
      for (let row = 0; row < job.rows; row++) {
        const c = b.lens[row]!;
        if (c >= end) continue;
        active++;
        const u = usable.subarray(row * D, row * D + D);
        for (let d = 0; d < D; d++) {
          const n = !use[d] ? 0 : readDraft(b, row, d, c, Math.min(ahead, end - c - 1), cand, (row * D + d) * ahead);
          if (n === STALE) dstats[d]!.stale++;
          u[d] = Math.max(0, n);
        }
        const d = selector.pick(row, u, round, perToken);
        const off = selector.off(row, round);
        if (off) stats.offRounds++;
        first[row] = off ? -1 : d;
        second[row] = -1;
        const i = call.count;
        const k = first[row]! >= 0 ? u[first[row]!]! : 0;
        if (k > 0) call.drafts.set(cand.subarray((row * D + d) * ahead, (row * D + d) * ahead + k), i * ahead);
        call.add(live, row, c, k);
        chosen[i] = first[row]!;
      }
      if (active === 0) break;
      const firsts = call.count;
      // Best-of-N in one pass: a second candidate per rollout, while rows are cheap.
      if (greedy && D > 1) {
        let spare = cost.spare(call.count, o.extraCost ?? 0.25);
        const n = call.count;
        for (let i = 0; i < n && spare > 0; i++) {
          const row = call.rowOf[i]!;
          const f = first[row]!;
          if (f < 0) continue;
          const c = b.lens[row]!;
          const u = usable.subarray(row * D, row * D + D);
          const s = selector.second(row, u, f, (d) => cand[(row * D + d) * ahead] !== cand[(row * D + f) * ahead]);
          if (s < 0) continue;
          const j = call.count;
          call.drafts.set(cand.subarray((row * D + s) * ahead, (row * D + s) * ahead + u[s]!), j * ahead);
          call.add(live, row, c, u[s]!);
          chosen[j] = s;
          second[row] = j;
          spare--;
        }
      }
      const tc = performance.now();
      const r = await target.run(call.tokens, call.context, call.count, !greedy);
      lastCallMs = performance.now() - tc;
      cost.add(call.count, lastCallMs);
      stats.calls++;
      stats.callRows += call.count;
      // Verify every call row; a rollout with two candidates keeps the longer (both are exact).
      committedN.fill(0);
      for (let i = 0; i < call.count; i++) {
        const row = call.rowOf[i]!;
        const c = b.lens[row]!;
        const { committed } = v.verify(call, i, c, r);
        if (committed > committedN[row]!) {
          committedN[row] = committed;
          results.set(call.out.subarray(0, committed), row * (ahead + 1));
          if (chosen[i]! >= 0) dstats[chosen[i]!]!.chosen++;
        }
      }
      for (let i = 0; i < firsts; i++) {
        const row = call.rowOf[i]!;
        const c = b.lens[row]!;
        const m = Math.min(committedN[row]!, end - c);
        const got = results.subarray(row * (ahead + 1), row * (ahead + 1) + m);
        // Score every drafter's draft against what was committed (the pick's evidence).
        for (let d = 0; d < D; d++) {
          const u = usable[row * D + d]!;
          if (u <= 0) continue;
          const n = Math.min(u, m);
          let matched = 0;
          while (matched < n && cand[(row * D + d) * ahead + matched] === got[matched]) matched++;
          const ph = phaseOf(job, c);
          dstats[d]!.proposed[ph]! += matched < n ? matched + 1 : matched;
          dstats[d]!.accepted[ph]! += matched;
          selector.score(row, d, matched, n);
        }
        b.committed.set(got, row * target.window + c);
        Atomics.store(b.lens, row, c + m);
        stats.rowCalls[row]!++;
        for (let d = 0; d < D; d++) Atomics.store(b.want, row * D + d, c + m >= end ? 0 : wantOf(row, d, round + 1));
      }
      measureCost();
      await o.onRound?.(b, round);
      worker.notify();
    }
  } finally {
    stats.ms = performance.now() - t0;
    worker.end();
  }
  job.tokens.set(b.committed.subarray(0, job.tokens.length));
  stats.tokens = job.rows * job.steps;
  return stats;
}
