// Model-free drafters: n-gram lookup over the batch's own tokens, and a deliberately bad
// random drafter (tests and the worst case of the benchmark only).
import { mulberry32 } from '../util/random.js';
import type { DraftBatch, Drafter } from './types.js';

/**
 * Prompt lookup over the batch: the token that most recently followed the same `n` tokens,
 * in any row (rollouts of agents that move alike share their patterns). Falls back to
 * repeating the last token.
 */
export class NgramDrafter implements Drafter {
  readonly name = 'ngram';
  readonly #next = new Map<number, number>();
  readonly #seen: Int32Array;

  constructor(
    private readonly vocab: number,
    rows: number,
    private readonly n = 2,
  ) {
    this.#seen = new Int32Array(rows);
  }

  #key(t: Int32Array, at: number): number {
    let k = 0;
    for (let i = 0; i < this.n; i++) k = k * this.vocab + t[at + i]!;
    return k;
  }

  /** Learns the n-grams of committed tokens not seen yet. */
  #learn(b: DraftBatch, row: number, len: number): void {
    const base = row * b.window;
    for (let e = Math.max(this.#seen[row]!, this.n); e < len; e++) this.#next.set(this.#key(b.tokens, base + e - this.n), b.tokens[base + e]!);
    if (len > this.#seen[row]!) this.#seen[row] = len;
  }

  propose(b: DraftBatch): void {
    for (let i = 0; i < b.count; i++) this.#learn(b, b.rows[i]!, b.lens[i]!);
    const ctx = new Int32Array(this.n);
    for (let i = 0; i < b.count; i++) {
      const row = b.rows[i]!;
      const len = b.lens[i]!;
      for (let j = 0; j < this.n; j++) ctx[j] = b.tokens[row * b.window + len - this.n + j]!;
      for (let s = 0; s < b.ks[i]!; s++) {
        const next = this.#next.get(this.#key(ctx, 0)) ?? ctx[this.n - 1]!;
        b.out[i * b.stride + s] = next;
        ctx.copyWithin(0, 1);
        ctx[this.n - 1] = next;
      }
    }
  }
}

/** Uniformly random tokens: almost never accepted. */
export class RandomDrafter implements Drafter {
  readonly name = 'random';
  readonly #rand: () => number;
  constructor(
    private readonly vocab: number,
    seed = 1,
  ) {
    this.#rand = mulberry32(seed);
  }
  propose(b: DraftBatch): void {
    for (let i = 0; i < b.count; i++) for (let s = 0; s < b.ks[i]!; s++) b.out[i * b.stride + s] = Math.floor(this.#rand() * this.vocab);
  }
}

/**
 * Drafts given whole beforehand, one per row (a previous plan): at committed length c it
 * proposes the row's tokens from position c on (also past a token verification rejected:
 * they are proposals made before this job, so any of them may be verified). Load before each
 * job: has[row] = 0 where a row has none.
 */
export class GivenDrafter implements Drafter {
  readonly tokens: Int32Array;
  readonly has: Uint8Array;

  /** ahead: tokens per row's draft, for positions prompt .. prompt + ahead - 1. */
  constructor(
    readonly name: string,
    capacity: number,
    readonly ahead: number,
    readonly prompt: number,
  ) {
    this.tokens = new Int32Array(capacity * ahead);
    this.has = new Uint8Array(capacity);
  }

  propose(b: DraftBatch): void {
    for (let i = 0; i < b.count; i++) {
      const row = b.rows[i]!;
      const at = b.lens[i]! - this.prompt;
      const n = this.has[row] ? Math.max(0, Math.min(b.ks[i]!, this.ahead - at)) : 0;
      for (let s = 0; s < n; s++) b.out[i * b.stride + s] = this.tokens[row * this.ahead + at + s]!;
      b.ks[i] = n;
    }
  }
}
