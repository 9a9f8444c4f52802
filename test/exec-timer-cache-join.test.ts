// The dispatch core's ROS2 node forms, on virtual time (real stage code, fixed stage costs):
// a timer-driven stage with inputs (a wall timer whose callback reads what its subscriptions
// cached), latched inputs cleared when taken (the callback resets its cache), and the `latest`
// join (a node fusing whatever its subscriptions last received, no frame alignment).
import test from 'ava';
import { buildGraph, describeXNodes, type XNodeInCode } from '../runtime/graph/index.js';
import { Executor } from '../runtime/exec/executor.js';
import { defaultPlan, type ExecPlan } from '../runtime/exec/plan.js';
import type { Costs } from '../runtime/exec/core/costed.js';
import type { Job } from '../runtime/exec/core/types.js';
import { VirtualMachine } from '../runtime/exec/core/virtual.js';
import { XNodeRegistry, defineXNode, type PortSpec, type Tensor } from '../runtime/xnode/index.js';
import { discoverXpus } from '../runtime/xpu/discover.js';
import type { XpuInfo } from '../runtime/xpu/types.js';
import { counters } from '../runtime/trace/counters.js';

const t1 = { type: 'xauto/Tensor' } as const;
const tensor = (v: number): Tensor => ({ dims: [1], data: new Float32Array([v]) });
const valueOf = (x: unknown) => (x === undefined ? null : (x as Tensor).data[0]!);

/** Stages that publish their frame number (sources) or pass on what they got. */
function registry(): XNodeRegistry {
  const impls = (fn: (i: Record<string, unknown>, f: { seq: number }) => unknown) => [
    { name: 'js', xpu: 'cpu', backend: 'main', create: () => fn },
    { name: 'native', xpu: 'cpu', backend: 'native', create: () => async (i: Record<string, unknown>, f: { seq: number }) => fn(i, f) },
  ] as never;
  const cache: PortSpec = { ...t1, latched: true, optional: true, clear: true };
  return new XNodeRegistry().register(
    defineXNode({ type: 't/src', outputs: { out: t1 }, params: { rate: { type: 'float', default: 10 } }, impls: impls((_i, f) => ({ out: tensor(f.seq) })) }),
    defineXNode({ type: 't/step', inputs: { in: t1 }, outputs: { out: t1 }, impls: impls((i) => ({ out: i.in })) }),
    defineXNode({
      type: 't/cyclic',
      timer: true,
      inputs: { a: cache, b: cache },
      outputs: { out: t1 },
      params: { rate: { type: 'float', default: 20 } },
      impls: impls((_i, f) => ({ out: tensor(f.seq) })),
    }),
    defineXNode({
      type: 't/held',
      timer: true,
      inputs: { a: { ...t1, latched: true, optional: true } },
      outputs: { out: t1 },
      params: { rate: { type: 'float', default: 20 } },
      impls: impls((_i, f) => ({ out: tensor(f.seq) })),
    }),
    defineXNode({ type: 't/pair', inputs: { a: t1, b: t1 }, outputs: { out: t1 }, impls: impls((i) => ({ out: i.a })) }),
    defineXNode({ type: 't/latest', join: 'latest', inputs: { a: { ...t1, depth: 3 }, b: t1 }, outputs: { out: t1 }, impls: impls((i) => ({ out: i.a })) }),
    defineXNode({ type: 't/sink', inputs: { in: t1 }, impls: impls(() => null) }),
  );
}

let xpus: XpuInfo[];
test.before(async () => {
  xpus = (await discoverXpus({ workers: 1 })).filter((x) => x.backend === 'main' || x.backend === 'native');
});

interface Seen {
  t: number;
  seq: number;
  inputs: Record<string, number | null>;
}

