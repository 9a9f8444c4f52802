// Conformance of the executor and the simulator: the same graph and plan, run by the real
// executor on a virtual clock (real stage code, deterministic stage costs) and by the
// simulator (the cost model alone), make the same dispatch decisions (stage, frame, XPU,
// lane, at the same virtual time) and give the same per-frame end-to-end latencies.
import test, { type ExecutionContext } from 'ava';
import { buildGraph, describeXNodes, type Graph, type XNodeInCode } from '../runtime/graph/index.js';
import { Executor } from '../runtime/exec/executor.js';
import { defaultPlan, type ExecPlan, type StagePlacement } from '../runtime/exec/plan.js';
import type { Job } from '../runtime/exec/core/types.js';
import { VirtualMachine } from '../runtime/exec/core/virtual.js';
import { buildModel, moduleBaseline, toExecPlan, type Profile } from '../runtime/schedule/index.js';
import { placementKey } from '../runtime/schedule/profile.js';
import type { Assignment, CostModel } from '../runtime/schedule/model.js';
import { ModuleCodec } from '../runtime/schedule/codec.js';
import { modelCosts, simulate } from '../runtime/schedule/simulate.js';
import { EventKind, Tracer } from '../runtime/trace/tracer.js';
import { loadLaunchFile } from '../runtime/launch/index.js';
import { loadRegistry } from '../runtime/cli/xnodes.js';
import { mulberry32 } from '../runtime/util/random.js';
import { XNodeRegistry, defineXNode, type Tensor } from '../runtime/xnode/index.js';
import { discoverXpus } from '../runtime/xpu/discover.js';
import type { XpuInfo } from '../runtime/xpu/types.js';
import { packageRoot } from '../runtime/util/paths.js';
import { join } from 'node:path';

const tensor = (seq: number): Tensor => ({ dims: [1], data: new Float32Array([seq]) });
const pass = { name: 'js', xpu: 'cpu', backend: 'main', create: () => (_i: unknown, f: { seq: number }) => ({ out: tensor(f.seq) }) } as const;
const passNative = { name: 'native', xpu: 'cpu', backend: 'native', create: () => async (_i: unknown, f: { seq: number }) => ({ out: tensor(f.seq) }) } as const;

/** Stages that always publish (the simulator cannot know when real code would not). */
function registry(): XNodeRegistry {
  const t = { type: 'xauto/Tensor' } as const;
  return new XNodeRegistry().register(
    defineXNode({ type: 'conf/src', outputs: { out: t }, params: { rate: { type: 'float', default: 0 } }, impls: [pass, passNative] }),
    defineXNode({ type: 'conf/step', inputs: { in: t }, outputs: { out: t }, impls: [pass, passNative] }),
    defineXNode({ type: 'conf/join', inputs: { a: t, b: t }, outputs: { out: t }, impls: [pass, passNative] }),
    defineXNode({ type: 'conf/feedback', inputs: { in: t, prior: { ...t, latched: true, optional: true } }, outputs: { out: t }, impls: [pass, passNative] }),
    defineXNode({ type: 'conf/latest', join: 'latest', inputs: { a: { ...t, depth: 2 }, b: t }, outputs: { out: t }, impls: [pass, passNative] }),
    defineXNode({
      type: 'conf/cyclic',
      timer: true,
      inputs: { a: { ...t, latched: true, optional: true, clear: true }, b: { ...t, latched: true, optional: true } },
      outputs: { out: t },
      params: { rate: { type: 'float', default: 30 } },
      impls: [pass, passNative],
    }),
    defineXNode({
      type: 'conf/sink',
      inputs: { in: t },
      impls: [
        { name: 'js', xpu: 'cpu', backend: 'main', create: () => () => null },
        { name: 'native', xpu: 'cpu', backend: 'native', create: () => async () => null },
      ],
    }),
  );
}

/** A deterministic profile: every (impl, XPU) pair of every stage costs what `cost` says. */
function profileOf(graph: Graph, xpus: XpuInfo[], cost: (stage: number, key: string) => number, cores: number, codecMs = 0): Profile {
  const stages = graph.stages.map((s) => {
    const out: Profile['stages'][number] = {};
    for (const impl of s.impls) for (const x of xpus) out[placementKey({ impl: impl.name, xpu: x.id })] = { p50: cost(s.index, `${impl.name}@${x.id}`), samples: 1 } as never;
    return out;
  });
  const topics: Profile['topics'] = {};
  for (const t of graph.topics.values()) topics[t.name] = { bytes: 64, encodeMs: codecMs, decodeMs: codecMs };
  return { host: 'conformance', simulated: false, cores, stages, topics, transfer: {}, measured: 0, cached: 0, failures: [] };
}

