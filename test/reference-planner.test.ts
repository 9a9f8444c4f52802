// What the planner needs to plan the Autoware reference system on this host: runs that follow
// their XPU's previous one closely take their back-to-back (warm) time, not the cold time paced
// profiling measures after an idle gap (the hot path's stages run in a burst, one after the
// other); and the launch's priorities rank paths in the objective as in dispatch (the hot path
// first).
import test from 'ava';
import { prepare } from '../runtime/schedule/evaluate.js';
import { endWeights } from '../runtime/schedule/priorities.js';
import { warmAt, type CostModel } from '../runtime/schedule/model.js';
import { lowerBound } from '../runtime/schedule/baseline.js';
import { estimate, planXauto, simulatedCost } from '../runtime/schedule/planner.js';
import { gathered } from '../runtime/schedule/refine.js';
import { simulate } from '../runtime/schedule/simulate.js';
import { model, on, placedOn } from '../runtime/schedule/synthetic.js';

test('warmAt: the warm time right after the previous run, the cold one from the gap on, linear in between', (t) => {
  const lat = { p50: 4, q: [3, 3.5, 3.8, 4, 4.2, 4.5, 5, 6], warm: { p50: 2, q: [1, 1.5, 1.8, 2, 2.2, 2.5, 3, 4], coldAfterMs: 100 } };
  t.is(warmAt(lat, 0).p50, 2);
  t.is(warmAt(lat, -3).p50, 2, 'beside a run still going: warm');
  t.is(warmAt(lat, 50).p50, 3);
  t.deepEqual(warmAt(lat, 50).q, [2, 2.5, 2.8, 3, 3.2, 3.5, 4, 5]);
  t.is(warmAt(lat, 100).p50, 4);
  t.is(warmAt(lat, Infinity).p50, 4);
  t.is(warmAt({ p50: 4 }, 0).p50, 4, 'no warm time: always the measured one');
});

/** A chain a -> b -> c on one XPU at 100 ms, each 3 ms cold (after 50 ms idle), 1 ms warm. */
function chain(): CostModel {
  const m = model([{ id: 'cpu' }], [
    { name: 'a', cost: { cpu: 3 }, periodMs: 100 },
    { name: 'b', cost: { cpu: 3 }, from: ['a'] },
    { name: 'c', cost: { cpu: 3 }, from: ['b'] },
  ]);
  for (const s of m.stages) s.options[0]!.lat.warm = { p50: 1, coldAfterMs: 50 };
  return m;
}

test('simulate: the first run of a burst is cold, the runs right after it on its XPU warm', (t) => {
  const m = chain();
  const r = simulate(m, { option: [0, 0, 0], priority: [0, 0, 0] }, { frames: 4 });
  t.is(r.stages[0]!.run.max, 3, 'the source after its XPU idled most of a period: cold');
  t.is(r.stages[1]!.run.max, 1);
  t.is(r.stages[2]!.run.max, 1);
  t.is(r.e2e.max, 5);
  const sc = prepare(m);
  t.is(estimate(m, [0, 0, 0], sc), 5, 'the estimate charges the same');
});

test('lower bound under the same model: the source cold, the stages it feeds warm; no simulated plan beats it', (t) => {
  const m = chain();
  t.is(lowerBound(m).p50, 3 + 1 + 1);
  const r = simulate(m, { option: [0, 0, 0], priority: [0, 0, 0] }, { frames: 4 });
  t.true(r.e2e.p50 >= lowerBound(m).p50 - 1e-9);
});

/**
 * Two sources, each a path to its own end; the fast XPU can keep up with one path only (both
 * there overload it), and the other path gains more from it.
 */
function twoPaths(hotPriority: number): CostModel {
  return model([{ id: 'src', lanes: 2 }, { id: 'fast' }, { id: 'slow', lanes: 4 }], [
    { name: 'hotSrc', cost: { src: 0.1 }, periodMs: 3, priority: hotPriority },
    { name: 'otherSrc', cost: { src: 0.1 }, periodMs: 3 },
    { name: 'hot', cost: { fast: 2, slow: 5 }, from: ['hotSrc'], priority: hotPriority },
    { name: 'other', cost: { fast: 2, slow: 8 }, from: ['otherSrc'] },
  ]);
}

