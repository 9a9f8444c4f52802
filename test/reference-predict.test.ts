// The simulator's prediction of the reference system's KPIs (xnodes/reference/predict.ts): the
// meter's definitions on hand-computed dispatches, and predictions that respect what a plan
// cannot beat (the hot path's crunches in sequence, two lanes or one).
import test from 'ava';
import { join } from 'node:path';
import { loadRegistry } from '../runtime/cli/xnodes.js';
import type { Job } from '../runtime/exec/core/types.js';
import type { ExecPlan } from '../runtime/exec/plan.js';
import { buildGraph, type Graph } from '../runtime/graph/index.js';
import { loadLaunchFile } from '../runtime/launch/index.js';
import type { Profile } from '../runtime/schedule/index.js';
import { runsOn, type XpuInfo } from '../runtime/xpu/types.js';
import { predictReference, ReferenceMeter } from '../xnodes/reference/predict.js';

const root = new URL('..', import.meta.url).pathname;

async function referenceGraph(): Promise<Graph> {
  const desc = loadLaunchFile(join(root, 'launch', 'reference-system.launch.yaml'), { args: {} });
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

test('prediction: every crunch 1 ms; one thread runs the hot path in sequence, two lanes overlap the transformers', async (t) => {
  const g = await referenceGraph();
  const xpus: XpuInfo[] = [
    { id: 'main', kind: 'cpu', backend: 'main', lanes: 1, real: true, note: 'event loop' },
    { id: 'native', kind: 'cpu', backend: 'native', lanes: 2, real: true, note: 'libuv pool' },
  ];
  const flat = [1, 1, 1, 1, 1, 1, 1, 1];
  const profile: Profile = {
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
