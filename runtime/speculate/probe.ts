// Plain decoding inside a speculative job: what is left of a job once speculation does not pay
// for it, and the probe with which a drafter set that did not pay is retried. A target call
// computes every position of its fixed [rows, window] shape whatever the rows carry, so a draft
// in a row's window costs no target time: a probe round is a plain round in which a few rollouts
// also carry a short draft of the set's inline drafters, verified exactly as in speculation
// (each commits its accepted prefix and the target's next token). What the drafts gain settles
// the retry from acceptance alone; drafting for a handful of rollouts and no set-up of
// speculation proper keep it to a few rows of bookkeeping at any batch size.
import { CallBuffers, jobEnd, Verifier } from './engine.js';
import type { Payoff } from './payoff.js';
import type { RunStats } from './stats.js';
import type { DraftBatch, Drafter, RolloutJob, Target } from './types.js';

/** Rollouts that carry a draft in a probe round (the first unfinished ones). */
export const PROBE_ROWS = 16;
/** Draft tokens per probed rollout: a drafter worth speculating with gets some of them right. */
export const PROBE_DRAFT = 4;

/** Plain decoding of what is left of a job (lens: the committed lengths, advanced in place). */
export async function plainRest(job: RolloutJob, target: Target, v: Verifier, call: CallBuffers, lens: Int32Array, stats: RunStats): Promise<void> {
  const end = jobEnd(job);
  const W = target.window;
  for (;;) {
    call.count = 0;
    for (let row = 0; row < job.rows; row++) if (lens[row]! < end) call.add(job, row, lens[row]!, 0);
    if (call.count === 0) return;
    const r = await target.run(call.tokens, call.context, call.count, !v.greedy);
    stats.calls++;
    stats.callRows += call.count;
    stats.offRounds += call.count;
    for (let i = 0; i < call.count; i++) {
      const row = call.rowOf[i]!;
      v.verify(call, i, lens[row]!, r);
      job.tokens[row * W + lens[row]!] = call.out[0]!;
      lens[row]!++;
      stats.rowCalls[row]!++;
    }
  }
}

/**
 * Probe rounds of a retry (greedy decoding; Payoff.probing): plain calls in which up to
 * PROBE_ROWS rollouts carry a PROBE_DRAFT-token draft, the drafters taking turns over them.
 * Returns once the payoff has its verdict: true when the drafts gained (speculation proper
 * takes the job from `lens` on), false when they proved it cannot pay (the job is left to
 * plainRest) or the job is done.
 */
export async function probe(job: RolloutJob, target: Target, drafters: Drafter[], v: Verifier, call: CallBuffers, lens: Int32Array, stats: RunStats, pays: Payoff): Promise<boolean> {
  const end = jobEnd(job);
  const W = target.window;
  const K = Math.min(PROBE_DRAFT, call.ahead);
  const P = Math.min(PROBE_ROWS, job.rows);
  const db: DraftBatch = { count: 0, rows: new Int32Array(P), lens: new Int32Array(P), ks: new Int32Array(P), tokens: job.tokens, window: W, context: job.context, out: new Int32Array(P * K), stride: K };
  // Per rollout, this round: the slot of its draft in `drafts` (-1: none) and its length.
  const slot = new Int32Array(job.rows);
  const drafts = new Int32Array(P * K);
  const ks = new Int32Array(P);
  for (let round = 0; pays.probing; round++) {
    // The first P unfinished rollouts, each with drafter (j + round) mod N, so each is measured.
    slot.fill(-1);
    let n = 0;
    for (let row = 0; row < job.rows && n < P; row++) {
      const k = Math.min(K, end - lens[row]! - 1);
      if (k <= 0) continue;
      slot[row] = n;
      ks[n++] = k;
    }
    for (let d = 0; d < drafters.length; d++) {
      db.count = 0;
      for (let row = 0; row < job.rows; row++) {
        const j = slot[row]!;
        if (j < 0 || (j + round) % drafters.length !== d) continue;
        const i = db.count++;
        db.rows[i] = row;
        db.lens[i] = lens[row]!;
        db.ks[i] = ks[j]!;
      }
      if (db.count === 0) continue;
      await drafters[d]!.propose(db);
      // A drafter may propose fewer tokens than asked (none for a rollout it has nothing for).
      for (let i = 0; i < db.count; i++) {
        const j = slot[db.rows[i]!]!;
        ks[j] = db.ks[i]!;
        drafts.set(db.out.subarray(i * K, i * K + ks[j]!), j * K);
      }
    }
    call.count = 0;
    for (let row = 0; row < job.rows; row++) {
      if (lens[row]! >= end) continue;
      const j = slot[row]!;
      const k = j >= 0 ? ks[j]! : 0;
      if (k > 0) call.drafts.set(drafts.subarray(j * K, j * K + k), call.count * call.ahead);
      call.add(job, row, lens[row]!, k);
    }
    if (call.count === 0) return false;
    const r = await target.run(call.tokens, call.context, call.count, !v.greedy);
    stats.calls++;
    stats.callRows += call.count;
    stats.probeRounds++;
    let tokens = 0;
    let drafted = 0;
    for (let i = 0; i < call.count; i++) {
      const row = call.rowOf[i]!;
      const c = lens[row]!;
      const m = Math.min(v.verify(call, i, c, r).committed, end - c);
      job.tokens.set(call.out.subarray(0, m), row * W + c);
      lens[row] = c + m;
      stats.rowCalls[row]!++;
      if (call.k[i]! > 0) {
        drafted++;
        tokens += m;
      }
    }
    stats.draftRows += drafted;
    pays.probed(tokens, drafted);
  }
  return !pays.off;
}
