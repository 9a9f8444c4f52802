import test from 'ava';
import { tickDueSources } from '../runtime/exec/clock.js';
import { toExecPlan } from '../runtime/schedule/build.js';
import type { Assignment, CostModel } from '../runtime/schedule/model.js';
import { planPhases } from '../runtime/schedule/phases.js';
import { planXauto } from '../runtime/schedule/planner.js';
import { prepare } from '../runtime/schedule/evaluate.js';
import { simulate } from '../runtime/schedule/simulate.js';
import { model, on } from '../runtime/schedule/synthetic.js';

// Two sensors of one period, each starting a 10 ms job on the same single-lane XPU: released
// together, one job waits for the other every period.
const twoSensors = (): CostModel =>
  model([{ id: 'src' }, { id: 'cpu' }], [
    { name: 'front', cost: { src: 0.01 }, periodMs: 100, priority: 2 },
    { name: 'rear', cost: { src: 0.01 }, periodMs: 100, priority: 2 },
    { name: 'tf_front', cost: { cpu: 10 }, from: ['front'], priority: 2 },
    { name: 'tf_rear', cost: { cpu: 10 }, from: ['rear'], priority: 2 },
  ]);

const placed = (m: CostModel): Assignment => ({
  option: m.stages.map((s) => on(m, s.name, s.inputs.length ? 'cpu' : 'src')),
  priority: m.stages.map(() => 0),
});

test('the source clock releases frame k of a phased timer at origin + phase + k * period', (t) => {
  const src = { period: 100, phase: 30, emitted: 0, limit: 3, done: false };
  const seen: number[] = [];
  let next = tickDueSources([src], 1000, 1000, (_s, due) => seen.push(due));
  t.deepEqual(seen, []);
  t.is(next, 1030);
  for (const now of [1030, 1130, 1230]) next = tickDueSources([src], 1000, now, (_s, due) => seen.push(due));
  t.deepEqual(seen, [1030, 1130, 1230]);
  t.is(next, Infinity);
});

test('without phases every timer releases at the origin and timers of one period queue behind each other', (t) => {
  const m = twoSensors();
  const starts: number[] = [];
  const r = simulate(m, placed(m), { durationMs: 1000, onDispatch: (job) => (job.stage < 2 ? starts.push(job.frame.t0 % 100) : undefined) });
  t.true(starts.every((s) => Math.abs(s) < 1e-9));
  t.true(Math.abs(r.e2e.max - 20.01) < 0.05, `worst ${r.e2e.max}`);
});

test('the planner staggers timers of one period: the worst latency drops to one job, rates unchanged', (t) => {
  const m = twoSensors();
  const a = placed(m);
  const phase = planPhases(m, prepare(m), a);
  t.truthy(phase);
  // Apart by at least the job that would otherwise be waited for.
  const gap = Math.abs(phase![0]! - phase![1]!);
  t.true(gap >= 10 && gap <= 90, `phases ${phase![0]}, ${phase![1]}`);
  const before = simulate(m, a, { durationMs: 1000 });
  const after = simulate(m, { ...a, phase }, { durationMs: 1000 });
  t.true(after.e2e.max < before.e2e.max - 9, `${after.e2e.max} vs ${before.e2e.max}`);
  t.true(Math.abs(after.e2e.max - 10.01) < 0.05);
  // Same periods: the same number of frames over the run, give or take the one a phase pushes past its end.
  for (const v of [0, 1]) t.true(Math.abs(after.stages[v]!.runs - before.stages[v]!.runs) <= 1);
  t.is(after.overruns, 0);
});

test('planXauto reports the phases in its plan; plans without planning keep every timer at 0', (t) => {
  const m = twoSensors();
  const r = planXauto(m);
  t.truthy(r.assignment.phase);
  const plan = toExecPlan(m, r.assignment, 'xauto');
  t.true(plan.placements.some((p) => (p.phaseMs ?? 0) > 0));
  t.true(plan.placements.slice(2).every((p) => p.phaseMs === undefined)); // only timers have a phase
  const plain = toExecPlan(m, placed(m), 'module');
  t.true(plain.placements.every((p) => p.phaseMs === undefined));
});

test('one timer alone gets no phase', (t) => {
  const m = model([{ id: 'cpu' }], [
    { name: 'src', cost: { cpu: 1 }, periodMs: 100 },
    { name: 'work', cost: { cpu: 10 }, from: ['src'] },
  ]);
  t.is(planPhases(m, prepare(m), { option: [0, 0], priority: [0, 0] }), undefined);
});
