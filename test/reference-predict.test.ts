// The simulator's prediction of the reference system's KPIs (xnodes/reference/predict.ts): the
// meter's definitions on hand-computed dispatches, and predictions that respect what a plan
// cannot beat (the hot path's crunches in sequence, two lanes or one); and BehaviorPlanner's
// ticks, ranked above the hot path as the reference's prioritised executor ranks the planner,
// starting when due wherever they run (on the dispatch core in virtual time).
import test from 'ava';
import { join } from 'node:path';
import { loadRegistry } from '../runtime/cli/xnodes.js';
import type { Job } from '../runtime/exec/core/types.js';
import type { ExecPlan } from '../runtime/exec/plan.js';
import { buildGraph, type Graph } from '../runtime/graph/index.js';
import { loadLaunchFile } from '../runtime/launch/index.js';
import { buildModel, planXauto, toExecPlan, type Profile } from '../runtime/schedule/index.js';
import { loads, prepare } from '../runtime/schedule/evaluate.js';
import { runsOn, type XpuInfo } from '../runtime/xpu/types.js';
import { predictReference, ReferenceMeter } from '../xnodes/reference/predict.js';

const root = new URL('..', import.meta.url).pathname;

async function referenceGraph(args: Record<string, string> = {}): Promise<Graph> {
  const desc = loadLaunchFile(join(root, 'launch', 'reference-system.launch.yaml'), { args });
  return buildGraph(desc, await loadRegistry({ types: desc.xnodes.map((x) => x.type) }));
}

const job = (g: Graph, name: string, seq: number): Job => ({ stage: g.stages.findIndex((s) => s.name === name), xpu: 0, lane: 0, worker: -1, frame: { seq, t0: 0 }, inputs: {} });

test('meter: hot path from the later lidar stamp to the estimator start; planner period as Δstamp/Δsequence; first frames skipped', async (t) => {
  const g = await referenceGraph();
  const m = new ReferenceMeter(g, 10);
  const at = (name: string, seq: number, ms: number) => m.on(job(g, name, seq), ms);
  at('FrontLidarDriver', 9, 900);
  at('RearLidarDriver', 9, 900.5);
  at('ObjectCollisionEstimator', 9, 910); // skipped
  at('FrontLidarDriver', 10, 1000);
  at('RearLidarDriver', 10, 1000.25);
  at('ObjectCollisionEstimator', 10, 1009.25);
  at('RearLidarDriver', 11, 1100);
  at('FrontLidarDriver', 11, 1100.5);
  at('ObjectCollisionEstimator', 11, 1112.5);
  t.deepEqual(m.samples, [9, 12]);
  at('BehaviorPlanner', 10, 1000); // skipped, but the next period counts from it
  at('BehaviorPlanner', 11, 1101);
  at('BehaviorPlanner', 13, 1301); // a missed tick: the period per sequence step
  t.deepEqual(m.periods, [101, 100]);
  t.is(m.period().mean, 100.5);
  t.is(m.period().deviation, Math.SQRT1_2);
});

const xpus: XpuInfo[] = [
  { id: 'main', kind: 'cpu', backend: 'main', lanes: 1, real: true, note: 'event loop' },
  { id: 'native', kind: 'cpu', backend: 'native', lanes: 2, real: true, note: 'libuv pool' },
];

/** Every implementation 1 ms on every XPU it runs on. */
function flatProfile(g: Graph): Profile {
  const flat = [1, 1, 1, 1, 1, 1, 1, 1];
  return {
    host: 'test',
    simulated: false,
    cores: 2,
    stages: g.stages.map((s) =>
      Object.fromEntries(s.impls.flatMap((impl) => xpus.filter((x) => runsOn(impl, x)).map((x) => [`${impl.name}@${x.id}`, { p50: 1, q: flat, samples: 1 }]))),
    ),
    topics: {},
    transfer: {},
    measured: 0,
    cached: 0,
    failures: [],
  };
}

