// Drafts made before verification, for the whole rollout: a draft stage on another XPU drafts
// frame f + 1 while the verifier works on frame f, and hands over, per rollout, a draft of
// every step (and, for sampled rollouts, the distributions it drew them from). The verifier
// reads them from a board like the draft worker's, so the same decoding loop serves both.
// After every round the rest of each draft is offered again from the committed length, also
// where verification contradicted an earlier token of it: draft token i was drawn from the
// drafter's distribution given its own earlier tokens, independently of the verifier's draws,
// and no decision so far has looked at it, so it remains a valid proposal with that
// distribution (exact for sampled verification; any draft is for greedy).
import { createBoard, writeDraft, type Board, type DraftSource } from './board.js';
import type { PayoffHistory } from './payoff.js';

/** A drafter's drafts of one job, made ahead of verification. */
export interface Predrafts {
  /** Tokens per draft row: positions prompt .. prompt + ahead - 1. */
  ahead: number;
  /** [draftRows * ahead] */
  tokens: Int32Array;
  /**
   * The distributions the tokens were drawn from, `width` (index, weight) entries per token,
   * weights normalised by their sum; absent for greedy drafts (one-hot).
   */
  q?: { width: number; idx: Int32Array; val: Float32Array };
}

export class PredraftSource implements DraftSource {
  readonly board: Board;
  readonly live = false;
  readonly drafters: string[];
  readonly priors = new Map<string, number>();
  readonly paid = new Map<string, PayoffHistory>();
  callMs = 0;
  #drafts: Predrafts | undefined;
  #map: Int32Array = new Int32Array(0);
  #prompt = 0;
  #steps = 0;
  #rows = 0;

  /** name: the drafter's; ahead: at least the job's steps - 1 (the last token is always the target's). */
  constructor(
    name: string,
    readonly capacity: number,
    readonly window: number,
    readonly contextDim: number,
    readonly ahead: number,
  ) {
    this.drafters = [name];
    this.board = createBoard({ rows: capacity, window, drafters: 1, ahead, contextDim });
  }

  /** The drafts of the next job: job row r continues draft row map[r] (-1: no draft for it). */
  load(drafts: Predrafts | undefined, map: Int32Array): void {
    if (drafts && drafts.ahead > this.ahead) throw new Error(`drafts of ${drafts.ahead} steps; the source holds ${this.ahead}`);
    this.#drafts = drafts;
    this.#map = map;
  }

  async begin(job: { rows: number; prompt: number; steps: number; tokens: Int32Array; context: Float32Array }, contextDim: number): Promise<void> {
    const b = this.board;
    if (job.rows > this.capacity) throw new Error(`draft source holds ${this.capacity} rows; the job has ${job.rows}`);
    if (job.tokens.length / job.rows !== this.window || contextDim !== this.contextDim) throw new Error(`draft source window ${this.window}x${this.contextDim}; the job has ${job.tokens.length / job.rows}x${contextDim}`);
    b.committed.set(job.tokens);
    b.context.set(job.context);
    b.lens.fill(job.prompt, 0, job.rows);
    b.want.fill(0);
    b.meta.fill(0);
    this.#prompt = job.prompt;
    this.#steps = job.steps;
    this.#rows = job.rows;
    this.notify();
  }

  /** Offers each draft's tokens from the committed length on (after every round). */
  notify(): void {
    const d = this.#drafts;
    if (!d) return;
    const b = this.board;
    const n = Math.min(d.ahead, this.#steps - 1);
    for (let row = 0; row < this.#rows; row++) {
      const r = this.#map[row] ?? -1;
      const done = b.lens[row]! - this.#prompt;
      if (r < 0 || done >= n || b.meta[row * 3 + 1] === b.lens[row]) continue;
      writeDraft(b, row, 0, b.lens[row]!, d.tokens, r * d.ahead + done, n - done);
    }
  }
  end(): void {}

  q(row: number, _d: number, pos: number, out: Float64Array): boolean {
    const d = this.#drafts;
    const r = this.#map[row] ?? -1;
    if (!d?.q || r < 0) return false;
    const { width, idx, val } = d.q;
    const at = (r * d.ahead + pos - this.#prompt) * width;
    out.fill(0);
    let sum = 0;
    for (let e = 0; e < width; e++) sum += val[at + e]!;
    for (let e = 0; e < width; e++) out[idx[at + e]!]! += val[at + e]! / sum;
    return true;
  }
}
