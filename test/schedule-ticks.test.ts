// Paced stages (runtime/schedule/ticks.ts): a timer-driven stage that reads inputs, as the
// Autoware reference's BehaviorPlanner, must tick on time whatever the ends gain: the planner
// holds its tick lateness within its slack as a constraint. All on the simulator's virtual clock.
import test from 'ava';
import type { CostModel } from '../runtime/schedule/model.js';
import { planXauto } from '../runtime/schedule/planner.js';
import { planPhases } from '../runtime/schedule/phases.js';
import { prepare, priorities, upwardRank } from '../runtime/schedule/evaluate.js';
import { simulate } from '../runtime/schedule/simulate.js';
import { model, on, pace, placedOn } from '../runtime/schedule/synthetic.js';
import { better, pacedStages, tickExcess, tickSlackMs } from '../runtime/schedule/ticks.js';

/**
 * This host's shape: the event loop (which fires the ticks) and one worker, on two cores. A
 * lidar's hot path (fastest on the main thread), a 30 ms side sensor whose 12-13 ms of work runs
 * across the planner's due time at t = 100 (90-102) and every 300 ms after, and the planner, a
 * 100 ms timer ranked first that reads the hot path's end. The worker is profiled slower than
 * the main thread for everything.
 */
function host(): CostModel {
  const m = model(
    [
      { id: 'main', eventLoop: true, usesCores: true },
      { id: 'pool', usesCores: true },
    ],
    [
      { name: 'lidar', cost: { main: 0.05 }, periodMs: 100, priority: 2 },
      { name: 'tf', cost: { main: 3, pool: 4.5 }, from: ['lidar'], priority: 2 },
      { name: 'est', cost: { main: 3, pool: 4.5 }, from: ['tf'], priority: 2 },
      { name: 'side', cost: { main: 0.05 }, periodMs: 30 },
      { name: 'sideWork', cost: { main: 12, pool: 13 }, from: ['side'] },
      { name: 'planner', cost: { main: 1, pool: 1.2 }, periodMs: 100, priority: 3 },
      { name: 'cmd', cost: { main: 0.05 }, from: ['planner'] },
    ],
    2,
  );
  pace(m, 'planner', 'est');
  return m;
}

const idx = (m: CostModel, name: string) => m.stages.findIndex((s) => s.name === name);

/** The planner's worst tick lateness (ms from due to start) under `a` over 3 s, read from the dispatches. */
function worstLate(m: CostModel, a: { option: number[]; priority: number[]; phase?: number[] }): number {
  const p = idx(m, 'planner');
  let worst = 0;
  simulate(m, a, { durationMs: 3000, onDispatch: (job, t) => void (job.stage === p && job.frame.seq >= 3 && (worst = Math.max(worst, t - job.frame.t0))) });
  return worst;
}

const withPriorities = (m: CostModel, option: number[]) => ({ option, priority: priorities(m, upwardRank(m, prepare(m), option)) });

test('paced stages: timer-driven stages that read inputs, not sources; slack 1% of the period', (t) => {
  const m = host();
  t.deepEqual(pacedStages(m), [idx(m, 'planner')]);
  t.is(tickSlackMs(m, idx(m, 'planner')), 1);
  const plain = model([{ id: 'cpu' }], [{ name: 'src', cost: { cpu: 1 }, periodMs: 100 }, { name: 'w', cost: { cpu: 1 }, from: ['src'] }]);
  t.deepEqual(pacedStages(plain), [], 'a source ticks too, but its lateness counts in its frames latency already');
});

