// The smaller fitted model drafting whole rollouts ahead of verification (the draft stage):
// greedy rollouts draft its argmax; sampled rollouts draw each token from its own
// distribution at the job's temperature and top-k, cut to its `width` most likely tokens, and
// hand that distribution over with the token, so the verifier can accept with min(1, p / q).
// One job may hold both (every `greedyEvery`-th row greedy): one model call a step for all.
import type { Predrafts } from '../../runtime/speculate/predraft.js';
import { distribution, rowStreams } from '../../runtime/speculate/sampling.js';
import type { RolloutJob } from '../../runtime/speculate/types.js';
import { CONTEXT, DRAFT_WINDOW, VOCAB } from './motion.js';
import type { OrtWindowModel } from './model.js';

/** Entries of a sampled draft's distribution: the top-k, or the 32 most likely tokens. */
export const qWidth = (topK: number) => (topK > 0 ? Math.min(topK, VOCAB) : 32);

export class WholeDrafter {
  #tokens = new BigInt64Array(0);
  #context = new Float32Array(0);
  readonly #p = new Float64Array(VOCAB);
  readonly #sort = new Float64Array(VOCAB);

  constructor(readonly model: OrtWindowModel) {}

  /**
   * Drafts steps - 1 tokens of every row of the job (the last one is always the target's); seed:
   * the drafter's own draws. greedyEvery > 0: rows r with r % greedyEvery = 0 are greedy in a
   * sampled job (their entries of q are left empty).
   */
  async draft(job: RolloutJob, seed: number, greedyEvery = 0): Promise<Predrafts> {
    const W = DRAFT_WINDOW;
    const rows = job.rows;
    const ahead = job.steps - 1;
    const win = job.tokens.length / rows;
    const sampled = job.sampling.temperature > 0;
    const width = qWidth(job.sampling.topK);
    const out: Predrafts = { ahead, tokens: new Int32Array(rows * ahead) };
    if (sampled) out.q = { width, idx: new Int32Array(rows * ahead * width), val: new Float32Array(rows * ahead * width) };
    if (this.#tokens.length < rows * W) {
      this.#tokens = new BigInt64Array(rows * W);
      this.#context = new Float32Array(rows * CONTEXT);
    }
    for (let r = 0; r < rows; r++) {
      for (let p = 0; p < W; p++) this.#tokens[r * W + p] = BigInt(job.tokens[r * win + job.prompt - W + p]!);
      this.#context.set(job.context.subarray(r * CONTEXT, r * CONTEXT + CONTEXT), r * CONTEXT);
    }
    const streams = sampled ? rowStreams(seed, rows) : [];
    for (let s = 0; s < ahead; s++) {
      const { argmax, logits } = await this.model.run(this.#tokens, this.#context, rows, sampled);
      for (let r = 0; r < rows; r++) {
        const next = sampled && !(greedyEvery > 0 && r % greedyEvery === 0) ? this.#sample(logits!, (r * W + W - 1) * VOCAB, job, out.q!, (r * ahead + s) * width, streams[r]!) : Number(argmax[r * W + W - 1]);
        out.tokens[r * ahead + s] = next;
        this.#tokens.copyWithin(r * W, r * W + 1, r * W + W);
        this.#tokens[r * W + W - 1] = BigInt(next);
      }
    }
    return out;
  }

  /** Keeps the `width` most likely tokens (as stored, float32), draws one from them by their weights. */
  #sample(logits: Float32Array, off: number, job: RolloutJob, q: NonNullable<Predrafts['q']>, at: number, rand: () => number): number {
    const p = distribution(logits, off, VOCAB, job.sampling, this.#p, this.#sort);
    const { width, idx, val } = q;
    let n = 0;
    for (let j = 0; j < VOCAB; j++) {
      const v = p[j]!;
      if (n === width && v <= val[at + width - 1]!) continue;
      let i = n < width ? n++ : width - 1;
      while (i > 0 && val[at + i - 1]! < v) {
        val[at + i] = val[at + i - 1]!;
        idx[at + i] = idx[at + i - 1]!;
        i--;
      }
      val[at + i] = v;
      idx[at + i] = j;
    }
    let sum = 0;
    for (let e = 0; e < width; e++) sum += val[at + e]!;
    const goal = rand() * sum;
    let acc = 0;
    for (let e = 0; e < width; e++) {
      acc += val[at + e]!;
      if (goal < acc) return idx[at + e]!;
    }
    return idx[at]!;
  }
}