function assignmentOf(m: CostModel, plan: ExecPlan): Assignment {
  return {
    option: plan.placements.map((p, i) => {
      const k = m.stages[i]!.options.findIndex((o) => o.impl === p.impl && m.xpus[o.xpu]!.id === p.xpu);
      if (k < 0) throw new Error(`no option ${p.impl}@${p.xpu} for ${m.stages[i]!.name}`);
      return k;
    }),
    priority: plan.placements.map((p) => p.priority),
    group: plan.placements.map((p) => p.group),
    serialize: !!plan.serializeBetweenModules,
    ...(plan.placements.some((p) => p.phaseMs) ? { phase: plan.placements.map((p) => p.phaseMs ?? 0) } : {}),
  };
}

interface Mode {
  frames?: number;
  realtime?: boolean;
  durationS?: number;
}

interface Trace {
  dispatches: string[];
  e2e: string[];
  /** Captures, transfers and drops, as the executor's tracer records them. */
  events: string[];
}

const event = (kind: string, stage: number, seq: number, start: number, end: number) => `${kind} ${stage}#${seq} ${start.toFixed(6)}-${end.toFixed(6)}`;

const decision = (job: Job, t: number) => `${job.stage}#${job.frame.seq}@${job.xpu}.${job.lane} t=${t.toFixed(6)}`;

async function viaExecutor(graph: Graph, plan: ExecPlan, xpus: XpuInfo[], m: CostModel, mode: Mode): Promise<Trace> {
  const out: Trace = { dispatches: [], e2e: [], events: [] };
  const machine = new VirtualMachine({ cores: m.cores });
  const a = assignmentOf(m, plan);
  const tracer = new (class extends Tracer {
    override record(stage: number, xpu: number, kind: EventKind, seq: number, start: number, end: number): void {
      const name = kind === EventKind.Capture ? 'capture' : kind === EventKind.Transfer ? 'transfer' : kind === EventKind.Drop ? 'drop' : undefined;
      if (name) out.events.push(event(name, stage, seq, start, end));
      super.record(stage, xpu, kind, seq, start, end);
    }
    override endToEnd(sink: number, ms: number): void {
      out.e2e.push(`${sink}:${ms.toFixed(6)}`);
      super.endToEnd(sink, ms);
    }
  })(graph.stages.length);
  const ex = new Executor(graph, plan, {
    xpus,
    ...mode,
    tracer,
    log: () => {},
    codec: plan.serializeBetweenModules ? new ModuleCodec(() => {}) : undefined,
    virtual: { machine, costs: modelCosts(m, a) },
    onDispatch: (job, t) => out.dispatches.push(decision(job, t)),
  });
  await ex.start();
  await ex.run();
  await ex.close();
  return out;
}

function viaSimulator(m: CostModel, plan: ExecPlan, mode: Mode): Trace {
  const out: Trace = { dispatches: [], e2e: [], events: [] };
  simulate(m, assignmentOf(m, plan), {
    frames: mode.frames,
    realtime: mode.realtime ?? mode.frames === undefined,
    durationMs: mode.durationS !== undefined ? mode.durationS * 1000 : undefined,
    onDispatch: (job, t) => out.dispatches.push(decision(job, t)),
    onEndToEnd: (sink, _seq, ms) => out.e2e.push(`${sink}:${ms.toFixed(6)}`),
    trace: {
      capture: (stage, seq, due, ready) => void out.events.push(event('capture', stage, seq, due, ready)),
      transfer: (stage, _input, seq, from, to) => void out.events.push(event('transfer', stage, seq, from, to)),
      drop: (stage, _input, seq, t) => void out.events.push(event('drop', stage, seq, t, t)),
    },
  });
  return out;
}

async function conform(t: ExecutionContext, graph: Graph, plan: ExecPlan, xpus: XpuInfo[], m: CostModel, mode: Mode): Promise<Trace> {
  const real = await viaExecutor(graph, plan, xpus, m, mode);
  const sim = viaSimulator(m, plan, mode);
  t.true(real.dispatches.length > 0, 'something ran');
  t.deepEqual(real.dispatches, sim.dispatches, 'the same dispatch decisions');
  t.deepEqual(real.e2e, sim.e2e, 'the same per-frame latencies');
  t.deepEqual(real.events, sim.events, 'the same captures, transfers and drops');
  return real;
}

