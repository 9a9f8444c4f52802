// What speculation costs and gains, measured while it runs: the target's call cost per row
// (for extra candidate rows) and whether speculation pays for a job at all.
/** Call cost as intercept + slope per row, fitted online from measured calls. */
export class CostModel {
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

/** A drafter set's last decision: did it pay, jobs since, jobs to wait before trying again. */
export interface PayoffHistory {
  paid: boolean;
  skipped: number;
  wait?: number;
}

const FIRST_WAIT = 3;
const MAX_WAIT = 48;
/**
 * Opening rounds that must all be futile to settle a job: a drafter that reads the rollout's own
 * tokens (n-gram) has nothing to match in the first round and is right from the second on.
 */
const FUTILE_ROUNDS = 2;

/**
 * Whether speculation pays for a job: tokens committed per millisecond of a round (waits and
 * bookkeeping included, and in the first round the job's hand-over to the draft worker) against
 * what plain decoding would commit in the round's call time (one token per rollout per call). After three rounds
 * that do not pay (or two opening ones whose drafts gained nothing) the job goes on as plain decoding; a
 * drafter set that did not pay in its last job starts plain, and is tried again after 3 jobs,
 * then after twice as many each time it fails again (up to 48), so a drafter that never pays
 * costs almost nothing.
 */
export class Payoff {
  off = false;
  /** Sums over rounds of tokens per ms speculating and per ms of plain calls (one stalled round of a loaded machine weighs one round, not the job). */
  #spec = 0;
  #plain = 0;
  /** Set-up time, counted in the first round. */
  #setupMs = 0;
  #rounds = 0;
  #futile = false;
  #futileRounds = 0;
  #history: PayoffHistory;

  /** timed false: decisions must not depend on timing (sampled decoding), so it never switches off. */
  constructor(
    last?: PayoffHistory,
    private readonly timed = true,
  ) {
    this.#history = last ?? { paid: true, skipped: 0 };
    if (!this.#history.paid && this.#history.skipped < (this.#history.wait ?? FIRST_WAIT)) this.off = true;
  }

  /**
   * drafted: rows of the round that carried a draft. Two opening rounds in which (nearly) every
   * row was drafted for and the drafts bought under 2 % more tokens than plain decoding would
   * settle it at once: no timing can make that pay (a random drafter costs two rounds, not
   * three; one is not enough, see FUTILE_ROUNDS).
   */
  round(tokens: number, rows: number, callMs: number, roundMs: number, drafted = 0): void {
    if (this.off || !this.timed) return;
    this.#spec += tokens / Math.max(roundMs + (this.#rounds === 0 ? this.#setupMs : 0), 1e-6);
    this.#plain += rows / Math.max(callMs, 1e-6);
    // Only the opening rounds, where every rollout has its whole draft ahead (near the end a few
    // rollouts with one-token drafts say nothing about the drafter).
    if (this.#rounds < FUTILE_ROUNDS && rows > 0 && drafted >= 0.9 * rows && tokens < 1.02 * rows) this.#futileRounds++;
    if (this.#futileRounds === FUTILE_ROUNDS) this.#futile = true;
    this.#rounds++;
    if (this.#futile || (this.#rounds >= 3 && !this.#pays())) this.off = true;
  }

  /** Time a speculative job spends before its first round (handing the job to the draft worker). */
  setup(ms: number): void {
    this.#setupMs += ms;
  }

  #pays(): boolean {
    return this.#spec >= 0.98 * this.#plain;
  }

  record(): PayoffHistory {
    const h = this.#history;
    if (this.#rounds === 0) return { ...h, skipped: h.skipped + 1 };
    if (!this.#futile && this.#pays()) return { paid: true, skipped: 0 };
    return { paid: false, skipped: 0, wait: h.paid ? FIRST_WAIT : Math.min(MAX_WAIT, 2 * (h.wait ?? FIRST_WAIT)) };
  }
}

