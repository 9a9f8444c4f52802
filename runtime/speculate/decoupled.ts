// Decoupled speculation: drafters run ahead on a worker thread (one XPU) while the target
// verifies on this one. Each round the verifier takes, per rollout, the freshest draft that
// continues the committed prefix (a draft built on since-rejected tokens is stale: counted
// and discarded; the worker redrafts), picks the drafter by measured acceptance (Selector),
// optionally verifies a second candidate as an extra row when rows are cheap (greedy only:
// choosing after verification would bias sampling), commits, and tells the worker.
import { readDraft, STALE, waitAsync, type Board, type DraftSource } from './board.js';
import { DraftWorker } from './draft-worker.js';
import { CostModel, Payoff } from './payoff.js';
import { CallBuffers, jobEnd, phaseOf, Verifier } from './engine.js';
import { plainRest, probe, PROBE_DRAFT } from './probe.js';
import { Selector, SELECTOR_DEFAULTS, type SelectorOptions } from './selector.js';
import { newStats, type RunStats } from './stats.js';
import type { DraftBatch, Drafter, RolloutJob, Target } from './types.js';

export { DraftWorker };

export interface DecoupledOptions {
  /** The worker's drafters this job may use (default: all). */
  use?: string[];
  /** Cheap drafters run on this thread, each round, for the rollouts that want them. */
  inline?: Drafter[];
  selector?: Partial<SelectorOptions>;
  /** Extra candidate rows allowed per call, as a share of the call's cost (0 = never). */
  extraCost?: number;
  /** Test hook: called after every round, before the worker is told of the commits. */
  onRound?(board: Board, round: number): void | Promise<void>;
}

const committedTotal = (n: Int32Array, rows: number) => {
  let t = 0;
  for (let i = 0; i < n.length; i++) t += n[i]!;
  return Math.max(t, rows);
};


const remaining = (b: Board, job: RolloutJob, end: number) => {
  let n = 0;
  for (let row = 0; row < job.rows; row++) if (b.lens[row]! < end) n++;
  return n;
};

/**
 * Unfinished rollouts that want a worker draft and have no draft at all beyond their committed
 * prefix (none on the board, none from an inline drafter this round): waiting can only help them.
 */
function missing(b: Board, job: RolloutJob, Dw: number, D: number, use: boolean[], usable: Int32Array, end: number): number {
  let n = 0;
  for (let row = 0; row < job.rows; row++) {
    const c = b.lens[row]!;
    if (c >= end) continue;
    // Rows only measured or probed (want 2) are not waited for.
    let wanted = false;
    for (let d = 0; d < Dw; d++) wanted ||= use[d]! && b.want[row * Dw + d]! > 2;
    if (!wanted) continue;
    let any = false;
    for (let d = Dw; d < D && !any; d++) any = usable[row * D + d]! > 0;
    for (let d = 0; d < Dw && !any; d++) {
      if (!use[d]) continue;
      const slot = (row * Dw + d) * 3;
      any = b.meta[slot]! > 0 && b.meta[slot + 1]! <= c && b.meta[slot + 1]! + b.meta[slot + 2]! > c;
    }
    if (!any) n++;
  }
  return n;
}

/**
 * Decodes a job with drafts from `worker` (a draft worker running ahead, or drafts made before)
 * and the inline drafters. Greedy: choices follow measured costs and timing (the output is the
 * target's argmax whatever the drafts). Sampled: every choice is a function of committed tokens
 * only (no costs, no waits on a static source, no switching off by time), so a seed and the
 * same drafts give the same rollouts.
 */
