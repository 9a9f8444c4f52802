// Target distributions from logits (temperature, top-k) and seeded draws from them.
import { mulberry32 } from '../util/random.js';

export interface SamplingOptions {
  /** 0 = greedy (argmax); otherwise logits are divided by it. */
  temperature: number;
  /** Keep only the k most likely tokens (0 = all). */
  topK: number;
}

/**
 * p = softmax(logits[off .. off + vocab) / temperature), restricted to the top-k tokens, into
 * `out` (float64). `scratch` (at least top-k long) is used to find the k-th largest logit.
 */
export function distribution(logits: Float32Array, off: number, vocab: number, o: SamplingOptions, out: Float64Array, scratch: Float64Array): Float64Array {
  let max = -Infinity;
  for (let j = 0; j < vocab; j++) if (logits[off + j]! > max) max = logits[off + j]!;
  let cut = -Infinity;
  if (o.topK > 0 && o.topK < vocab) {
    // The k-th largest logit, from a descending buffer of the k largest (k is small).
    const k = o.topK;
    let n = 0;
    for (let j = 0; j < vocab; j++) {
      const l = logits[off + j]!;
      if (n === k && l <= scratch[k - 1]!) continue;
      let i = n < k ? n++ : k - 1;
      while (i > 0 && scratch[i - 1]! < l) {
        scratch[i] = scratch[i - 1]!;
        i--;
      }
      scratch[i] = l;
    }
    cut = scratch[k - 1]!;
  }
  let sum = 0;
  for (let j = 0; j < vocab; j++) {
    const l = logits[off + j]!;
    const e = l >= cut ? Math.exp((l - max) / o.temperature) : 0;
    out[j] = e;
    sum += e;
  }
  for (let j = 0; j < vocab; j++) out[j]! /= sum;
  return out;
}

/** Index drawn from a (possibly unnormalised, non-negative) weight vector with uniform u in [0, 1). */
export function draw(w: Float64Array, vocab: number, u: number): number {
  let sum = 0;
  for (let j = 0; j < vocab; j++) sum += w[j]!;
  let acc = 0;
  const goal = u * sum;
  let last = 0;
  for (let j = 0; j < vocab; j++) {
    if (w[j]! <= 0) continue;
    acc += w[j]!;
    last = j;
    if (goal < acc) return j;
  }
  return last;
}

/** One seeded uniform stream per rollout, so a rollout's draws do not depend on the others. */
export function rowStreams(seed: number, rows: number): Array<() => number> {
  return Array.from({ length: rows }, (_, r) => mulberry32((seed * 0x9e3779b1) ^ (r * 0x85ebca6b) ^ 0x27d4eb2f));
}