/** Runs on virtual time; per stage name, what each of its runs was handed, and when. */
async function run(xs: XNodeInCode[], ms: Record<string, number>, native: string[], durationS: number) {
  const graph = buildGraph(describeXNodes(xs), registry());
  const plan: ExecPlan = defaultPlan(graph, xpus);
  plan.placements = plan.placements.map((p, i) => (native.includes(graph.stages[i]!.name) ? { ...p, impl: 'native', xpu: 'native' } : p));
  const costs: Costs = {
    runMs: (stage) => ms[graph.stages[stage]!.name] ?? 0.1,
    decodeMs: () => 0,
    encodeMs: () => 0,
    transferMs: () => 0,
    usesCores: () => false,
    pinnedWorker: () => -1,
  };
  const machine = new VirtualMachine();
  const seen = new Map<string, Seen[]>();
  const ex = new Executor(graph, plan, {
    xpus,
    durationS,
    log: () => {},
    virtual: { machine, costs },
    onDispatch: (job: Job, t: number) => {
      const name = graph.stages[job.stage]!.name;
      let l = seen.get(name);
      if (!l) seen.set(name, (l = []));
      const inputs: Record<string, number | null> = {};
      for (const i of graph.stages[job.stage]!.inputs) inputs[i.port] = valueOf(job.inputs[i.port]);
      l.push({ t, seq: job.frame.seq, inputs });
    },
  });
  await ex.start();
  await ex.run();
  await ex.close();
  const drops = (name: string) => ex.report().stages.find((s) => s.name === name)!.drops;
  return { seen: (name: string) => seen.get(name) ?? [], drops, ex };
}

test('ros2 timer callback: a timer-driven stage runs on its ticks with what its inputs cached, each taken once', async (t) => {
  // lidar at 10 Hz (main thread), the cyclic stage's timer at 20 Hz (native, dispatched first).
  const r = await run(
    [
      { name: 'lidar', type: 't/src', outputs: { out: '/l' }, params: { rate: 10 } },
      { name: 'planner', type: 't/cyclic', inputs: { a: '/l' }, outputs: { out: '/p' }, params: { rate: 20 } },
      { name: 'sink', type: 't/sink', inputs: { in: '/p' } },
    ],
    { lidar: 1, planner: 1 },
    ['planner'],
    0.28,
  );
  const runs = r.seen('planner');
  t.deepEqual(runs.map((x) => x.t), [0, 50, 100, 150, 200, 250], 'every tick of its own timer, inputs or not');
  t.deepEqual(runs.map((x) => x.seq), [0, 1, 2, 3, 4, 5], 'its frames are its ticks');
  // At 0 and 100 the timer runs before the lidar frame of that instant is published.
  t.deepEqual(runs.map((x) => x.inputs.a), [null, 0, null, 1, null, 2], 'a cached message is taken once, then the cache is empty');
  t.is(r.drops('planner'), 0);
  t.is(r.seen('sink').length, 6, 'every tick publishes downstream');
});

test('ros2 timer callback: a latched input that is not cleared is read again on the next tick', async (t) => {
  const r = await run(
    [
      { name: 'lidar', type: 't/src', outputs: { out: '/l' }, params: { rate: 10 } },
      { name: 'planner', type: 't/held', inputs: { a: '/l' }, outputs: { out: '/p' }, params: { rate: 20 } },
      { name: 'sink', type: 't/sink', inputs: { in: '/p' } },
    ],
    { lidar: 1, planner: 1 },
    ['planner'],
    0.28,
  );
  t.deepEqual(r.seen('planner').map((x) => x.inputs.a), [null, 0, 0, 1, 1, 2]);
});

test('ros2 cached subscription: a cleared input replaced before it was taken counts the lost message as a drop', async (t) => {
  // lidar at 40 Hz into a 10 Hz timer: of every 4 messages 3 are replaced unread.
  const r = await run(
    [
      { name: 'lidar', type: 't/src', outputs: { out: '/l' }, params: { rate: 40 } },
      { name: 'planner', type: 't/cyclic', inputs: { a: '/l' }, outputs: { out: '/p' }, params: { rate: 10 } },
      { name: 'sink', type: 't/sink', inputs: { in: '/p' } },
    ],
    { lidar: 1, planner: 1 },
    ['planner'],
    0.39,
  );
  const runs = r.seen('planner');
  t.deepEqual(runs.map((x) => x.inputs.a), [null, 3, 7, 11], 'the newest message at each tick (lidar frame 4k runs after the tick at 100k ms)');
  const emitted = r.ex.report().sources.find((s) => s.name === 'lidar')!.emitted;
  t.is(emitted, 16);
  t.is(r.drops('planner'), 16 - 3 - 1, 'every lidar message is taken or counted as a drop, except the one still cached at the end');
});