let xpus: XpuInfo[];
test.before(async () => {
  xpus = (await discoverXpus({ workers: 2 })).filter((x) => x.backend === 'main' || x.backend === 'native' || x.backend === 'worker');
});

const hashCost = (seed: number) => (stage: number, key: string) => {
  let h = seed * 31 + stage * 7;
  for (const c of key) h = (h * 33 + c.charCodeAt(0)) >>> 0;
  return 0.5 + (h % 40) / 10;
};

function place(graph: Graph, where: Record<string, string>, prio: Record<string, number> = {}): ExecPlan {
  return {
    name: 'test',
    placements: graph.stages.map((s): StagePlacement => {
      const impl = where[s.name] ?? 'js';
      return { impl, xpu: impl === 'js' ? 'main' : impl, priority: prio[s.name] ?? 0 };
    }),
  };
}

test('hello: the launch file, with the scale stage in the worker pool', async (t) => {
  const desc = loadLaunchFile(join(packageRoot(), 'launch', 'hello.launch.yaml'), { args: { size: '16', work_us: '0' } });
  const graph = buildGraph(desc, await loadRegistry({ types: desc.xnodes.map((x) => x.type) }));
  const m = buildModel(graph, xpus, profileOf(graph, xpus, hashCost(1), 2));
  for (const scale of ['js', 'worker']) {
    const plan: ExecPlan = {
      name: 'hello',
      placements: graph.stages.map((s) => (s.name.endsWith('scale') ? { impl: scale, xpu: scale === 'js' ? 'main' : 'pool', priority: 0 } : { impl: s.impls[0]!.name, xpu: 'main', priority: 0 })),
    };
    await conform(t, graph, plan, xpus, m, { frames: 12, realtime: true });
    await conform(t, graph, plan, xpus, m, { frames: 12 });
  }
});

test('a join with lost frames: one slow branch at a fast rate, keep-last drops and frame alignment', async (t) => {
  const graph = buildGraph(
    describeXNodes([
      { name: 'camera', type: 'conf/src', outputs: { out: '/a' }, params: { rate: 200 } },
      { name: 'lidar', type: 'conf/src', outputs: { out: '/b' }, params: { rate: 200 } },
      { name: 'slow', type: 'conf/step', inputs: { in: '/a' }, outputs: { out: '/a2' } },
      { name: 'fusion', type: 'conf/join', inputs: { a: '/a2', b: '/b' }, outputs: { out: '/f' } },
      { name: 'sink', type: 'conf/sink', inputs: { in: '/f' } },
    ] as XNodeInCode[]),
    registry(),
  );
  const m = buildModel(graph, xpus, profileOf(graph, xpus, (s) => (graph.stages[s]!.name === 'slow' ? 12 : 0.5), 2));
  const plan = place(graph, { slow: 'native' });
  const r = await conform(t, graph, plan, xpus, m, { durationS: 0.3 });
  const fusion = graph.stages.findIndex((s) => s.name === 'fusion');
  t.true(r.dispatches.filter((d) => d.startsWith(`${fusion}#`)).length >= 10);
  t.true(r.events.some((e) => e.startsWith('drop ')) && r.events.some((e) => e.startsWith('capture ')), 'drops and captures compared too');
});

test('a cycle closed by a latched feedback edge', async (t) => {
  const graph = buildGraph(
    describeXNodes([
      { name: 'src', type: 'conf/src', outputs: { out: '/s' }, params: { rate: 100 } },
      { name: 'track', type: 'conf/feedback', inputs: { in: '/s', prior: '/state' }, outputs: { out: '/t' } },
      { name: 'predict', type: 'conf/step', inputs: { in: '/t' }, outputs: { out: '/state' } },
      { name: 'sink', type: 'conf/sink', inputs: { in: '/t' } },
    ] as XNodeInCode[]),
    registry(),
  );
  const m = buildModel(graph, xpus, profileOf(graph, xpus, hashCost(2), 2));
  await conform(t, graph, place(graph, { predict: 'native' }), xpus, m, { frames: 20, realtime: true });
  await conform(t, graph, place(graph, { track: 'native', sink: 'native' }, { sink: 3 }), xpus, m, { frames: 20 });
});