test('prediction: every crunch 1 ms; one thread runs the hot path in sequence, two lanes overlap the transformers', async (t) => {
  const g = await referenceGraph();
  const profile = flatProfile(g);
  const single: ExecPlan = { name: 'single', placements: g.stages.map(() => ({ impl: 'js', xpu: 'main', priority: 0, group: 'executor' })) };
  const native: ExecPlan = {
    name: 'native',
    placements: g.stages.map((s) => (s.impls.some((i) => i.name === 'native') ? { impl: 'native', xpu: 'native', priority: s.priority } : { impl: 'js', xpu: 'main', priority: s.priority })),
  };
  const ps = predictReference(g, single, xpus, profile, 5);
  const pn = predictReference(g, native, xpus, profile, 5);
  t.log(`hot path p50: single thread ${ps.hot.p50} ms, two native lanes ${pn.hot.p50} ms`);
  t.true(ps.hot.count > 30, `${ps.hot.count} hot-path samples in 5 s at 10 Hz`);
  // After the later lidar's stamp: its own run, both transformers, fusion, ground filter and clusters, one after the other.
  t.true(ps.hot.p50 >= 6, `single thread: ${ps.hot.p50} ms`);
  // The transformers side by side on two lanes: at least the later lidar's run and four crunches.
  t.true(pn.hot.p50 >= 4, `two lanes: ${pn.hot.p50} ms`);
  t.true(pn.hot.p50 < ps.hot.p50);
  t.true(Math.abs(ps.period.mean - 100) < 1, `planner period ${ps.period.mean} ms`);
  t.throws(() => predictReference(g, { name: 'bad', placements: g.stages.map(() => ({ impl: 'worker', xpu: 'main', priority: 0 })) }, xpus, profile, 1), { message: /no profiled option worker@main/ });
});

/** Every stage on the event loop at its launch priority: the planner's tick shares one thread with the whole hot path. */
const oneThread = (g: Graph): ExecPlan => ({ name: 'one thread', placements: g.stages.map((s) => ({ impl: 'js', xpu: 'main', priority: s.priority })) });

test("BehaviorPlanner above the hot path (the launch's default, as the reference ranks its planner): its ticks start when due, on one thread with the hot path or as planned", async (t) => {
  const g = await referenceGraph();
  const profile = flatProfile(g);
  // It ticks with both lidars (all at 100 ms from one origin): ranked first, it waits for what
  // already ran when it fell due (one 1 ms crunch at most), not for the hot path those ticks start.
  const first = predictReference(g, oneThread(g), xpus, profile, 5);
  t.log(`late (ms): ranked first p50 ${first.late.p50} max ${first.late.max}`);
  t.true(first.late.count > 30, `${first.late.count} planner ticks`);
  t.true(first.late.max <= 1 + 1e-9, `late by up to ${first.late.max} ms`);
  t.true(Math.abs(first.period.mean - 100) < 1e-6 && first.period.deviation < 1e-6, `period ${first.period.mean} ms, deviation ${first.period.deviation} ms`);
  // Ranked below it (the launch's old default): behind both transformers, the fusion, the ground
  // filter, the clusters and the estimator, every cycle; how long varies with their run times.
  const below = await referenceGraph({ behavior_planner_priority: '1' });
  const after = predictReference(below, oneThread(below), xpus, flatProfile(below), 5);
  t.log(`ranked below the hot path: p50 ${after.late.p50} max ${after.late.max}`);
  t.true(after.late.p50 >= 6, `below the hot path: late by ${after.late.p50} ms (p50)`);
  // The planner's own plan keeps the ticks on time, wherever it puts the planner.
  const model = buildModel(g, xpus, profile, { nominalMs: 1 });
  const planned = toExecPlan(model, planXauto(model, { budgetMs: 200, refineMs: 200 }).assignment, 'xauto');
  const p = predictReference(g, planned, xpus, profile, 5);
  t.true(p.late.max <= 1 + 1e-9, `planned (${planned.placements[g.stages.findIndex((s) => s.name === 'BehaviorPlanner')]!.xpu}): late by up to ${p.late.max} ms`);
});

const hostXpus: XpuInfo[] = [
  { id: 'main', kind: 'cpu', backend: 'main', lanes: 1, real: true, note: 'event loop' },
  { id: 'pool', kind: 'cpu', backend: 'worker', lanes: 1, real: true, note: 'one worker' },
  { id: 'native', kind: 'cpu', backend: 'native', lanes: 2, real: true, note: 'libuv pool' },
];

