// Dynamic best-of-N: per rollout and drafter, the acceptance measured so far (an EMA over
// draft tokens scored against what was committed: exact in greedy decoding, since a token
// the target committed is the one it would have accepted). The verifier drafts with the
// drafter whose draft promises the most accepted tokens, turns drafting off for a rollout
// when none promises enough, and probes again now and then.
export interface SelectorOptions {
  /** EMA step per scored token. */
  alpha: number;
  /** Expected accepted tokens per round below which a rollout is not drafted for. */
  minGain: number;
  /** Rounds between probes of a rollout whose drafting is off. */
  probeEvery: number;
  maxAhead: number;
}

export const SELECTOR_DEFAULTS: SelectorOptions = { alpha: 0.2, minGain: 0.35, probeEvery: 6, maxAhead: 30 };

export class Selector {
  /** [row * drafters + d] */
  readonly acc: Float64Array;
  readonly #offSince: Int32Array;
  /** Per drafter: acceptance across the batch, the prior new rollouts start from. */
  readonly prior: Float64Array;
  readonly #scored: Float64Array;

  /** prior: per drafter, the acceptance measured over earlier jobs (updated in place). */
  constructor(
    readonly rows: number,
    readonly drafters: number,
    readonly o: SelectorOptions = SELECTOR_DEFAULTS,
    prior?: Float64Array,
  ) {
    this.prior = prior ?? new Float64Array(drafters).fill(0.5);
    this.acc = new Float64Array(rows * drafters);
    for (let row = 0; row < rows; row++) this.acc.set(this.prior, row * drafters);
    this.#offSince = new Int32Array(rows).fill(-1);
    this.#scored = new Float64Array(drafters);
  }

  /** Expected accepted tokens of a u-token draft at per-token acceptance a: a + a^2 + ... + a^u. */
  static expected(a: number, u: number): number {
    let e = 0;
    let p = 1;
    for (let i = 0; i < u; i++) {
      p *= a;
      e += p;
    }
    return e;
  }

  /** Records that drafter d's draft had `matched` leading tokens committed, out of `scored` (a mismatch after them if matched < scored). */
  score(row: number, d: number, matched: number, scored: number): void {
    const at = row * this.drafters + d;
    let a = this.acc[at]!;
    const al = this.o.alpha;
    for (let i = 0; i < matched; i++) a += al * (1 - a);
    if (matched < scored) a -= al * a;
    this.acc[at] = a;
    // The prior new rollouts start from: what this drafter does across the batch.
    this.#scored[d]! += scored;
    const g = this.prior[d]!;
    this.prior[d] = g + 0.02 * (a - g);
  }

  /** Tokens the worker should keep drafted ahead for this rollout and drafter (0 = none); a drafter clearly worse than a cheaper one only keeps being measured. */
  want(row: number, d: number, round: number, cost?: Float64Array): number {
    if (this.off(row, round)) return 0;
    const a = this.acc[row * this.drafters + d]!;
    if (cost) for (let e = 0; e < this.drafters; e++) if (e !== d && cost[e]! < cost[d]! && this.acc[row * this.drafters + e]! >= a - 0.02) return 2;
    return Math.max(2, Math.min(this.o.maxAhead, Math.ceil((2 * a) / Math.max(1 - a, 0.05)) + 2));
  }

  /** True while drafting does not pay for this rollout (between probes). */
  off(row: number, round: number): boolean {
    const since = this.#offSince[row]!;
    if (since < 0) return false;
    return (round - since) % this.o.probeEvery !== 0;
  }

  /** A drafter this job does not use: never picked (its prior is kept for later jobs). */
  disable(d: number): void {
    for (let row = 0; row < this.rows; row++) this.acc[row * this.drafters + d] = 0;
  }

  /**
   * Best drafter for a rollout given the usable draft lengths (-1: draft nothing): the most
   * expected accepted tokens, the cheaper drafter (cost per token measured) when within 10%.
   */
  pick(row: number, usable: Int32Array, round: number, cost?: Float64Array): number {
    let best = -1;
    let bestE = 0;
    let bestAny = 0;
    for (let d = 0; d < this.drafters; d++) {
      const a = this.acc[row * this.drafters + d]!;
      bestAny = Math.max(bestAny, Selector.expected(a, this.o.maxAhead));
      if (usable[d]! <= 0) continue;
      const e = Selector.expected(a, usable[d]!);
      const cheaper = cost && best >= 0 && cost[d]! < cost[best]!;
      if (cheaper ? e > 0.9 * bestE : e > bestE && !(cost && best >= 0 && cost[d]! > cost[best]! && e < bestE / 0.9)) {
        bestE = e;
        best = d;
      }
    }
    // Off when even a full-length draft of the best drafter would not pay; on again when a probe does.
    if (bestAny < this.o.minGain) {
      if (this.#offSince[row]! < 0) this.#offSince[row] = round;
    } else this.#offSince[row] = -1;
    return best;
  }

  /** Second choice whose first draft token differs from the first choice's (-1: none). */
  second(row: number, usable: Int32Array, first: number, differs: (d: number) => boolean): number {
    let best = -1;
    let bestA = 0;
    for (let d = 0; d < this.drafters; d++) {
      if (d === first || usable[d]! <= 0 || !differs(d)) continue;
      const a = this.acc[row * this.drafters + d]!;
      if (a > bestA) {
        bestA = a;
        best = d;
      }
    }
    return best;
  }

  /** Starts a new rollout from the batch's priors. */
  reset(row: number): void {
    for (let d = 0; d < this.drafters; d++) this.acc[row * this.drafters + d] = this.prior[d]!;
    this.#offSince[row] = -1;
  }
}
