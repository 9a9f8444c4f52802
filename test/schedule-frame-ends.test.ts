// The planner's objective counts the frames that end where they trigger nothing further (a
// stage read only through latched inputs), not only those reaching sinks: the Autoware
// reference system's hot path ends at ObjectCollisionEstimator, which BehaviorPlanner's timer
// reads, so a plan that ignored it could place the hot path anywhere.
import test from 'ava';
import { estimate, planXauto, simulatedCost } from '../runtime/schedule/planner.js';
import { prepare } from '../runtime/schedule/evaluate.js';
import { simulate } from '../runtime/schedule/simulate.js';
import { model, on, placedOn } from '../runtime/schedule/synthetic.js';
import type { CostModel, ModelPort } from '../runtime/schedule/model.js';

/** lidar -> hot (read by the planner's timer through a latched input); planner -> cmd (a sink). */
function hotPath(): CostModel {
  const m = model(
    // The planner side on an XPU of its own: the hot path's placement cannot delay it.
    [{ id: 'cpu' }, { id: 'gpu' }, { id: 'aux' }],
    [
      { name: 'lidar', cost: { cpu: 1 } },
      { name: 'hot', cost: { cpu: 10, gpu: 4 }, from: ['lidar'] },
      { name: 'planner', cost: { aux: 2 }, periodMs: 100 },
      { name: 'cmd', cost: { aux: 1 }, from: ['planner'] },
    ],
  );
  const [, hot, planner] = [0, 1, 2].map((i) => m.stages[i]!);
  const port: ModelPort = { stage: 2, port: 'in_0', topic: '/hot', type: 'xauto/Tensor', depth: 1, latched: true, clear: true, trigger: false, optional: true, producers: [1], bytes: 0, encodeMs: 0, decodeMs: 0 };
  planner!.inputs.push(port);
  planner!.timer = true;
  hot!.consumers.push(port);
  hot!.sink = false;
  // As the graph has them: the timer-driven planner is no source, `hot` no sink.
  m.sources = [0];
  m.sinks = [3];
  return m;
}

test('the estimate counts a frame ending at a stage read only through latched inputs', (t) => {
  const m = hotPath();
  const sc = prepare(m);
  const slow = [0, on(m, 'hot', 'cpu'), 0, 0];
  const fast = [0, on(m, 'hot', 'gpu'), 0, 0];
  t.true(estimate(m, slow, sc) > estimate(m, fast, sc), 'the hot path on its slower XPU costs more');
  t.true(simulatedCost(m, slow, sc) > simulatedCost(m, fast, sc), 'and in the simulated cost too');
  const r = planXauto(m);
  t.is(placedOn(m, r.assignment.option, 'hot'), 'gpu');
});

test('simulate: latencies of frames ending at the stages asked for, from when they were due', (t) => {
  const m = hotPath();
  const r = simulate(m, { option: [0, on(m, 'hot', 'gpu'), 0, 0], priority: [0, 0, 0, 0] }, { frames: 5, ends: [1] });
  const hot = r.ends.get(1)!;
  t.is(hot.count, 5);
  t.is(hot.p50, 1 + 4, 'lidar 1 ms, then hot 4 ms');
  t.is(r.e2eBySink.get(3)!.count, 5, 'the sink still counts its own frames (the planner timer ticks 5 times)');
});
