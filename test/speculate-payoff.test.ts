// When speculation does not pay (runtime/speculate/payoff.ts): the job goes on plain after three
// losing rounds (one, when its drafts gained nothing), the drafter set starts plain in the next jobs, and it is tried again less and
// less often while it keeps losing, so a drafter that never pays costs almost nothing.
import test from 'ava';
import { Payoff, type PayoffHistory } from '../runtime/speculate/payoff.js';

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
  const { openTarget } = await import('../xnodes/planning/model.js');
  const { CONTEXT, H, T, WINDOW } = await import('../xnodes/planning/motion.js');
  const { HELDOUT_SEEDS, trajectories } = await import('../models/rollout.gen.mjs');
  const hs = (await trajectories(HELDOUT_SEEDS.slice(0, 1), 0.7)).slice(0, 16).map((x) => ({ cls: x.cls, xs: x.xs.subarray(0, H + 1), ys: x.ys.subarray(0, H + 1) }));
  const target = await openTarget();
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
