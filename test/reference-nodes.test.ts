// The reference node kinds' semantics on small hand-made schedules: each stage instance is
// called in a fixed order, as the executor would hand it messages (reference_system's
// rclcpp nodes are the rule), and one executor run checks the same rules on the live graph.
import test from 'ava';
import { join } from 'node:path';
import { loadRegistry } from '../runtime/cli/xnodes.js';
import { Executor } from '../runtime/exec/executor.js';
import { defaultPlan } from '../runtime/exec/plan.js';
import { buildGraph } from '../runtime/graph/index.js';
import { loadLaunchFile } from '../runtime/launch/index.js';
import type { ImplContext, PortValues, StageInstance } from '../runtime/xnode/types.js';
import { discoverXpus } from '../runtime/xpu/discover.js';
import { numberCruncher } from '../xnodes/reference/crunch.js';
import { xnodes } from '../xnodes/reference/index.js';
import { emptyMessage, history, nodeStamp, setSample, type Message4kb } from '../xnodes/reference/message.js';
import { KINDS, SECTION } from '../xnodes/reference/nodes.js';

const root = new URL('..', import.meta.url).pathname;

function ctx(name: string, type: string, params: Record<string, unknown> = {}, sections: Record<string, unknown> = {}): ImplContext {
  const def = xnodes.find((x) => x.type === type)!;
  const defaults = Object.fromEntries(Object.entries(def.params).map(([k, p]) => [k, p.default]));
  return {
    name,
    type,
    impl: 'js',
    xpu: 'main',
    params: { ...defaults, number_crunch_limit: 10, ...params } as ImplContext['params'],
    priority: 0,
    log: () => {},
    count: () => {},
    summary: (s, d) => (sections[s] = { ...(sections[s] as object), ...d }),
  };
}

function make(name: string, type: string, params: Record<string, unknown> = {}, sections?: Record<string, unknown>): StageInstance {
  const kind = type.split('/')[1] as keyof typeof KINDS;
  return KINDS[kind](ctx(name, type, params, sections), numberCruncher);
}

const call = (s: StageInstance, inputs: PortValues = {}) => s.process(inputs, { seq: 0, t0: 0 }) as PortValues | null;
const out = (s: StageInstance, inputs: PortValues = {}) => call(s, inputs)!.out as Message4kb;

/** A message as published by `node` with sequence number `seq` (history of that node alone). */
function published(node: string, seq: number, stamp = 1000 + seq): Message4kb {
  const m = emptyMessage();
  setSample(nodeStamp(node), seq, 0, stamp, m);
  return m;
}

const names = (m: Message4kb) => history(m).map((e) => e.node);

test('sensor: each tick a fresh history of the sensor alone, sequence numbers from 0', (t) => {
  const s = make('FrontLidarDriver', 'reference/sensor');
  const a = out(s);
  const b = out(s);
  t.deepEqual(history(a).map((e) => [e.node, e.sequence, e.dropped]), [['FrontLidarDriver', 0, 0]]);
  t.deepEqual(history(b).map((e) => e.sequence), [1]);
  t.is(a.stats.length, 63, 'a full Message4kb: 63 stats slots');
  t.is(a.data.length, 7);
});

test('transform: crunches, keeps the input history, counts sequence gaps as dropped samples', (t) => {
  const s = make('PointsTransformerFront', 'reference/transform');
  const o = [0, 1, 4].map((seq) => out(s, { in: published('FrontLidarDriver', seq) }));
  t.deepEqual(names(o[0]!), ['FrontLidarDriver', 'PointsTransformerFront']);
  t.deepEqual(o.map((m) => history(m)[1]!.dropped), [0, 0, 2], 'seq 1 -> 4: 2 missed');
  t.deepEqual(o.map((m) => history(m)[1]!.sequence), [0, 1, 2], 'its own counter');
  t.is(o[0]!.data[0], 4n, 'data[0] = number_cruncher(10): 2, 3, 5, 7');
});

test('fusion: merges both histories (first entry of a node wins), gaps on both inputs summed', (t) => {
  const f = make('NDTLocalizer', 'reference/fusion');
  const via = (node: string, seq: number, upstream: Message4kb) => {
    const m = emptyMessage();
    m.stats[0] = upstream.stats[0]!;
    m.size = 1;
    setSample(nodeStamp(node), seq, 0, 5000 + seq, m);
    return m;
  };
  const lidar = published('FrontLidarDriver', 7, 111);
  const lidarLater = published('FrontLidarDriver', 8, 222);
  const first = out(f, { in_0: via('VoxelGridDownsampler', 0, lidar), in_1: via('PointCloudMapLoader', 0, lidarLater) });
  t.deepEqual(names(first), ['FrontLidarDriver', 'VoxelGridDownsampler', 'PointCloudMapLoader', 'NDTLocalizer']);
  t.is(history(first)[0]!.timestamp, 111, 'in_0 merged first: its FrontLidarDriver entry is kept');
  const second = out(f, { in_0: via('VoxelGridDownsampler', 3, lidar), in_1: via('PointCloudMapLoader', 2, lidar) });
  t.is(history(second).at(-1)!.dropped, 2 + 1, 'in_0 missed 1 and 2, in_1 missed 1');
  t.is(call(f, { in_0: via('VoxelGridDownsampler', 4, lidar) }), null, 'one input alone publishes nothing');
});

