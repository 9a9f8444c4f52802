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

/**
 * Whether speculation pays for a job: tokens committed per millisecond of a round (waits and
 * bookkeeping included) against what plain decoding would commit (one token per rollout per
 * call). After three rounds that do not pay the job goes on as plain decoding; a drafter set
 * that did not pay in its last job starts plain, and is tried again every fourth job.
 */
export class Payoff {
  off = false;
  #spec = 0;
  #plain = 0;
  #rounds = 0;
  #history: { paid: boolean; skipped: number };

  /** timed false: decisions must not depend on timing (sampled decoding), so it never switches off. */
  constructor(
    last?: { paid: boolean; skipped: number },
    private readonly timed = true,
  ) {
    this.#history = last ?? { paid: true, skipped: 0 };
    if (!this.#history.paid && this.#history.skipped < 3) this.off = true;
  }

  round(tokens: number, rows: number, callMs: number, roundMs: number): void {
    if (this.off || !this.timed) return;
    this.#spec += tokens / Math.max(roundMs, 1e-6);
    this.#plain += rows / Math.max(callMs, 1e-6);
    this.#rounds++;
    if (this.#rounds >= 3 && this.#spec < 0.98 * this.#plain) this.off = true;
  }

  record(): { paid: boolean; skipped: number } {
    if (this.#rounds === 0) return { paid: this.#history.paid, skipped: this.#history.skipped + 1 };
    return { paid: this.#spec >= 0.98 * this.#plain, skipped: 0 };
  }
}