test("simulate: a timer's lateness from when its tick was due, waiting on its lane or on the event loop that fires it", (t) => {
  const m = host();
  const opt = (pool: string[]) => m.stages.map((s) => on(m, s.name, pool.includes(s.name) ? 'pool' : 'main'));
  // Beside the side work on the worker, ranked above the planner (so the side work never yields
  // to its ticks): due at 100, it starts when the run of 90-103 ends.
  const ranked = withPriorities(m, opt(['sideWork', 'planner']));
  ranked.priority[idx(m, 'sideWork')] = ranked.priority[idx(m, 'planner')]! + 1;
  const beside = simulate(m, ranked, { durationMs: 1000, warmup: 0 });
  t.true(Math.abs(beside.stages[idx(m, 'planner')]!.late.max - 3.05) < 1e-6, `late ${beside.stages[idx(m, 'planner')]!.late.max}`);
  // On the worker alone, with the side work on the event loop that fires the ticks: once the side
  // work has run (its run time known), it yields the loop to each tick it would overlap, so the
  // tick fires when due and the side work waits instead (core/reserve.ts).
  const a = withPriorities(m, opt(['planner']));
  const loop = simulate(m, a, { durationMs: 1000, warmup: 0 });
  const p = idx(m, 'planner');
  let lateAfterFirst = 0;
  simulate(m, a, { durationMs: 1000, onDispatch: (job, t) => void (job.stage === p && job.frame.seq >= 1 && (lateAfterFirst = Math.max(lateAfterFirst, t - job.frame.t0))) });
  t.true(lateAfterFirst < 1e-6, `late ${lateAfterFirst}`);
  t.true(loop.stages[idx(m, 'sideWork')]!.wait.max > 1, `side work waited up to ${loop.stages[idx(m, 'sideWork')]!.wait.max} ms for the tick`);
  t.is(beside.stages[idx(m, 'tf')]!.late.count, 0, 'no tick, no lateness');
  const ex = tickExcess(m, beside);
  t.is(ex.late.length, 1);
  t.true(Math.abs(ex.excess - (3.05 - 1)) < 1e-6);
});

test('constraint order: less excess lateness first, then cost; lateness within one step compares by cost', (t) => {
  t.true(better({ excess: 0, cost: 50 }, { excess: 2, cost: 10 }));
  t.false(better({ excess: 2, cost: 10 }, { excess: 0, cost: 50 }));
  t.true(better({ excess: 0.01, cost: 10 }, { excess: 0, cost: 11 }), 'sampling noise does not decide');
  t.false(better({ excess: 1, cost: 10 }, { excess: 1, cost: 10 }));
});

test('the worker profiled slower than the main thread: the placement keeps the planner on time, not beside the side work', (t) => {
  const m = host();
  // Best for the ends alone: the hot path on the main thread, the side work on the worker, and
  // the planner beside it there (on the main thread it would run before the hot path each cycle).
  const r = planXauto(m, { phases: false });
  const late = worstLate(m, r.assignment);
  t.log(`planner on ${placedOn(m, r.assignment.option, 'planner')}, sideWork on ${placedOn(m, r.assignment.option, 'sideWork')}: late by up to ${late.toFixed(2)} ms`);
  t.true(late <= tickSlackMs(m, idx(m, 'planner')) + 1e-9, `late by ${late} ms`);
  t.is(placedOn(m, r.assignment.option, 'tf'), 'main', 'the hot path keeps its fastest XPU');
  // With the timers' phases as well.
  const phased = planXauto(m);
  t.true(worstLate(m, phased.assignment) <= tickSlackMs(m, idx(m, 'planner')) + 1e-9);
});

test('timer phases never make a paced stage on time late, whatever the ends would gain', (t) => {
  const m = host();
  // The planner on the main thread, on time; the side work on the worker, the hot path on the
  // main thread: the phase search may move every timer, the planner's ticks stay on time.
  const a = withPriorities(m, m.stages.map((s) => on(m, s.name, s.name === 'sideWork' ? 'pool' : 'main')));
  t.true(worstLate(m, a) <= tickSlackMs(m, idx(m, 'planner')));
  const phase = planPhases(m, prepare(m), a);
  t.log(`phases ${phase?.join(', ') ?? 'none'}`);
  t.true(worstLate(m, { ...a, phase }) <= tickSlackMs(m, idx(m, 'planner')) + 1e-9);
});