export async function decodeDecoupled(job: RolloutJob, target: Target, worker: DraftSource, o: DecoupledOptions = {}): Promise<RunStats> {
  const sel = { ...SELECTOR_DEFAULTS, ...o.selector, maxAhead: worker.ahead };
  const Dw = worker.drafters.length;
  const inline = o.inline ?? [];
  const D = Dw + inline.length;
  const ahead = sel.maxAhead;
  const all = [...worker.drafters, ...inline.map((d) => d.name)];
  const use = [...worker.drafters.map((n) => (o.use ?? worker.drafters).includes(n)), ...inline.map(() => true)];
  const names = all.filter((_, d) => use[d]);
  const stats = newStats(names.length > 1 ? 'dynamic' : `speculative:${names[0]}`, job.rows, all);
  const dstats = all.map((n) => stats.drafters[n]!);
  const greedy = job.sampling.temperature <= 0;
  const timed = greedy;
  // Whether speculation pays depends on the batch (a call's cost per row falls as rows grow):
  // one history per drafter set and power-of-two batch class.
  const key = `${names.join('+')} ${greedy ? 'greedy' : 'sampled'} ${2 ** Math.ceil(Math.log2(Math.max(1, job.rows)))}`;
  const pays = new Payoff(timed ? worker.paid.get(key) : undefined, timed);
  // The job's time starts here: handing it to the draft worker is part of decoding it.
  const t0 = performance.now();
  if (pays.off) {
    // This drafter set did not pay in its last job: plain decoding, with the worker left alone
    // (starting it costs a round trip, and its drafting would take CPU from the verifier).
    const call = new CallBuffers(target, job.rows, 1);
    await plainRest(job, target, new Verifier(job, target), call, new Int32Array(job.rows).fill(job.prompt), stats);
    stats.ms = performance.now() - t0;
    worker.paid.set(key, pays.record({ ms: stats.ms, rows: job.rows, plainMs: undefined }));
    stats.tokens = job.rows * job.steps;
    return stats;
  }
  const drafting = use.slice(0, Dw).some((u) => u);
  // A retry of inline drafters only is probed within plain decoding first (probe.ts); one that
  // uses the worker's drafters is tried as speculation proper (they draft on the worker).
  const lens = new Int32Array(job.rows).fill(job.prompt);
  if (pays.retry && !drafting && inline.length > 0) {
    const call = new CallBuffers(target, job.rows, PROBE_DRAFT);
    const v = new Verifier(job, target);
    if (!(await probe(job, target, inline, v, call, lens, stats, pays))) {
      await plainRest(job, target, v, call, lens, stats);
      stats.ms = performance.now() - t0;
      worker.paid.set(key, pays.record());
      stats.tokens = job.rows * job.steps;
      return stats;
    }
  }
  await worker.begin(job, target.contextDim, drafting);
  const b = worker.board;
  // After a probe that gained, speculation takes the job from the probe's commits on.
  b.lens.set(lens);
  // Rows are filled from the committed tokens on the board, which this thread owns.
  const live: RolloutJob = { ...job, tokens: b.committed };
  // Acceptance carried over from earlier jobs only for greedy ones: a sampled job's rollouts are a
  // function of the job, its drafts and its seed alone.
  const selector = new Selector(job.rows, D, sel, Float64Array.from(all, (n) => (timed ? worker.priors.get(n) : undefined) ?? 0.5));
  for (let d = 0; d < D; d++) if (!use[d]) selector.disable(d);
  // Measured drafting cost per token (the worker accumulates it over the jobs it served).
  const perToken = new Float64Array(D);
  const inlineCost = new Float64Array(inline.length * 2);
  const measureCost = () => {
    for (let d = 0; d < Dw; d++) perToken[d] = b.cost[d * 2 + 1]! > 0 ? b.cost[d * 2]! / b.cost[d * 2 + 1]! : 0;
    for (let i = 0; i < inline.length; i++) perToken[Dw + i] = inlineCost[i * 2 + 1]! > 0 ? inlineCost[i * 2]! / inlineCost[i * 2 + 1]! : 0;
  };
  const ib: DraftBatch = { count: 0, rows: new Int32Array(job.rows), lens: new Int32Array(job.rows), ks: new Int32Array(job.rows), tokens: b.committed, window: target.window, context: b.context, out: new Int32Array(job.rows * ahead), stride: ahead };
  measureCost();
  const cost = new CostModel();
  const call = new CallBuffers(target, job.rows * 2, ahead);
  const v = new Verifier(job, target);
  const end = jobEnd(job);
  // Per rollout, this round: each drafter's usable draft (for the pick and for scoring).
  const cand = new Int32Array(job.rows * D * ahead);
  const usable = new Int32Array(job.rows * D);
  const first = new Int32Array(job.rows).fill(-1);
  const second = new Int32Array(job.rows).fill(-1);
  const chosen = new Int32Array(job.rows * 2);
  const results = new Int32Array(job.rows * (ahead + 1));
  const committedN = new Int32Array(job.rows);
  const costs = timed ? perToken : undefined;
  const wantOf = (row: number, d: number, round: number) => (use[d] ? selector.want(row, d, round, costs) : 0);
  for (let row = 0; row < job.rows; row++) for (let d = 0; d < Dw; d++) b.want[row * Dw + d] = wantOf(row, d, 0);
  // Drafts the worker has published so far this job (begin reset its drafts; it counts on).
  const published = Atomics.load(b.control, 2);
  // Without the worker's drafters the worker is left alone: waking it each round takes the
  // verifier's CPU for nothing.
  const notify = () => drafting && worker.notify();
  notify();
  const draftStart = performance.now();
  // Until the worker's first drafts, rounds without drafts are plain decoding (Payoff.idle).
  const running = drafting && worker.live;
  let heard = !running;
  const hear = () => {
    if (heard || Atomics.load(b.control, 2) === published) return heard;
    pays.delivered(performance.now() - draftStart);
    return (heard = true);
  };
  /** Inline drafter i proposes, for every unfinished rollout that wants it, into cand and usable. */
  const draftInline = async (i: number, round: number) => {
    const d = Dw + i;
    ib.count = 0;
    for (let row = 0; row < job.rows; row++) {
      const c = b.lens[row]!;
      usable[row * D + d] = 0;
      const k = Math.min(wantOf(row, d, round), ahead, end - c - 1);
      if (c >= end || k <= 0) continue;
      const j = ib.count++;
      ib.rows[j] = row;
      ib.lens[j] = c;
      ib.ks[j] = k;
    }
    if (ib.count === 0) return;
    const t = performance.now();
    await inline[i]!.propose(ib);
    inlineCost[i * 2] += performance.now() - t;
    for (let j = 0; j < ib.count; j++) {
      const row = ib.rows[j]!;
      inlineCost[i * 2 + 1] += ib.ks[j]!;
      cand.set(ib.out.subarray(j * ahead, j * ahead + ib.ks[j]!), (row * D + d) * ahead);
      usable[row * D + d] = ib.ks[j]!;
    }
  };
  // The drafter's distributions of the verified draft (sampled verification), one closure per job.
  const qv = { row: 0, d: 0, c: 0 };
  const qOf = (i: number, out: Float64Array) => {
    if (!worker.q!(qv.row, qv.d, qv.c + i, out)) {
      // One-hot: the drafted token itself.
      out.fill(0);
      out[call.drafts[qi * ahead + i]!] = 1;
    }
  };
  let qi = 0;
  pays.setup(performance.now() - t0);
  try {
    for (let round = 0; ; round++) {
      if (pays.off) {
        Atomics.store(b.control, 1, 0);
        await plainRest(live, target, v, call, b.lens, stats);
        break;
      }
      const roundStart = performance.now();
      // Drafting overlaps verification; only when a rollout that is drafted for has nothing to
      // verify, wait for the worker, at most about one call's time.
      for (let i = 0; i < inline.length; i++) await draftInline(i, round);
      // Before the worker's first drafts, only when they may come within the wait (Payoff.waitFirst).
      if (running && missing(b, live, Dw, D, use, usable, end) > 0 && (hear() || pays.waitFirst(performance.now() - draftStart, worker.callMs))) {
        await waitAsync(b.control, 2, Atomics.load(b.control, 2), worker.callMs).value;
        if (!hear()) pays.missed(performance.now() - draftStart);
      }
      // Whether this round's call was built after the worker's first drafts (a round judged).
      const judged = hear();
      call.count = 0;
      let active = 0;
      for (let row = 0; row < job.rows; row++) {
        const c = b.lens[row]!;
        if (c >= end) continue;
        active++;
        const u = usable.subarray(row * D, row * D + D);
        for (let d = 0; d < Dw; d++) {
          const n = !use[d] ? 0 : readDraft(b, row, d, c, Math.min(ahead, end - c - 1), cand, (row * D + d) * ahead);
          if (n === STALE) dstats[d]!.stale++;
          u[d] = Math.max(0, n);
        }
        const d = selector.pick(row, u, round, costs);
        const off = selector.off(row, round);
        if (off) stats.offRounds++;
        first[row] = off ? -1 : d;
        second[row] = -1;
        const i = call.count;
        const k = first[row]! >= 0 ? u[first[row]!]! : 0;
        if (k > 0) call.drafts.set(cand.subarray((row * D + d) * ahead, (row * D + d) * ahead + k), i * ahead);
        call.add(live, row, c, k);
        chosen[i] = first[row]!;
      }
      if (active === 0) break;
      const firsts = call.count;
      let drafted = 0;
      for (let i = 0; i < firsts; i++) if (call.k[i]! > 0) drafted++;
      stats.draftRows += drafted;
      // Best-of-N in one pass: a second candidate per rollout, while rows are cheap.
      if (greedy && D > 1) {
        let spare = cost.spare(call.count, o.extraCost ?? 0.25);
        const n = call.count;
        for (let i = 0; i < n && spare > 0; i++) {
          const row = call.rowOf[i]!;
          const f = first[row]!;
          if (f < 0) continue;
          const c = b.lens[row]!;
          const u = usable.subarray(row * D, row * D + D);
          const s = selector.second(row, u, f, (d) => cand[(row * D + d) * ahead] !== cand[(row * D + f) * ahead]);
          if (s < 0) continue;
          const j = call.count;
          call.drafts.set(cand.subarray((row * D + s) * ahead, (row * D + s) * ahead + u[s]!), j * ahead);
          call.add(live, row, c, u[s]!);
          chosen[j] = s;
          second[row] = j;
          spare--;
          stats.draftRows++;
        }
      }
      const tc = performance.now();
      const r = await target.run(call.tokens, call.context, call.count, !greedy);
      const callMs = performance.now() - tc;
      worker.callMs = worker.callMs === 0 ? callMs : 0.8 * worker.callMs + 0.2 * callMs;
      cost.add(call.count, callMs);
      stats.calls++;
      stats.callRows += call.count;
      // Verify every call row; a rollout with two candidates keeps the longer (both are exact).
      committedN.fill(0);
      for (let i = 0; i < call.count; i++) {
        const row = call.rowOf[i]!;
        const c = b.lens[row]!;
        qv.row = row;
        qi = i;
        qv.d = chosen[i]!;
        qv.c = c;
        const { committed } = v.verify(call, i, c, r, qv.d >= 0 && qv.d < Dw && worker.q ? qOf : null);
        if (committed > committedN[row]!) {
          committedN[row] = committed;
          results.set(call.out.subarray(0, committed), row * (ahead + 1));
          if (chosen[i]! >= 0) dstats[chosen[i]!]!.chosen++;
        }
      }
      for (let i = 0; i < firsts; i++) {
        const row = call.rowOf[i]!;
        const c = b.lens[row]!;
        const m = Math.min(committedN[row]!, end - c);
        const got = results.subarray(row * (ahead + 1), row * (ahead + 1) + m);
        // Score every drafter's draft against what was committed (the pick's evidence).
        for (let d = 0; d < D; d++) {
          const u = usable[row * D + d]!;
          if (u <= 0) continue;
          const n = Math.min(u, m);
          let matched = 0;
          while (matched < n && cand[(row * D + d) * ahead + matched] === got[matched]) matched++;
          const ph = phaseOf(job, c);
          dstats[d]!.proposed[ph]! += matched < n ? matched + 1 : matched;
          dstats[d]!.accepted[ph]! += matched;
          selector.score(row, d, matched, n);
        }
        b.committed.set(got, row * target.window + c);
        Atomics.store(b.lens, row, c + m);
        stats.rowCalls[row]!++;
        for (let d = 0; d < Dw; d++) Atomics.store(b.want, row * Dw + d, c + m >= end ? 0 : wantOf(row, d, round + 1));
      }
      measureCost();
      if (o.onRound) await o.onRound(b, round);
      notify();
      const roundMs = performance.now() - roundStart;
      if (drafted > 0 || judged) pays.round(committedTotal(committedN, firsts), firsts, callMs, roundMs, drafted);
      else pays.idle(roundMs - callMs, performance.now() - draftStart);
    }
  } finally {
    stats.ms = performance.now() - t0;
    // Plain decoding's calls: one per step, every rollout in each.
    if (timed) worker.paid.set(key, pays.record({ ms: performance.now() - t0, rows: job.rows, plainMs: cost.at(job.rows) === undefined ? undefined : job.steps * cost.at(job.rows)! }));
    if (timed) all.forEach((n, d) => use[d] && worker.priors.set(n, selector.prior[d]!));
    if (drafting) worker.end();
  }
  job.tokens.set(b.committed.subarray(0, job.tokens.length));
  stats.tokens = job.rows * job.steps;
  return stats;
}