test('timer-driven XNODEs must read latched optional inputs, and cleared inputs must be latched', (t) => {
  const impls = [{ name: 'js', xpu: 'cpu', backend: 'main', create: () => () => null }] as never;
  t.throws(() => defineXNode({ type: 't/bad', timer: true, inputs: { a: t1 }, params: { rate: { type: 'float', default: 1 } }, impls }), { message: /must be latched and optional/ });
  t.throws(() => defineXNode({ type: 't/bad', inputs: { a: { ...t1, clear: true } }, impls }), { message: /'clear' but not latched/ });
  t.throws(() => defineXNode({ type: 't/bad', timer: true, inputs: { a: { ...t1, latched: true, optional: true } }, impls }), { message: /needs a rate parameter/ });
  const reg = registry();
  const e = t.throws(() =>
    buildGraph(
      describeXNodes([
        { name: 'lidar', type: 't/src', outputs: { out: '/l' } },
        { name: 'planner', type: 't/cyclic', inputs: { a: '/l' }, params: { rate: 0 } },
      ]),
      reg,
    ),
  );
  t.regex(e!.message, /timer-driven stage needs a rate above 0 Hz/);
});

/** Two sources of one rate, one through a slow stage, meeting at `join`. */
const slowBranch = (join: string): XNodeInCode[] => [
  { name: 'camera', type: 't/src', outputs: { out: '/c' }, params: { rate: 100 } },
  { name: 'lidar', type: 't/src', outputs: { out: '/l' }, params: { rate: 100 } },
  { name: 'slow', type: 't/step', inputs: { in: '/l' }, outputs: { out: '/l2' } },
  { name: 'fusion', type: join, inputs: { a: '/c', b: '/l2' }, outputs: { out: '/f' } },
  { name: 'sink', type: 't/sink', inputs: { in: '/f' } },
];

test.serial('a frame join pairs frames of one number; a latest join pairs the newest message of each input', async (t) => {
  const costs = { slow: 25, fusion: 0.5 };
  const frame = await run(slowBranch('t/pair'), costs, ['slow', 'fusion'], 0.3);
  const pairs = frame.seen('fusion');
  t.true(pairs.length >= 8);
  for (const p of pairs) t.is(p.inputs.a, p.inputs.b, 'frame k with frame k');

  t.true(counters.get('exec.sync_drops') > 0, 'frames that cannot meet their number are dropped at the frame join');
  const syncDrops = counters.get('exec.sync_drops');
  const latest = await run(slowBranch('t/latest'), costs, ['slow', 'fusion'], 0.3);
  const runs = latest.seen('fusion');
  t.true(runs.length >= 8);
  t.true(runs.some((p) => p.inputs.a !== p.inputs.b), 'unaligned: the camera is ahead of the slow lidar branch');
  const cameraAt = latest.seen('camera');
  for (const p of runs) {
    // The newest camera frame published (0.1 ms after its dispatch) before the fusion started.
    const newest = Math.max(...cameraAt.filter((c) => c.t + 0.1 <= p.t).map((c) => c.seq));
    t.is(p.inputs.a, newest, `fusion at ${p.t} ms takes the newest camera frame, not the oldest held`);
    t.true(p.inputs.b! <= p.inputs.a!);
  }
  t.true(latest.drops('fusion') > 0, 'older camera frames held at the depth-3 input were dropped, counted');
  t.is(counters.get('exec.sync_drops'), syncDrops, 'no frame alignment, so no alignment drops');
});
