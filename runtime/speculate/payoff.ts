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
  /** Estimated milliseconds of a call of `rows` rows (undefined before any call). */
  at(rows: number): number | undefined {
    if (this.#n === 0) return undefined;
    const den = this.#n * this.#sxx - this.#sx * this.#sx;
    // Calls all of one size (or too few to fit): cost in proportion to rows.
    if (this.#n < 3 || den <= 0) return (this.#sy / Math.max(this.#sx, 1e-9)) * rows;
    const b = Math.max(0, (this.#n * this.#sxy - this.#sx * this.#sy) / den);
    return Math.max(0, (this.#sy - b * this.#sx) / this.#n) + b * rows;
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
  /**
   * Milliseconds from the start of drafting to the draft worker's first drafts in the last job
   * that measured it (a lower bound when none came): how long waiting for them would take.
   */
  lagMs?: number;
  /**
   * Milliseconds of this set's jobs that ran plain (smoothed), at plainRows rollouts: what plain
   * decoding costs here, without the draft worker's drafting competing for the CPU, which slows
   * a speculative job's calls and so inflates an estimate made from them.
   */
  plainMs?: number;
  plainRows?: number;
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
 * what plain decoding would commit in the round's call time (one token per rollout per call). Rounds
 * before the draft worker's first drafts are plain decoding and not judged (their extra time is
 * counted in the first judged round). After three rounds
 * that do not pay (or two opening ones whose drafts gained nothing) the job goes on as plain decoding; a
 * drafter set that did not pay in its last job starts plain, and is tried again after 3 jobs,
 * then after twice as many each time it fails again (up to 48), so a drafter that never pays
 * costs almost nothing. Such a retry is a probe where it can be (probe.ts): plain decoding with
 * drafts for a few rollouts only, judged by what they gain (a drafter that gains nothing cannot
 * pay, whatever the timing), and speculation proper only once they do.
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
  /** Rounds before the draft worker's first drafts: plain rounds, not judged (their extra time is set-up). */
  #idle = 0;
  #lag: number | undefined;
  #lagAtLeast = 0;
  #missed = false;
  #probes = 0;
  #history: PayoffHistory;
  /** This job retries a drafter set that did not pay in its last job (and is not off). */
  readonly retry: boolean;

  /** timed false: decisions must not depend on timing (sampled decoding), so it never switches off. */
  constructor(
    last?: PayoffHistory,
    private readonly timed = true,
  ) {
    this.#history = last ?? { paid: true, skipped: 0 };
    if (!this.#history.paid && this.#history.skipped < (this.#history.wait ?? FIRST_WAIT)) this.off = true;
    this.retry = timed && !this.off && !this.#history.paid;
  }

  /** Whether the job's next round is a probe round (a retry probes its first FUTILE_ROUNDS rounds). */
  get probing(): boolean {
    return this.retry && !this.off && this.#probes >= 0 && this.#probes < FUTILE_ROUNDS;
  }

  /**
   * A probe round: `rows` rollouts carried a draft and committed `tokens`. Probes that all gain
   * under 2 % settle the retry at once (the job goes on plain, not paid); one that gains ends the
   * probe, and speculation proper is judged from its own rounds.
   */
  probed(tokens: number, rows: number): void {
    if (!this.probing) return;
    if (rows > 0 && tokens >= 1.02 * rows) {
      this.#probes = -1;
      return;
    }
    if (++this.#probes === FUTILE_ROUNDS) {
      this.#futile = true;
      this.off = true;
    }
  }

  /**
   * drafted: rows of the round that carried a draft. Two opening rounds in which (nearly) every
   * row was drafted for and the drafts bought under 2 % more tokens than plain decoding would
   * settle it at once: no timing can make that pay (a random drafter costs two rounds, not
   * three; one is not enough, see FUTILE_ROUNDS).
   */
  round(tokens: number, rows: number, callMs: number, roundMs: number, drafted = rows): void {
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

  /**
   * Whether to wait (up to about one call) for the draft worker's first drafts of the job,
   * `sinceMs` after it started drafting: not once such a wait ran out with nothing, nor when the
   * worker's lag measured in the last job says they come after the wait would end (a large batch
   * drafted far ahead: the model drafter at batch 64 takes about three calls). The verifier
   * decodes plain meanwhile and takes the drafts when they come.
   */
  waitFirst(sinceMs: number, callMs: number): boolean {
    if (this.#missed) return false;
    const lag = this.#history.lagMs;
    return lag === undefined || lag <= sinceMs + callMs;
  }

  /** The worker's first drafts of the job came `sinceMs` after drafting started. */
  delivered(sinceMs: number): void {
    this.#lag ??= sinceMs;
  }

  /** A wait for the worker's first drafts ran out at `sinceMs` with nothing: no more such waits. */
  missed(sinceMs: number): void {
    this.#missed = true;
    this.#lagAtLeast = Math.max(this.#lagAtLeast, sinceMs);
  }

  /**
   * A round before the worker's first drafts, with none from elsewhere: plain decoding, which says
   * nothing of the drafters, so it is not judged; what it took beyond its call (a wait, the
   * bookkeeping) is charged to the first judged round, as the hand-over is.
   */
  idle(extraMs: number, sinceMs: number): void {
    this.#lagAtLeast = Math.max(this.#lagAtLeast, sinceMs);
    if (this.off || !this.timed) return;
    this.#setupMs += Math.max(0, extraMs);
    this.#idle++;
  }

  /** Time a speculative job spends before its first round (handing the job to the draft worker). */
  setup(ms: number): void {
    this.#setupMs += ms;
  }

  #pays(): boolean {
    return this.#spec >= 0.98 * this.#plain;
  }

  /**
   * The job's verdict for the next jobs of its drafter set. job: the whole job's time (set-up,
   * waits and bookkeeping in it) and what plain decoding's calls would have taken: a job that
   * took longer did not pay, whatever its rounds' rates (a sum of per-round rates, robust to
   * one stalled round, favours a job with one long wait for its first drafts and fast rounds
   * after: the model drafter at batch 1, judged paid in jobs slower than plain, so each such
   * verdict started its back-off over).
   */
  record(job?: { ms: number; rows: number; plainMs: number | undefined }): PayoffHistory {
    const h = this.#history;
    const lag = this.#lag ?? (this.#lagAtLeast > 0 ? Math.max(this.#lagAtLeast, h.lagMs ?? 0) : h.lagMs);
    const kept = { ...(lag === undefined ? {} : { lagMs: lag }), ...(h.plainMs === undefined ? {} : { plainMs: h.plainMs, plainRows: h.plainRows }) };
    if (this.#rounds === 0 && this.#idle === 0 && this.#probes === 0) {
      // A job that started plain measured plain decoding.
      const same = h.plainMs !== undefined && h.plainRows === job?.rows;
      const plain = job ? { plainMs: same ? 0.7 * h.plainMs! + 0.3 * job.ms : job.ms, plainRows: job.rows } : {};
      return { ...h, ...kept, ...plain, skipped: h.skipped + 1 };
    }
    // A probe that gained in a job too short for speculation proper: the next job speculates.
    if (this.#probes < 0 && this.#rounds === 0) return { paid: true, skipped: 0, ...kept };
    // A job whose worker never delivered only paid its idle rounds' extra time.
    // Plain's cost: the smaller of the estimate from this job's calls and what plain jobs took.
    const measured = h.plainMs !== undefined && h.plainRows === job?.rows ? h.plainMs : undefined;
    const plainMs = job?.plainMs === undefined ? measured : Math.min(job.plainMs, measured ?? Infinity);
    const slower = job !== undefined && plainMs !== undefined && job.ms * 0.98 > plainMs;
    if (this.#rounds > 0 && !this.#futile && this.#pays() && !slower) return { paid: true, skipped: 0, ...kept };
    return { paid: false, skipped: 0, wait: h.paid ? FIRST_WAIT : Math.min(MAX_WAIT, 2 * (h.wait ?? FIRST_WAIT)), ...kept };
  }
}