test('a module-serialized plan (the ROS2-style baseline): encode, decode, exclusive groups', async (t) => {
  const graph = buildGraph(
    describeXNodes(([
      { name: 'src', type: 'conf/src', outputs: { out: '/s' }, params: { rate: 100 } },
      { name: 'a1', type: 'conf/step', inputs: { in: '/s' }, outputs: { out: '/a' } },
      { name: 'a2', type: 'conf/step', inputs: { in: '/s' }, outputs: { out: '/b' } },
      { name: 'j', type: 'conf/join', inputs: { a: '/a', b: '/b' }, outputs: { out: '/j' } },
      { name: 'sink', type: 'conf/sink', inputs: { in: '/j' } },
    ] as XNodeInCode[]).map((x): XNodeInCode => ({ ...x, module: x.name === 'a1' || x.name === 'a2' ? 'perception' : x.name }))),
    registry(),
  );
  const m = buildModel(graph, xpus, profileOf(graph, xpus, hashCost(3), 2, 0.3));
  const plan = toExecPlan(m, moduleBaseline(m).assignment, 'module');
  t.true(plan.serializeBetweenModules);
  await conform(t, graph, plan, xpus, m, { frames: 15, realtime: true });
});

test('random synthetic pipelines, placements and priorities, at rates and as fast as taken', async (t) => {
  for (let seed = 1; seed <= 12; seed++) {
    const rand = mulberry32(seed);
    const pick = <T>(l: T[]) => l[Math.floor(rand() * l.length)]!;
    const xs: XNodeInCode[] = [];
    const topics: string[] = [];
    const nsrc = 1 + Math.floor(rand() * 2);
    const rate = pick([50, 100, 200]);
    for (let k = 0; k < nsrc; k++) {
      xs.push({ name: `src${k}`, type: 'conf/src', outputs: { out: `/s${k}` }, params: { rate: rand() < 0.8 ? rate : 77 } });
      topics.push(`/s${k}`);
    }
    const n = 3 + Math.floor(rand() * 6);
    for (let k = 0; k < n; k++) {
      const a = pick(topics);
      const b = pick(topics);
      const out = `/t${k}`;
      xs.push(a !== b && rand() < 0.4 ? { name: `j${k}`, type: 'conf/join', inputs: { a, b }, outputs: { out } } : { name: `n${k}`, type: 'conf/step', inputs: { in: a }, outputs: { out } });
      topics.push(out);
    }
    xs.push({ name: 'sink', type: 'conf/sink', inputs: { in: topics[topics.length - 1]! } });
    const graph = buildGraph(describeXNodes(xs), registry());
    const m = buildModel(graph, xpus, profileOf(graph, xpus, hashCost(seed), pick([1, 2, Infinity])));
    const where: Record<string, string> = {};
    const prio: Record<string, number> = {};
    for (const x of xs) {
      where[x.name] = pick(['js', 'native']);
      prio[x.name] = Math.floor(rand() * 3);
    }
    const plan = place(graph, where, prio);
    await conform(t, graph, plan, xpus, m, { frames: 10, realtime: true });
    await conform(t, graph, plan, xpus, m, { frames: 10 });
    await conform(t, graph, plan, xpus, m, { durationS: 0.1 });
  }
});

test('a timer-driven stage reading a cleared cache and a latched input, behind a latest join', async (t) => {
  const graph = buildGraph(
    describeXNodes([
      { name: 'front', type: 'conf/src', outputs: { out: '/f' }, params: { rate: 100 } },
      { name: 'rear', type: 'conf/src', outputs: { out: '/r' }, params: { rate: 100 } },
      { name: 'map', type: 'conf/src', outputs: { out: '/m' }, params: { rate: 40 } },
      { name: 'slow', type: 'conf/step', inputs: { in: '/r' }, outputs: { out: '/r2' } },
      { name: 'fusion', type: 'conf/latest', inputs: { a: '/f', b: '/r2' }, outputs: { out: '/fu' } },
      { name: 'planner', type: 'conf/cyclic', inputs: { a: '/fu', b: '/m' }, outputs: { out: '/p' }, params: { rate: 30 } },
      { name: 'hot', type: 'conf/sink', inputs: { in: '/fu' } },
      { name: 'cmd', type: 'conf/sink', inputs: { in: '/p' } },
    ] as XNodeInCode[]),
    registry(),
  );
  const m = buildModel(graph, xpus, profileOf(graph, xpus, (s) => (graph.stages[s]!.name === 'slow' ? 13 : 0.7), 2));
  const plan = place(graph, { slow: 'native', planner: 'native' }, { fusion: 2, planner: 1 });
  const r = await conform(t, graph, plan, xpus, m, { durationS: 0.4 });
  const planner = graph.stages.findIndex((s) => s.name === 'planner');
  t.is(r.dispatches.filter((d) => d.startsWith(`${planner}#`)).length, 12, 'a 30 Hz timer over 0.4 s');
  await conform(t, graph, plan, xpus, m, { frames: 12, realtime: true });
  await conform(t, graph, plan, xpus, m, { frames: 12 });
  await conform(t, graph, place(graph, {}, {}), xpus, m, { durationS: 0.25 });
});

