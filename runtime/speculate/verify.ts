// Exact verification of a draft against the target.
// Greedy: the longest prefix of the draft equal to the target's argmax, then the target's own
// next token (so every verification commits at least one token, as plain decoding would).
// Sampled: rejection sampling (Leviathan et al., Chen et al.): draft token x with drafter
// probability q(x) is accepted with probability min(1, p(x) / q(x)); on rejection the token is
// drawn from max(0, p - q) normalised; when every draft token is accepted one more token is
// drawn from p. A drafter without a distribution counts as one-hot (q(x) = 1), so the residual
// is p without x. The committed tokens then have exactly the target's distribution.
import { distribution, draw, type SamplingOptions } from './sampling.js';

/**
 * Greedy: argmax[pos] is the target's next token after position pos of this row's window.
 * Draft tokens go at positions c .. c + k - 1. Writes the committed tokens into out and
 * returns how many (accepted + 1); `accepted` tells how many draft tokens were taken.
 */
export function verifyGreedy(argmax: ArrayLike<bigint | number>, base: number, c: number, draft: ArrayLike<number>, doff: number, k: number, out: Int32Array): { committed: number; accepted: number } {
  let i = 0;
  while (i < k && Number(argmax[base + c - 1 + i]) === draft[doff + i]) {
    out[i] = draft[doff + i]!;
    i++;
  }
  out[i] = Number(argmax[base + c - 1 + i]);
  return { committed: i + 1, accepted: i };
}

export interface SampledScratch {
  p: Float64Array;
  q: Float64Array;
  sort: Float64Array;
}

export function sampledScratch(vocab: number): SampledScratch {
  return { p: new Float64Array(vocab), q: new Float64Array(vocab), sort: new Float64Array(vocab) };
}

/**
 * Sampled: logits of this row start at `base` ([window, vocab] row-major); q (optional)
 * gives the drafter's distribution of draft token i as q(i, token) (null: one-hot).
 */
export function verifySampled(
  logits: Float32Array,
  base: number,
  vocab: number,
  c: number,
  draft: ArrayLike<number>,
  doff: number,
  k: number,
  o: SamplingOptions,
  rand: () => number,
  q: ((i: number, out: Float64Array) => void) | null,
  s: SampledScratch,
  out: Int32Array,
): { committed: number; accepted: number } {
  for (let i = 0; i < k; i++) {
    const p = distribution(logits, base + (c - 1 + i) * vocab, vocab, o, s.p, s.sort);
    const x = draft[doff + i]!;
    let qx = 1;
    if (q) {
      q(i, s.q);
      qx = s.q[x]!;
    }
    const u = rand();
    if (qx > 0 && u * qx < p[x]!) {
      out[i] = x;
      continue;
    }
    // Rejected: residual max(0, p - q).
    if (q) for (let j = 0; j < vocab; j++) p[j] = Math.max(0, p[j]! - s.q[j]!);
    else p[x] = 0;
    out[i] = draw(p, vocab, rand());
    return { committed: i + 1, accepted: i };
  }
  const p = distribution(logits, base + (c - 1 + k) * vocab, vocab, o, s.p, s.sort);
  out[k] = draw(p, vocab, rand());
  return { committed: k + 1, accepted: k };
}

/** Plain sampled decoding's draw at one position (the same distribution verification keeps). */
export function sampleNext(logits: Float32Array, base: number, vocab: number, pos: number, o: SamplingOptions, rand: () => number, s: SampledScratch): number {
  return draw(distribution(logits, base + pos * vocab, vocab, o, s.p, s.sort), vocab, rand());
}