/** Each crunch `ms[xpu]` (±, as measured run times spread), a sensor's or command node's stamp 0.05 ms. */
function shapedProfile(g: Graph, ms: Record<string, number>): Profile {
  const spread = [0.9, 0.95, 0.97, 1, 1.03, 1.06, 1.2, 1.4];
  return {
    host: 'test',
    simulated: false,
    cores: 2,
    stages: g.stages.map((s) => {
      const crunch = s.def.type !== 'reference/sensor' && s.def.type !== 'reference/command';
      return Object.fromEntries(
        s.impls.flatMap((impl) =>
          hostXpus.filter((x) => runsOn(impl, x)).map((x) => {
            const p50 = crunch ? ms[x.id]! : 0.05;
            return [`${impl.name}@${x.id}`, { p50, q: spread.map((k) => k * p50), samples: 20 }];
          }),
        ),
      );
    }),
    topics: {},
    transfer: {},
    measured: 0,
    cached: 0,
    failures: [],
  };
}

test("the crunch profiled slower on the worker and the native threads than on the main thread: the plan keeps BehaviorPlanner's ticks on time", async (t) => {
  const g = await referenceGraph();
  // The profile a shared 2-core host gave: the main thread fastest, then the worker, then native.
  const profile = shapedProfile(g, { main: 6, pool: 7, native: 9 });
  const model = buildModel(g, hostXpus, profile, { nominalMs: 1 });
  const plan = toExecPlan(model, planXauto(model).assignment, 'xauto');
  const p = predictReference(g, plan, hostXpus, profile, 12);
  const single = predictReference(g, { name: 'single', placements: g.stages.map(() => ({ impl: 'js', xpu: 'main', priority: 0, group: 'executor' })) }, hostXpus, profile, 12);
  const at = plan.placements[g.stages.findIndex((s) => s.name === 'BehaviorPlanner')]!.xpu;
  t.log(`BehaviorPlanner on ${at}: late p50 ${p.late.p50.toFixed(2)} max ${p.late.max.toFixed(2)} ms, period deviation ${p.period.deviation.toFixed(2)} ms`);
  t.log(`hot path p50 ${p.hot.p50.toFixed(2)} ms, max ${p.hot.max.toFixed(2)} ms; single-threaded ${single.hot.p50.toFixed(2)}, ${single.hot.max.toFixed(2)}`);
  t.true(p.late.count > 100, `${p.late.count} planner ticks`);
  t.true(p.late.max <= 1, `late by up to ${p.late.max} ms`);
  t.true(p.period.deviation <= 1, `period deviation ${p.period.deviation} ms`);
  t.true(p.hot.p50 < single.hot.p50, 'the hot path still gains over one thread');
});

test('the crunch profiled 7.3 ms on the main thread, 10.2 on the one worker, 8.2 native, the host seen as one core (a profile measured under load): the plan loads the cores no more than it must', async (t) => {
  const g = await referenceGraph();
  const profile = { ...shapedProfile(g, { main: 7.33, pool: 10.2, native: 8.2 }), cores: 1 };
  const model = buildModel(g, hostXpus, profile, { nominalMs: 1 });
  const sc = prepare(model);
  const planned = planXauto(model);
  const load = loads(model, sc, planned.assignment.option);
  // The least load any plan puts on the cores: every stage on its fastest option.
  const fastest = model.stages.map((s) => s.options.reduce((b, o, i) => (o.lat.p50 < s.options[b]!.lat.p50 ? i : b), 0));
  const least = loads(model, sc, fastest).cores;
  const plan = toExecPlan(model, planned.assignment, 'xauto');
  const p = predictReference(g, plan, hostXpus, profile, 12);
  const single = predictReference(g, { name: 'single', placements: g.stages.map(() => ({ impl: 'js', xpu: 'main', priority: 0, group: 'executor' })) }, hostXpus, profile, 12);
  const by = (id: string) => plan.placements.filter((pl) => pl.xpu === id).length;
  t.log(`stages on main ${by('main')}, pool ${by('pool')}, native ${by('native')}; loads ${[...load.xpu].map((u) => u.toFixed(2)).join(' / ')}, cores ${load.cores.toFixed(2)} (least ${least.toFixed(2)})`);
  t.log(`hot path p50 ${p.hot.p50.toFixed(2)} ms (${p.hot.count} samples), single-threaded ${single.hot.p50.toFixed(2)} ms`);
  // No plan keeps up here; one that buys the planner an XPU of its own by overloading another
  // (the worker, at 1.4x) loses frames everywhere else. The least overloaded plan comes first.
  t.true(load.cores <= least + 0.02, `cores loaded ${load.cores.toFixed(2)}, least possible ${least.toFixed(2)}`);
  t.true(p.hot.count > 80, `${p.hot.count} hot-path samples in 12 s`);
  t.true(p.hot.p50 < single.hot.p50, 'the hot path gains over one thread');
});