test('reference system: the shipped launch file with its real nodes (timer-driven planner, latest-join fusions), at its rates', async (t) => {
  const desc = loadLaunchFile(join(packageRoot(), 'launch', 'reference-system.launch.yaml'), { args: { number_crunch_limit: '64' } });
  const graph = buildGraph(desc, await loadRegistry({ types: desc.xnodes.map((x) => x.type) }));
  const all = await discoverXpus({ workers: 2 });
  const m = buildModel(graph, all, profileOf(graph, all, hashCost(7), 2));
  const r = await conform(t, graph, defaultPlan(graph, all), all, m, { durationS: 0.55 });
  const bp = graph.stages.findIndex((s) => s.name === 'BehaviorPlanner');
  t.is(r.dispatches.filter((d) => d.startsWith(`${bp}#`)).length, 6, 'the planner on its own 100 ms timer');
  const native = place(graph, Object.fromEntries(graph.stages.filter((s) => s.impls.some((i) => i.name === 'native')).map((s) => [s.name, 'native'])));
  await conform(t, graph, native, all, m, { durationS: 0.6 });
});

test('perception: the shipped launch file with its real stages, under the default plan', async (t) => {
  const desc = loadLaunchFile(join(packageRoot(), 'launch', 'perception.launch.yaml'), { args: { publish_tracks: 'false', width: '160', height: '120', objects: '4' } });
  const graph = buildGraph(desc, await loadRegistry({ types: desc.xnodes.map((x) => x.type) }));
  const all = await discoverXpus({ workers: 2 });
  const plan = defaultPlan(graph, all);
  const m = buildModel(graph, all, profileOf(graph, all, hashCost(5), 2));
  await conform(t, graph, plan, all, m, { frames: 6, realtime: true });
  await conform(t, graph, plan, all, m, { frames: 6 });
});

test('timer phases: the executor and the simulator release a phased sensor at phase + k * period, with the same decisions', async (t) => {
  const graph = buildGraph(
    describeXNodes([
      { name: 'camera', type: 'conf/src', outputs: { out: '/a' }, params: { rate: 50 } },
      { name: 'lidar', type: 'conf/src', outputs: { out: '/b' }, params: { rate: 50 } },
      { name: 'fusion', type: 'conf/join', inputs: { a: '/a', b: '/b' }, outputs: { out: '/f' } },
      { name: 'sink', type: 'conf/sink', inputs: { in: '/f' } },
    ] as XNodeInCode[]),
    registry(),
  );
  const m = buildModel(graph, xpus, profileOf(graph, xpus, () => 2, 2));
  const plan = place(graph, {});
  const lidar = graph.stages.findIndex((s) => s.name === 'lidar');
  const camera = graph.stages.findIndex((s) => s.name === 'camera');
  plan.placements[lidar]!.phaseMs = 7;
  const real = await conform(t, graph, plan, xpus, m, { durationS: 0.2 });
  // Dispatch times of each sensor (stage#seq@xpu.lane t=...), modulo the 20 ms period.
  const phases = (stage: number) =>
    real.dispatches.filter((d) => d.startsWith(`${stage}#`)).map((d) => Number(d.split('t=')[1]) % 20);
  const lp = phases(lidar);
  t.true(lp.length >= 8);
  // The lidar waits at most for the camera's or fusion's 2 ms job on the one thread, never for its own period.
  t.true(lp.every((x) => x >= 7 - 1e-6 && x < 7 + 4 + 1e-6), lp.join(','));
  t.true(phases(camera).every((x) => x < 7), 'the camera stays at phase 0');
});
