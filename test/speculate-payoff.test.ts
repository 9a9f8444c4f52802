// When speculation does not pay (runtime/speculate/payoff.ts): the job goes on plain after three
// losing rounds (one, when its drafts gained nothing), the drafter set starts plain in the next jobs, and it is tried again less and
// less often while it keeps losing, so a drafter that never pays costs almost nothing. Rounds
// before the draft worker's first drafts are plain decoding, not judged, and waited for only
// while the drafts may come within the wait.
import test from 'ava';
import { CostModel, Payoff, type PayoffHistory } from '../runtime/speculate/payoff.js';

/** Sixteen held-out histories from the scene simulator and the fitted target model (onnxruntime). */
async function heldOutBatch() {
  const { openTarget } = await import('../xnodes/planning/model.js');
  const { H } = await import('../xnodes/planning/motion.js');
  const { HELDOUT_SEEDS, trajectories } = await import('../models/rollout.gen.mjs');
  const hs = (await trajectories(HELDOUT_SEEDS.slice(0, 1), 0.7)).slice(0, 16).map((x) => ({ cls: x.cls, xs: x.xs.subarray(0, H + 1), ys: x.ys.subarray(0, H + 1) }));
  return { hs, target: await openTarget() };
}

/** Jobs in which speculation was tried, out of `jobs`, when each round commits `gain` x plain's tokens per ms. */
function tried(jobs: number, gain: (job: number) => number): number[] {
  const out: number[] = [];
  let h: PayoffHistory | undefined;
  for (let j = 0; j < jobs; j++) {
    const p = new Payoff(h);
    if (!p.off) out.push(j);
    for (let r = 0; r < 10 && !p.off; r++) p.round(10 * gain(j), 10, 1, 1);
    h = p.record();
  }
  return out;
}

test('a drafter set that never pays is retried after 3 jobs, then after twice as many each time, up to 48', (t) => {
  t.deepEqual(tried(200, () => 0.5), [0, 4, 11, 24, 49, 98, 147, 196]);
});

test('one that pays is never switched off; one that starts paying again stays on from its next try', (t) => {
  t.deepEqual(tried(20, () => 1.5), Array.from({ length: 20 }, (_, j) => j));
  // Loses for its first 30 jobs, then pays: found at the try of job 49, on in every job after.
  const back = tried(60, (j) => (j < 30 ? 0.5 : 1.5));
  t.deepEqual(back, [0, 4, 11, 24, ...Array.from({ length: 11 }, (_, k) => 49 + k)]);
});

test('untimed (sampled decoding): never switched off, whatever the timing', (t) => {
  let h: PayoffHistory | undefined;
  for (let j = 0; j < 10; j++) {
    const p = new Payoff(h, false);
    t.false(p.off);
    for (let r = 0; r < 5; r++) p.round(1, 10, 1, 1);
    t.false(p.off);
    h = p.record();
  }
});

test('two opening rounds with a draft for (nearly) every rollout that gain under 2 % settle it: off after two rounds, not paid', (t) => {
  const p = new Payoff();
  p.round(10, 10, 1, 0.5, 10); // timing alone would say it pays
  t.false(p.off, 'one futile round is not enough');
  p.round(10, 10, 1, 0.5, 10);
  t.true(p.off);
  t.false(p.record().paid);
  // An n-gram drafter: nothing to match in the first round (every draft wrong), right from the second on.
  const g = new Payoff();
  g.round(10, 10, 1, 1, 10);
  g.round(50, 10, 1, 1, 10);
  g.round(50, 10, 1, 1, 10);
  t.false(g.off);
  t.true(g.record().paid);
  // Drafts for under 90 % of the rows (the worker not caught up yet): timing decides, after three rounds.
  const q = new Payoff();
  q.round(10, 10, 1, 0.5, 8);
  t.false(q.off);
  // Later rounds (a few rollouts left with one-token drafts) do not settle it.
  const l = new Payoff();
  l.round(40, 10, 1, 1, 10);
  l.round(2, 2, 1, 1, 2);
  t.false(l.off);
  // Drafts that gain: on.
  const r = new Payoff();
  for (let i = 0; i < 5; i++) r.round(30, 10, 1, 1, 10);
  t.false(r.off);
  t.true(r.record().paid);
});

