// The tracker's parts: the assignment is optimal, ids stay with their objects through noise
// and short gaps, velocities converge, and lost tracks end.
import test from 'ava';
import { assign } from '../xnodes/tracking/hungarian.js';
import { Tracker } from '../xnodes/tracking/tracker.js';
import { Rng } from '../xnodes/perception-common/rng.js';
import { stampOf, type FusedObject, type Objects } from '../xnodes/perception-common/messages.js';

const FORBIDDEN = 1e9;

function bruteForce(cost: Float64Array, rows: number, cols: number): number {
  let best = Infinity;
  const used = new Array<boolean>(cols).fill(false);
  const go = (r: number, sum: number, count: number) => {
    if (r === rows) {
      // Maximise the number of allowed pairs first, then minimise cost (gated pairs are absent).
      const score = -count * 1e6 + sum;
      if (score < best) best = score;
      return;
    }
    go(r + 1, sum, count); // row unassigned
    for (let c = 0; c < cols; c++) {
      if (used[c] || cost[r * cols + c]! >= FORBIDDEN) continue;
      used[c] = true;
      go(r + 1, sum + cost[r * cols + c]!, count + 1);
      used[c] = false;
    }
  };
  go(0, 0, 0);
  return best;
}

test('the Hungarian assignment is optimal on random gated matrices', (t) => {
  const rng = new Rng(99);
  for (let trial = 0; trial < 300; trial++) {
    const rows = 1 + (rng.u32() % 6);
    const cols = 1 + (rng.u32() % 6);
    const cost = new Float64Array(rows * cols);
    for (let i = 0; i < cost.length; i++) cost[i] = rng.next() < 0.25 ? FORBIDDEN : Math.round(rng.next() * 100) / 10;
    const match = assign(cost, rows, cols, FORBIDDEN);
    const cols2 = new Set<number>();
    let sum = 0;
    let count = 0;
    for (let r = 0; r < rows; r++) {
      const c = match[r]!;
      if (c < 0) continue;
      t.false(cols2.has(c), 'each column once');
      cols2.add(c);
      t.true(cost[r * cols + c]! < FORBIDDEN, 'no gated pair');
      sum += cost[r * cols + c]!;
      count++;
    }
    t.true(Math.abs(-count * 1e6 + sum - bruteForce(cost, rows, cols)) < 1e-6, `trial ${trial}: ${rows}x${cols}`);
  }
});

const params = { max_tracks: 16, gate: 2.5, max_misses: 3, min_hits: 2, accel_noise: 4 };

function objectsAt(frame: number, truth: Array<{ x: number; y: number; vx: number; vy: number; cls: number }>, rng: Rng, skip: Set<number> = new Set()): Objects {
  const t = frame * 0.1;
  const objects: FusedObject[] = truth
    .map((o, i) => ({ o, i }))
    .filter(({ i }) => !skip.has(i))
    .map(({ o }) => ({
      cls: o.cls,
      score: 0.9,
      box2d: [0, 0, 10, 10],
      center: [o.x + o.vx * t + rng.normal() * 0.1, o.y + o.vy * t + rng.normal() * 0.1, 0.8],
      size: [4, 2, 1.5],
      lidar: true,
    }));
  return { header: { stamp: stampOf(t), frame_id: 'base_link' }, objects };
}

test('ids stay with their objects through noise and a two-frame gap; velocities converge', (t) => {
  const truth = [
    { x: 20, y: 0, vx: 2, vy: 0, cls: 0 },
    { x: 30, y: 3.5, vx: -8, vy: 0, cls: 0 },
    { x: 15, y: -6, vx: -5, vy: 0.5, cls: 1 },
  ];
  const rng = new Rng(5);
  const tracker = new Tracker(params);
  const idOf = new Map<number, number>();
  for (let f = 0; f < 60; f++) {
    const skip = f >= 30 && f < 32 ? new Set([1]) : new Set<number>();
    const out = tracker.step(objectsAt(f, truth, rng, skip));
    for (const tr of out) {
      // Which truth object is this track on?
      const time = f * 0.1;
      const k = truth.findIndex((o) => Math.hypot(o.x + o.vx * time - tr.center[0], o.y + o.vy * time - tr.center[1]) < 1);
      t.true(k >= 0, `frame ${f}: track ${tr.id} is on an object`);
      const had = idOf.get(k);
      if (had !== undefined) t.is(tr.id, had, `frame ${f}: object ${k} keeps its id`);
      idOf.set(k, tr.id);
    }
    if (f === 31) t.false(out.some((tr) => tr.id === idOf.get(1)), 'a coasting track is not reported');
  }
  t.is(new Set(idOf.values()).size, 3);
  const final = tracker.step(objectsAt(60, truth, rng));
  for (const [k, id] of idOf) {
    const tr = final.find((x) => x.id === id)!;
    t.true(Math.abs(tr.velocity[0] - truth[k]!.vx) < 0.5 && Math.abs(tr.velocity[1] - truth[k]!.vy) < 0.5, `velocity of ${k}: ${tr.velocity}`);
  }
});

test('a track ends after max_misses frames without its object, and a new object gets a new id', (t) => {
  const rng = new Rng(1);
  const tracker = new Tracker(params);
  const truth = [{ x: 10, y: 0, vx: 0, vy: 0, cls: 2 }];
  let id = -1;
  for (let f = 0; f < 5; f++) id = tracker.step(objectsAt(f, truth, rng))[0]?.id ?? id;
  for (let f = 5; f < 5 + params.max_misses + 1; f++) tracker.step(objectsAt(f, truth, rng, new Set([0])));
  t.is(tracker.alive.reduce((a, b) => a + b, 0), 0, 'the track ended');
  tracker.step(objectsAt(10, truth, rng));
  const out = tracker.step(objectsAt(11, truth, rng));
  t.is(out.length, 1);
  t.not(out[0]!.id, id);
});

test('objects of another class are never assigned to a track', (t) => {
  const rng = new Rng(2);
  const tracker = new Tracker(params);
  for (let f = 0; f < 3; f++) tracker.step(objectsAt(f, [{ x: 10, y: 0, vx: 0, vy: 0, cls: 0 }], rng));
  const out = tracker.step(objectsAt(3, [{ x: 10, y: 0, vx: 0, vy: 0, cls: 1 }], rng));
  t.is(out.length, 0, 'the pedestrian is a new, unconfirmed track; the car track coasts');
  t.is(tracker.alive.reduce((a, b) => a + b, 0), 2);
});
