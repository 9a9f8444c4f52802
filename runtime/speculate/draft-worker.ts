// The verifier's side of the draft worker thread (draft.worker.ts): the shared board, job
// hand-over, and shutdown.
import { Worker } from 'node:worker_threads';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { packageRoot } from '../util/paths.js';
import { createBoard, type Board, type DraftSource } from './board.js';
import { SELECTOR_DEFAULTS } from './selector.js';
import type { PayoffHistory } from './payoff.js';
import type { RolloutJob } from './types.js';

const BOOT = pathToFileURL(join(packageRoot(), 'runtime', 'xpu', 'worker-boot.mjs'));
const WORKER = new URL(`./draft.worker.${import.meta.url.endsWith('.ts') ? 'ts' : 'js'}`, import.meta.url).href;

/** The draft worker: started once (drafter models load there), then serves job after job. */
export class DraftWorker implements DraftSource {
  readonly board: Board;
  readonly live = true;
  readonly #worker: Worker;
  readonly #exited: Promise<void>;
  #started: Promise<void>;
  #failure: Error | undefined;
  /** Per drafter name: acceptance over the jobs served so far (new rollouts start from it). */
  readonly priors = new Map<string, number>();
  /** Target call time (ms), smoothed over jobs: how long the verifier may wait for drafts. */
  callMs = 0;
  /** Per drafter set: whether speculation paid in its last job (Payoff). */
  readonly paid = new Map<string, PayoffHistory>();

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

  /**
   * Loads the job's committed tokens and context; the worker starts drafting once it is ready.
   * draft false: a job that uses none of the worker's drafters only gets the board (no round
   * trip to the worker, which stays idle).
   */
  async begin(job: RolloutJob, contextDim: number, draft = true): Promise<void> {
    if (draft) await this.#started;
    if (job.rows > this.capacity) throw new Error(`draft worker holds ${this.capacity} rows; the job has ${job.rows}`);
    Atomics.store(this.board.control, 1, 0);
    const W = job.tokens.length / job.rows;
    if (W !== this.window || contextDim !== this.contextDim) throw new Error(`draft worker window ${this.window}x${this.contextDim}; the job has ${W}x${contextDim}`);
    this.board.committed.set(job.tokens);
    this.board.context.set(job.context);
    this.board.lens.fill(job.prompt, 0, job.rows);
    this.board.want.fill(0);
    if (!draft) return;
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