test.serial('a random drafter costs two speculative rounds, then the next job of that batch starts plain (real target)', async (t) => {
  const { decodeDecoupled, DraftWorker } = await import('../runtime/speculate/decoupled.js');
  const { decodePlain } = await import('../runtime/speculate/engine.js');
  const { createDrafters } = await import('../xnodes/planning/drafters.js');
  const { jobOf } = await import('../xnodes/planning/jobs.js');
  const { CONTEXT, T, WINDOW } = await import('../xnodes/planning/motion.js');
  const { hs, target } = await heldOutBatch();
  const worker = new DraftWorker(['kinematic'], 16, new URL('../xnodes/planning/drafters.ts', import.meta.url).href, {}, T, WINDOW, CONTEXT);
  try {
    const plain = jobOf(hs);
    await decodePlain(plain.job, target);
    const rounds: number[] = [];
    for (let j = 0; j < 2; j++) {
      let n = 0;
      const k = jobOf(hs);
      await decodeDecoupled(k.job, target, worker, { use: [], inline: await createDrafters(['random'], { rows: hs.length }), onRound: () => void n++ });
      t.true(Buffer.from(k.job.tokens.buffer).equals(Buffer.from(plain.job.tokens.buffer)), `job ${j} equals plain decoding`);
      rounds.push(n);
    }
    t.deepEqual(rounds, [2, 0]);
  } finally {
    await worker.close();
    await target.close();
  }
});

test('rounds before the draft worker first delivers are plain decoding, not judged: a worker slow to start still gets its verdict from its drafts', (t) => {
  // Judged, three such rounds (a wait of one call, then a call with no drafts) switch the job plain.
  const judged = new Payoff();
  for (let i = 0; i < 3; i++) judged.round(10, 10, 1, 2, 0);
  t.true(judged.off);
  const p = new Payoff();
  for (let i = 0; i < 3; i++) p.idle(1, 2 * (i + 1));
  t.false(p.off, 'idle rounds do not settle it');
  for (let i = 0; i < 3; i++) p.round(30, 10, 1, 1, 10);
  t.false(p.off);
  t.true(p.record().paid);
  // Their extra time is charged to the first judged round: drafts that gain 20 % do not buy back 100 ms of waits.
  const q = new Payoff();
  q.idle(100, 101);
  for (let i = 0; i < 3; i++) q.round(12, 10, 1, 1, 10);
  t.true(q.off);
  const r = new Payoff();
  for (let i = 0; i < 3; i++) r.round(12, 10, 1, 1, 10);
  t.false(r.off);
});

test('the wait for the first drafts: once while the lag is unknown, never again after one ran out, and only when the lag of the last job fits in it', (t) => {
  const p = new Payoff();
  t.true(p.waitFirst(0, 5), 'lag unknown: wait');
  p.missed(5);
  t.false(p.waitFirst(10, 5), 'a wait ran out with nothing: decode plain until drafts come');
  p.delivered(45);
  p.delivered(60); // only the first delivery is the lag
  const h = p.record();
  t.is(h.lagMs, 45);
  const slow = new Payoff(h);
  t.false(slow.waitFirst(0, 5), 'the worker takes 45 ms: a 5 ms wait cannot catch its drafts');
  t.true(slow.waitFirst(41, 5), 'they may come within this wait');
  const fast = new Payoff({ paid: true, skipped: 0, lagMs: 3 });
  t.true(fast.waitFirst(0, 5));
  // The lag outlives jobs that start plain.
  const off = new Payoff({ paid: false, skipped: 0, lagMs: 45 });
  t.true(off.off);
  t.is(off.record().lagMs, 45);
});

test('a job whose worker never delivered paid only its idle rounds: not paid, and its lag at least the time it waited', (t) => {
  const p = new Payoff();
  p.missed(5);
  for (let i = 1; i <= 4; i++) p.idle(0.1, 5 + 5 * i);
  t.false(p.off);
  const h = p.record();
  t.false(h.paid);
  t.is(h.lagMs, 25);
  t.true(new Payoff(h).off, 'the next job of that drafter set and batch starts plain');
});

