// Motion drafters, and the factory the draft worker imports: the smaller fitted model,
// kinematic extrapolation, n-gram lookup over the batch, and the random drafter (tests).
import { NgramDrafter, RandomDrafter } from '../../runtime/speculate/drafters.js';
import type { DraftBatch, Drafter, DrafterFactory } from '../../runtime/speculate/types.js';
import { CONTEXT, DRAFT_WINDOW, NY, VOCAB } from './motion.js';
import { ensureRolloutModels, OrtWindowModel } from './model.js';

/**
 * Constant velocity / constant turn from the latest steps: the next residual continues the
 * change of the last two (x and y on the token grid), damped so it stays on the grid. The
 * motion analogue of prompt lookup: it costs no model at all.
 */
export class KinematicDrafter implements Drafter {
  readonly name = 'kinematic';
  propose(b: DraftBatch): void {
    const nx = VOCAB / NY;
    for (let i = 0; i < b.count; i++) {
      const at = b.rows[i]! * b.window + b.lens[i]!;
      const last = b.tokens[at - 1]!;
      const prev = b.tokens[at - 2]!;
      let x = Math.floor(last / NY);
      let y = last % NY;
      const dx = x - Math.floor(prev / NY);
      const dy = y - (prev % NY);
      for (let s = 0; s < b.ks[i]!; s++) {
        // A steady change of one grid step continues (a turn); larger jumps are noise: straight on.
        if (Math.abs(dx) === 1) x = Math.min(nx - 1, Math.max(0, x + dx));
        if (Math.abs(dy) === 1) y = Math.min(NY - 1, Math.max(0, y + dy));
        b.out[i * b.stride + s] = x * NY + y;
      }
    }
  }
}

/** The smaller fitted model, run token by token over a short window of the latest tokens. */
export class ModelDrafter implements Drafter {
  readonly name = 'model';
  #tokens = new BigInt64Array(0);
  #context = new Float32Array(0);
  constructor(private readonly model: OrtWindowModel) {}

  async propose(b: DraftBatch): Promise<void> {
    const W = DRAFT_WINDOW;
    if (this.#tokens.length < b.count * W) {
      this.#tokens = new BigInt64Array(b.count * W);
      this.#context = new Float32Array(b.count * CONTEXT);
    }
    let kmax = 0;
    for (let i = 0; i < b.count; i++) {
      const at = b.rows[i]! * b.window + b.lens[i]!;
      for (let p = 0; p < W; p++) this.#tokens[i * W + p] = BigInt(b.tokens[at - W + p]!);
      for (let j = 0; j < CONTEXT; j++) this.#context[i * CONTEXT + j] = b.context[b.rows[i]! * CONTEXT + j]!;
      kmax = Math.max(kmax, b.ks[i]!);
    }
    for (let s = 0; s < kmax; s++) {
      if (b.wanted && !b.wanted()) {
        for (let i = 0; i < b.count; i++) b.ks[i] = Math.min(b.ks[i]!, s);
        return;
      }
      const { argmax } = await this.model.run(this.#tokens, this.#context, b.count, false);
      for (let i = 0; i < b.count; i++) {
        const next = argmax[i * W + W - 1]!;
        if (s < b.ks[i]!) b.out[i * b.stride + s] = Number(next);
        this.#tokens.copyWithin(i * W, i * W + 1, i * W + W);
        this.#tokens[i * W + W - 1] = next;
      }
    }
  }

  async close(): Promise<void> {
    await this.model.close();
  }
}

export const DRAFTERS = ['model', 'kinematic', 'ngram', 'random'] as const;

export const createDrafters: DrafterFactory = async (names, options) => {
  const rows = Number(options.rows ?? 1024);
  const out: Drafter[] = [];
  for (const n of names) {
    if (n === 'kinematic') out.push(new KinematicDrafter());
    else if (n === 'ngram') out.push(new NgramDrafter(VOCAB, rows));
    else if (n === 'random') out.push(new RandomDrafter(VOCAB, Number(options.seed ?? 1)));
    else if (n === 'model') out.push(new ModelDrafter(await OrtWindowModel.open((await ensureRolloutModels()).draft, DRAFT_WINDOW)));
    else throw new Error(`unknown drafter '${n}'; expected one of ${DRAFTERS.join(', ')}`);
  }
  return out;
};