test('cyclic: each tick merges the samples handed over (the caches, cleared when taken), in input order', (t) => {
  const bp = make('BehaviorPlanner', 'reference/cyclic');
  const c1 = out(bp, { in_0: published('ObjectCollisionEstimator', 0), in_1: published('NDTLocalizer', 0) });
  t.deepEqual(names(c1), ['ObjectCollisionEstimator', 'NDTLocalizer', 'BehaviorPlanner']);
  // The caches were cleared: a tick with nothing cached carries its own entry only.
  t.deepEqual(names(out(bp)), ['BehaviorPlanner']);
  // A new OCE sample two after the last one merged: one missed.
  const c3 = out(bp, { in_0: published('ObjectCollisionEstimator', 2) });
  t.deepEqual(names(c3), ['ObjectCollisionEstimator', 'BehaviorPlanner']);
  t.deepEqual(history(c3).map((e) => [e.node, e.sequence, e.dropped]).at(-1), ['BehaviorPlanner', 2, 1]);
});

test('intersection: each connection runs on its own input with its own counters, under the node name', (t) => {
  const detector = make('EuclideanClusterDetector', 'reference/intersection');
  const settings = make('EuclideanClusterDetector_intersection', 'reference/intersection', { node: 'EuclideanClusterDetector' });
  const s = [0, 1, 2].map((k) => out(settings, { in: published('EuclideanClusterSettings', k) }));
  const d = out(detector, { in: published('RayGroundFilter', 5) });
  t.deepEqual(s.map((m) => history(m).at(-1)!.sequence), [0, 1, 2]);
  t.deepEqual(history(d).at(-1), { node: 'EuclideanClusterDetector', timestamp: history(d).at(-1)!.timestamp, sequence: 0, dropped: 4 });
  t.is(history(s[0]!).at(-1)!.node, 'EuclideanClusterDetector');
});

test('command: a sink; the statistics go to the run summary with the printed lines', (t) => {
  const sections: Record<string, unknown> = {};
  const c = make('IntersectionOutput', 'reference/command', { skip_first: 0 }, sections);
  t.is(call(c, { in: published('EuclideanIntersection', 0) }), null);
  c.finish!();
  c.close!();
  const r = (sections[SECTION] as Record<string, { lines: string[]; latency_ms: { count: number } }>).IntersectionOutput!;
  t.is(r.latency_ms.count, 1);
  t.true(r.lines.some((l) => l.startsWith('  latency:')));
});

test.serial('live graph (2 s at the reference rates): fusions pair both inputs, the planner merges each sample once, the hot path reaches VehicleDBWSystem', async (t) => {
  const desc = loadLaunchFile(join(root, 'launch', 'reference-system.launch.yaml'), { args: { number_crunch_limit: '256' } });
  const graph = buildGraph(desc, await loadRegistry({ types: desc.xnodes.map((x) => x.type) }));
  const xpus = await discoverXpus({ workers: 1 });
  const seen = new Map<string, Message4kb[]>();
  const ex = new Executor(graph, defaultPlan(graph, xpus), {
    xpus,
    durationS: 2,
    log: () => {},
    tap: (topic, value) => {
      if (!seen.has(topic)) seen.set(topic, []);
      seen.get(topic)!.push(value as Message4kb);
    },
  });
  await ex.start();
  await ex.run();
  await ex.close();
  const fused = seen.get('/PointCloudFusion') ?? [];
  t.true(fused.length > 5, `${fused.length} fusions`);
  for (const m of fused) t.deepEqual(names(m).filter((n) => n.includes('Lidar')).sort(), ['FrontLidarDriver', 'RearLidarDriver']);
  // A sample is merged by one cycle only: no OCE sequence number appears in two planner outputs.
  const oce = (seen.get('/BehaviorPlanner') ?? []).flatMap((m) => history(m).filter((e) => e.node === 'ObjectCollisionEstimator').map((e) => e.sequence));
  t.true(oce.length > 0);
  t.is(new Set(oce).size, oce.length);
  const section = ex.report().sections[SECTION] as Record<string, Record<string, unknown>>;
  t.truthy(section.VehicleDBWSystem!.hot_path_latency_ms, 'the hot path reaches the command node through the planner');
  t.truthy(section.IntersectionOutput!.latency_ms);
});

test('every implementation of a crunching kind publishes the same message (stamps aside)', async (t) => {
  const { nativeNumberCruncher } = await import('../xnodes/reference/native.js');
  const worker = (await import('../xnodes/reference/stage.worker.js')).default;
  const strip = (m: Message4kb) => ({ h: history(m).map(({ node, sequence, dropped }) => [node, sequence, dropped]), data: [...m.data] });
  const inputs = [0, 2, 3].map((k) => ({ in: published('RayGroundFilter', k) }));
  const results: unknown[] = [];
  for (const impl of ['js', 'worker', 'native'] as const) {
    const c = ctx('ObjectCollisionEstimator', 'reference/transform', { number_crunch_limit: 1000 });
    let s: StageInstance;
    if (impl === 'worker') s = (await worker.create(c)) as StageInstance;
    else {
      try {
        s = KINDS.transform(c, impl === 'js' ? numberCruncher : nativeNumberCruncher());
      } catch (e) {
        if (process.env.CI) throw e;
        console.log(`skipped the native implementation: ${e instanceof Error ? e.message : String(e)}`);
        continue;
      }
    }
    const outs = [];
    for (const i of inputs) outs.push(strip(((await s.process(i, { seq: 0, t0: 0 })) as PortValues).out as Message4kb));
    results.push(outs);
  }
  t.true(results.length >= 2);
  for (const r of results.slice(1)) t.deepEqual(r, results[0]);
});