test.serial('a live draft source that never drafts: every round idle, the job equals plain decoding and is recorded as not paid (real target)', async (t) => {
  const { decodeDecoupled } = await import('../runtime/speculate/decoupled.js');
  const { createBoard } = await import('../runtime/speculate/board.js');
  const { decodePlain } = await import('../runtime/speculate/engine.js');
  const { jobOf } = await import('../xnodes/planning/jobs.js');
  const { CONTEXT, T, WINDOW } = await import('../xnodes/planning/motion.js');
  const { hs, target } = await heldOutBatch();
  const board = createBoard({ rows: 16, window: WINDOW, drafters: 1, ahead: T, contextDim: CONTEXT });
  // A worker that is up (live) but never publishes a draft: the extreme of one slow to start.
  const silent = {
    drafters: ['model'],
    ahead: T,
    board,
    priors: new Map<string, number>(),
    paid: new Map<string, PayoffHistory>(),
    callMs: 0,
    live: true,
    async begin(job: { rows: number; prompt: number; tokens: Int32Array; context: Float32Array }) {
      board.committed.set(job.tokens);
      board.context.set(job.context);
      board.lens.fill(job.prompt, 0, job.rows);
      board.want.fill(0);
    },
    notify() {},
    end() {},
  };
  try {
    const plain = jobOf(hs);
    await decodePlain(plain.job, target);
    const k = jobOf(hs);
    let rounds = 0;
    await decodeDecoupled(k.job, target, silent, { use: ['model'], onRound: () => void rounds++ });
    t.true(Buffer.from(k.job.tokens.buffer).equals(Buffer.from(plain.job.tokens.buffer)));
    t.is(rounds, T, 'one token a round, never switched plain by timing');
    const h = silent.paid.get('model greedy 16')!;
    t.false(h.paid);
    t.true(h.lagMs! > 0);
  } finally {
    await target.close();
  }
});

test("a job whose rounds' rates pay but which took longer than plain decoding's calls would have is not paid: one long wait for the first drafts, fast rounds after", (t) => {
  // A wait of 10 ms, then two rounds of 10 tokens in 0.4 ms (a call of 0.3 ms): the sum of rates says 5x.
  const p = new Payoff();
  p.setup(10);
  for (let i = 0; i < 3; i++) p.round(10, 1, 0.3, 0.4, 1);
  t.false(p.off);
  t.true(p.record().paid, 'by its rounds alone');
  t.false(p.record({ ms: 11.2, rows: 1, plainMs: 30 * 0.3 }).paid, '11.2 ms against 9 ms of plain calls');
  t.true(p.record({ ms: 8, rows: 1, plainMs: 30 * 0.3 }).paid);
  t.true(p.record({ ms: 8, rows: 1, plainMs: undefined }).paid, 'no call measured: the rounds decide');
  // After a lost job, the back-off doubles as for any loss.
  const retry = new Payoff({ paid: false, skipped: 3, wait: 3 });
  for (let i = 0; i < 3; i++) retry.round(10, 1, 0.3, 0.4, 1);
  t.deepEqual(retry.record({ ms: 11.2, rows: 1, plainMs: 9 }), { paid: false, skipped: 0, wait: 6 });
});

test('call cost estimate: proportional to rows while the calls are of one size, intercept and slope once they differ', (t) => {
  const c = new CostModel();
  t.is(c.at(16), undefined);
  c.add(1, 0.3);
  c.add(1, 0.5);
  t.is(c.at(1), 0.4);
  const d = new CostModel();
  for (const [rows, ms] of [[10, 2], [20, 3], [40, 5]] as const) d.add(rows, ms);
  t.true(Math.abs(d.at(30)! - 4) < 1e-9);
});

test('jobs that start plain measure plain decoding (smoothed, per batch): a later job is paid only if faster than that too, calls slowed by drafting beside them notwithstanding', (t) => {
  const off = new Payoff({ paid: false, skipped: 0, wait: 3 });
  t.true(off.off);
  const h1 = off.record({ ms: 10, rows: 1, plainMs: undefined });
  t.like(h1, { plainMs: 10, plainRows: 1, skipped: 1 });
  const h2 = new Payoff(h1).record({ ms: 20, rows: 1, plainMs: undefined });
  t.like(h2, { plainMs: 13, plainRows: 1, skipped: 2 });
  const h3 = new Payoff(h2).record({ ms: 4, rows: 2, plainMs: undefined });
  t.like(h3, { plainMs: 4, plainRows: 2 }, 'another batch size starts over');
  // Its wait over (a third plain job of 13 ms): a retry whose calls (slowed by the worker's
  // drafting beside them) put plain at 30 ms, taking 14 ms, where plain jobs took 13.
  const due = new Payoff(h2).record({ ms: 13, rows: 1, plainMs: undefined });
  t.like(due, { plainMs: 13, skipped: 3 });
  const retry = () => {
    const p = new Payoff(due);
    t.false(p.off);
    for (let i = 0; i < 3; i++) p.round(10, 1, 1, 1.2, 1);
    return p;
  };
  t.like(retry().record({ ms: 14, rows: 1, plainMs: 30 }), { paid: false, wait: 6, plainMs: 13 });
  t.like(retry().record({ ms: 12, rows: 1, plainMs: 30 }), { paid: true, plainMs: 13 });
  t.like(retry().record({ ms: 14, rows: 3, plainMs: 30 }), { paid: true }, 'no plain job of this size measured: the estimate decides');
});
