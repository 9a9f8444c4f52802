// When speculation does not pay (runtime/speculate/payoff.ts): the job goes on plain after three
// losing rounds, the drafter set starts plain in the next jobs, and it is tried again less and
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
