// Scoring greedy rollouts against later ground truth (xnodes/planning/history.ts): a frame a
// loaded pipeline dropped never brings its truth; its step is left out of the ADE once given
// up, so the 3 s horizon is scored without 30 frames in a row, while a rollout whose last
// step's truth never came (no FDE) or most of whose truth is missing is counted, not scored.
import test from 'ava';
import { RolloutScorer } from '../xnodes/planning/history.js';
import { DT, T } from '../xnodes/planning/motion.js';
import type { GtObject } from '../xnodes/perception-common/messages.js';

const STEP = DT * 1000;
/** One object moving 1 m a step along x from x = 0 at 0 ms. */
const truthAt = (frame: number): GtObject[] => [{ id: 7, cls: 0, center: [frame, 0, 0], size: [1, 1, 1], yaw: 0, box2d: null, visible: 1 }];

/** A rollout at 0 ms predicting x = (s + 1) + err for step s; truth frames 0..last except `dropped`. */
function score(dropped: Set<number>, last = T + 6, err = 0.5) {
  const s = new RolloutScorer();
  s.addTruth(0, truthAt(0));
  const pred = new Float64Array(2 * T);
  for (let k = 0; k < T; k++) pred[2 * k] = k + 1 + err;
  s.add(0, pred, 0, 0, 1, 0);
  for (let f = 1; f <= last; f++) {
    if (!dropped.has(f)) s.addTruth(f * STEP, truthAt(f));
    s.update();
  }
  return { r: s.meter.result(), gaps: s.gaps, lost: s.lost };
}

test('every truth frame came: ADE and FDE over all steps (constant velocity exact here)', (t) => {
  const { r, gaps } = score(new Set());
  t.is(r.scored, 1);
  t.is(r.ade_m, 0.5);
  t.is(r.fde_m, 0.5);
  t.is(r.cv_ade_m, 0);
  t.is(gaps, 0);
});

test('dropped frames: their steps left out of the ADE once given up (half a second later), the rollout still scored', (t) => {
  // Errors differ by step, so which steps were averaged shows: step s errs by s / 10.
  const s = new RolloutScorer();
  s.addTruth(0, truthAt(0));
  const pred = new Float64Array(2 * T);
  for (let k = 0; k < T; k++) pred[2 * k] = k + 1 + k / 10;
  s.add(0, pred, 0, 0, 1, 0);
  const dropped = new Set([3, 4, 17]);
  for (let f = 1; f <= T + 6; f++) {
    if (!dropped.has(f)) s.addTruth(f * STEP, truthAt(f));
    s.update();
    if (f === 5) t.is(s.meter.result().scored, 0, 'still waiting');
  }
  const kept = Array.from({ length: T }, (_, k) => k).filter((k) => !dropped.has(k + 1));
  const ade = kept.reduce((a, k) => a + k / 10, 0) / kept.length;
  const r = s.meter.result();
  t.is(r.scored, 1);
  t.is(r.ade_m, Math.round(ade * 1e4) / 1e4);
  t.is(r.fde_m, 2.9);
  t.is(s.gaps, 0);
});

test("a rollout whose last step's truth, or most of whose truth, never came is counted in gaps, not scored", (t) => {
  const noLast = score(new Set([T]));
  t.is(noLast.r.scored, 0);
  t.is(noLast.r.ade_m, null);
  t.is(noLast.gaps, 1);
  const most = score(new Set(Array.from({ length: 16 }, (_, k) => k + 1)));
  t.is(most.r.scored, 0);
  t.is(most.gaps, 1);
  // Truth not yet given up when the run ends: neither scored nor counted.
  const open = score(new Set([T]), T + 2);
  t.is(open.r.scored + open.gaps, 0);
});