test("endWeights: ends rank by their frames' origin, each level outweighs all below it; no priorities, all alike", (t) => {
  const sc = prepare(twoPaths(2));
  t.deepEqual([...sc.weight], [0, 0, 1000, 1]);
  t.deepEqual([...prepare(twoPaths(0)).weight], [0, 0, 1, 1]);
  // The ranked source alone carries the rank: its end, whatever the end's own priority, ranks first.
  const m = twoPaths(0);
  m.stages[0]!.priority = 1;
  t.deepEqual([...prepare(m).weight], [0, 0, 1000, 1]);
  // A join of a ranked and an unranked source's frames ranks as the lower.
  const j = model([{ id: 'cpu' }], [
    { name: 'a', cost: { cpu: 1 }, priority: 2 },
    { name: 'b', cost: { cpu: 1 } },
    { name: 'ab', cost: { cpu: 1 }, from: ['a', 'b'], priority: 2 },
    { name: 'aa', cost: { cpu: 1 }, from: ['a'] },
  ]);
  const pj = prepare(j);
  t.deepEqual([...endWeights(j, pj.sink, pj.preds, pj.source)], [0, 0, 1, 1000]);
});

test('endWeights: a timer-driven stage reading inputs ranks its ticks, not the ends of what they start', (t) => {
  const m = model([{ id: 'cpu' }], [
    { name: 'lidar', cost: { cpu: 1 }, periodMs: 100, priority: 2 },
    { name: 'hot', cost: { cpu: 1 }, from: ['lidar'], priority: 2 },
    { name: 'planner', cost: { cpu: 1 }, periodMs: 100, priority: 3 },
    { name: 'cmd', cost: { cpu: 1 }, from: ['planner'] },
  ]);
  const planner = m.stages[2]!;
  planner.timer = true;
  const sc = prepare(m);
  t.deepEqual([...sc.weight], [0, 1, 0, 1000], 'no inputs: a timer ranks what it starts, as a source');
  planner.inputs.push({ stage: 2, port: 'in_0', topic: '/hot', type: 'xauto/Tensor', depth: 1, latched: true, clear: true, trigger: false, optional: true, producers: [1], bytes: 0, encodeMs: 0, decodeMs: 0 });
  m.stages[1]!.consumers.push(planner.inputs[0]!);
  m.stages[1]!.sink = false;
  const w = prepare(m);
  t.is(w.weight[3], 1, 'its frames end at their own priority');
  t.true(w.weight[1]! > w.weight[3]!, 'the hot path outranks them');
});

test('the planner puts the higher-priority path first, as the dispatch does', (t) => {
  const plain = twoPaths(0);
  const a = planXauto(plain).assignment.option;
  t.is(placedOn(plain, a, 'other'), 'fast', 'without priorities: the larger gain wins');
  t.is(placedOn(plain, a, 'hot'), 'slow');
  const ranked = twoPaths(2);
  const b = planXauto(ranked).assignment.option;
  t.is(placedOn(ranked, b, 'hot'), 'fast', 'the ranked path gets the fast XPU');
  t.is(placedOn(ranked, b, 'other'), 'slow');
  const sc = prepare(ranked);
  const hotFast = [0, 0, on(ranked, 'hot', 'fast'), on(ranked, 'other', 'slow')];
  const otherFast = [0, 0, on(ranked, 'hot', 'slow'), on(ranked, 'other', 'fast')];
  t.true(simulatedCost(ranked, hotFast, sc) < simulatedCost(ranked, otherFast, sc));
});

test('gathered: per XPU, every stage that can run there moved to its fastest option there, the rest kept', (t) => {
  const m = model([{ id: 'main' }, { id: 'native', lanes: 2 }], [
    { name: 'src', cost: { main: 0.1 } },
    { name: 'a', cost: { main: 2, native: 2.2 }, from: ['src'] },
    { name: 'b', cost: { main: 2, native: 2.1 }, from: ['a'] },
  ]);
  const base = Int32Array.from([0, on(m, 'a', 'main'), on(m, 'b', 'native')]);
  const [toMain, toNative] = gathered(m, base).map((o) => m.stages.map((s) => placedOn(m, [...o], s.name)));
  t.deepEqual(toMain, ['main', 'main', 'main']);
  t.deepEqual(toNative, ['main', 'native', 'native'], 'the source has no native option: kept');
  // With an event loop: also everything that can leave it, to its fastest option elsewhere.
  const w = model([{ id: 'main', eventLoop: true }, { id: 'native', lanes: 2 }, { id: 'pool' }], [
    { name: 'src', cost: { main: 0.1 } },
    { name: 'a', cost: { main: 2, native: 2.2, pool: 3 }, from: ['src'] },
    { name: 'b', cost: { main: 2, native: 2.6, pool: 2.4 }, from: ['a'] },
  ]);
  const all = gathered(w, Int32Array.from([0, on(w, 'a', 'main'), on(w, 'b', 'main')])).map((o) => w.stages.map((s) => placedOn(w, [...o], s.name)));
  t.deepEqual(all.at(-1), ['main', 'native', 'pool']);
});
