// Rollout jobs from agent histories, and the quality of their roll-outs (ADE/FDE).
import { CONTEXT, H, T, WINDOW, positions, tokenise } from './motion.js';
import type { RolloutJob } from '../../runtime/speculate/types.js';
import type { SamplingOptions } from '../../runtime/speculate/sampling.js';

export interface History {
  cls: number;
  /** At least H + 1 positions, oldest first; the last H + 1 are used. */
  xs: ArrayLike<number>;
  ys: ArrayLike<number>;
}

export const GREEDY: SamplingOptions = { temperature: 0, topK: 0 };

/** A job of `k` rollouts per history (rows = histories x k); refs[row] is the reference step. */
export function jobOf(histories: History[], k = 1, sampling: SamplingOptions = GREEDY, seed = 1): { job: RolloutJob; refs: Float64Array; origins: Float64Array } {
  const rows = histories.length * k;
  const tokens = new Int32Array(rows * WINDOW);
  const context = new Float32Array(rows * CONTEXT);
  const refs = new Float64Array(rows * 2);
  const origins = new Float64Array(rows * 2);
  const xs = new Float64Array(H + 1);
  const ys = new Float64Array(H + 1);
  histories.forEach((h, a) => {
    const n = h.xs.length;
    for (let i = 0; i <= H; i++) {
      xs[i] = h.xs[n - 1 - H + i]!;
      ys[i] = h.ys[n - 1 - H + i]!;
    }
    for (let j = 0; j < k; j++) {
      const row = a * k + j;
      const ref = tokenise(xs, ys, h.cls, tokens, row * WINDOW, context, row * CONTEXT);
      refs[row * 2] = ref[0];
      refs[row * 2 + 1] = ref[1];
      origins[row * 2] = xs[H]!;
      origins[row * 2 + 1] = ys[H]!;
    }
  });
  return { job: { rows, prompt: H, steps: T, tokens, context, sampling, seed }, refs, origins };
}

/** Positions [T x (x, y)] of a job row's rollout. */
export function rolloutPositions(job: RolloutJob, refs: Float64Array, origins: Float64Array, row: number, out = new Float64Array(2 * T)): Float64Array {
  return positions(origins[row * 2]!, origins[row * 2 + 1]!, [refs[row * 2]!, refs[row * 2 + 1]!], job.tokens, row * WINDOW + H, T, out);
}

/** Accumulates displacement errors of predictions against truth, and of constant velocity. */
export class DisplacementMeter {
  ade = 0;
  fde = 0;
  cvAde = 0;
  cvFde = 0;
  n = 0;

  /**
   * pred, truth: [steps x (x, y)]; cv: the last history step (vx, vy per step) from (x0, y0).
   * A step whose truth is NaN (its frame never came) is left out of the ADE; the last step's
   * truth is required (FDE).
   */
  add(pred: ArrayLike<number>, truth: ArrayLike<number>, steps: number, x0: number, y0: number, vx: number, vy: number): void {
    let a = 0;
    let c = 0;
    let m = 0;
    for (let s = 0; s < steps; s++) {
      const gx = truth[2 * s]!;
      const gy = truth[2 * s + 1]!;
      if (Number.isNaN(gx) || Number.isNaN(gy)) continue;
      const e = Math.hypot(pred[2 * s]! - gx, pred[2 * s + 1]! - gy);
      const v = Math.hypot(x0 + vx * (s + 1) - gx, y0 + vy * (s + 1) - gy);
      a += e;
      c += v;
      m++;
      if (s === steps - 1) {
        this.fde += e;
        this.cvFde += v;
      }
    }
    this.ade += a / m;
    this.cvAde += c / m;
    this.n++;
  }

  /** Mean errors (m) of the scored rollouts; null while none has met its ground truth yet. */
  result() {
    const n = this.n;
    const r = (v: number) => (n ? Math.round((v / n) * 1e4) / 1e4 : null);
    return { ade_m: r(this.ade), fde_m: r(this.fde), cv_ade_m: r(this.cvAde), cv_fde_m: r(this.cvFde), scored: this.n };
  }
}
