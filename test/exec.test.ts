import test from 'ava';
import { performance } from 'node:perf_hooks';
import { buildGraph, describeXNodes, type XNodeInCode } from '../runtime/graph/index.js';
import { Executor, type ExecOptions } from '../runtime/exec/executor.js';
import { defaultPlan, type ExecPlan, type StagePlacement } from '../runtime/exec/plan.js';
import { XNodeRegistry, defineXNode, type Tensor } from '../runtime/xnode/index.js';
import { discoverXpus } from '../runtime/xpu/discover.js';
import { loadRegistry } from '../runtime/cli/xnodes.js';
import { counters } from '../runtime/trace/counters.js';
import { VirtualMachine } from '../runtime/exec/core/virtual.js';
import type { Costs } from '../runtime/exec/core/costed.js';
import { EventKind, Tracer } from '../runtime/trace/tracer.js';

/** Runs a pipeline written in code; returns the executor after close(). */
async function run(registry: XNodeRegistry, xs: XNodeInCode[], opts: Partial<ExecOptions> = {}, place?: (s: number) => StagePlacement | undefined) {
  const graph = buildGraph(describeXNodes(xs), registry);
  const xpus = opts.xpus ?? (await discoverXpus({ workers: 1 }));
  const plan: ExecPlan = defaultPlan(graph, xpus);
  if (place) plan.placements = plan.placements.map((p, i) => place(i) ?? p);
  const ex = new Executor(graph, plan, { xpus, ...opts });
  await ex.start();
  await ex.run();
  await ex.close();
  return ex;
}

/**
 * Runs a pipeline on virtual time: the stage code is real, each run takes `ms[name]` (default
 * 0.1) of virtual time, so outcomes never depend on how busy this machine is.
 */
async function runVirtual(
  registry: XNodeRegistry,
  xs: XNodeInCode[],
  ms: Record<string, number | ((seq: number) => number)>,
  opts: Partial<ExecOptions> = {},
  place?: (s: number) => StagePlacement | undefined,
) {
  const graph = buildGraph(describeXNodes(xs), registry);
  const seqs = new Map<number, number>();
  const costs: Costs = {
    runMs: (stage) => {
      const c = ms[graph.stages[stage]!.name] ?? 0.1;
      return typeof c === 'number' ? c : c(seqs.get(stage) ?? 0);
    },
    decodeMs: () => 0,
    encodeMs: () => 0,
    transferMs: () => 0,
    usesCores: () => false,
    pinnedWorker: () => -1,
  };
  const runs: Array<{ stage: number; seq: number; start: number; end: number }> = [];
  const tracer = new (class extends Tracer {
    override record(stage: number, xpu: number, kind: EventKind, seq: number, start: number, end: number): void {
      if (kind === EventKind.Run) runs.push({ stage, seq, start, end });
      super.record(stage, xpu, kind, seq, start, end);
    }
  })(graph.stages.length);
  const ex = await run(registry, xs, {
    ...opts,
    tracer,
    virtual: { machine: new VirtualMachine(), costs },
    onDispatch: (job) => seqs.set(job.stage, job.frame.seq),
  }, place);
  return { ex, runs, graph };
}

test.serial('frames flow in order through a chain and reach the sink checked', async (t) => {
  const registry = await loadRegistry({ types: ['demo/counter'] });
  const ex = await run(registry, [
    { name: 'src', type: 'demo/counter', outputs: { out: '/a' }, params: { rate: 0, size: 64 } },
    { name: 'scale', type: 'demo/scale', inputs: { in: '/a' }, outputs: { out: '/b' } },
    { name: 'check', type: 'demo/check', inputs: { in: '/b' } },
  ], { frames: 50 });
  const r = ex.report();
  t.deepEqual(r.sections.check, { frames: 50, wrong: 0 });
  t.deepEqual(r.stages.map((s) => s.runs), [50, 50, 50]);
  t.is(r.stages.reduce((n, s) => n + s.drops, 0), 0, 'fast mode is lossless');
  t.is([...ex.tracer.e2e.values()][0]!.count, 50);
});

test.serial('the worker implementation gives the same results as the main-thread one', async (t) => {
  const registry = await loadRegistry({ types: ['demo/counter'] });
  const ex = await run(
    registry,
    [
      { name: 'src', type: 'demo/counter', outputs: { out: '/a' }, params: { rate: 0, size: 1000 } },
      { name: 'scale', type: 'demo/scale', impls: ['worker'], inputs: { in: '/a' }, outputs: { out: '/b' }, params: { a: 3, b: -1 } },
      { name: 'check', type: 'demo/check', inputs: { in: '/b' }, params: { a: 3, b: -1 } },
    ],
    { frames: 40 },
  );
  t.is(ex.report().stages[1]!.xpu, 'pool');
  t.deepEqual(ex.report().sections.check, { frames: 40, wrong: 0 });
});

/** XNODEs that record what they see, for ordering / zero-copy / QoS checks. */
function probes() {
  const seen: { buffers: ArrayBuffer[]; seqs: number[]; order: string[] } = { buffers: [], seqs: [], order: [] };
  const src = defineXNode({
    type: 'probe/src',
    outputs: { out: { type: 'xauto/Tensor' } },
    params: { rate: { type: 'float', default: 0 } },
    impls: [{ name: 'js', xpu: 'cpu', backend: 'main', create: () => (_i, f) => {
      const t: Tensor = { dims: [4], data: new Float32Array(4).fill(f.seq) };
      seen.buffers.push(t.data.buffer as ArrayBuffer);
      return { out: t };
    } }],
  });
  const slow = defineXNode({
    type: 'probe/slow',
    inputs: { in: { type: 'xauto/Tensor' } },
    outputs: { out: { type: 'xauto/Tensor' } },
    params: { ms: { type: 'float', default: 5 } },
    impls: [{ name: 'js', xpu: 'cpu', backend: 'native', create: (ctx) => async (i) => {
      await new Promise((r) => setTimeout(r, ctx.params.ms as number));
      return { out: i.in };
    } }],
  });
  const sink = defineXNode({
    type: 'probe/sink',
    inputs: { in: { type: 'xauto/Tensor' } },
    impls: [{ name: 'js', xpu: 'cpu', backend: 'main', create: (ctx) => (i, f) => {
      seen.order.push(ctx.name);
      seen.seqs.push(f.seq);
      const t = i.in as Tensor;
      if (!seen.buffers.includes(t.data.buffer as ArrayBuffer)) throw new Error('a copy arrived');
      return null;
    } }],
  });
  return { seen, registry: new XNodeRegistry().register(src, slow, sink) };
}

test.serial('in one process the very same ArrayBuffer arrives (zero copy)', async (t) => {
  const { seen, registry } = probes();
  const ex = await run(registry, [
    { name: 'src', type: 'probe/src', outputs: { out: '/a' } },
    { name: 'sink', type: 'probe/sink', inputs: { in: '/a' } },
  ], { frames: 20 });
  t.is(ex.report().stages[1]!.errors, 0);
  t.deepEqual(seen.seqs, [...Array(20).keys()]);
});

test.serial('keep-last depth 1: a slow subscriber at a fast rate sees the freshest frames and drops are counted', async (t) => {
  const { seen, registry } = probes();
  const { ex } = await runVirtual(
    registry,
    [
      { name: 'src', type: 'probe/src', outputs: { out: '/a' }, params: { rate: 500 } },
      { name: 'slow', type: 'probe/slow', inputs: { in: '/a' }, outputs: { out: '/b' }, params: { ms: 0 } },
      { name: 'sink', type: 'probe/sink', inputs: { in: '/b' } },
    ],
    { slow: 10 },
    { durationS: 0.5 },
  );
  const r = ex.report();
  // 250 frames in 0.5 s at 500 Hz; the slow stage runs one in five (10 ms each at 2 ms apart), and the last.
  t.is(r.stages[0]!.runs, 250);
  t.is(r.stages[1]!.runs, 51);
  t.is(r.stages[1]!.drops, 199, 'messages replaced while the slow stage was busy are counted');
  t.is(r.stages[1]!.runs + r.stages[1]!.drops, r.stages[0]!.runs, 'every frame is either run or counted as dropped');
  t.true(seen.seqs.every((s, i) => i === 0 || s > seen.seqs[i - 1]!), 'frames stay in order');
});

test.serial('ready stages on one XPU run highest priority first', async (t) => {
  const order: string[] = [];
  const src = defineXNode({
    type: 'prio/src',
    outputs: { out: { type: 'xauto/Tensor' } },
    params: { rate: { type: 'float', default: 0 } },
    impls: [{ name: 'js', xpu: 'cpu', backend: 'main', create: () => () => ({ out: { dims: [1], data: new Float32Array(1) } }) }],
  });
  const leaf = defineXNode({
    type: 'prio/leaf',
    inputs: { in: { type: 'xauto/Tensor' } },
    impls: [{ name: 'js', xpu: 'cpu', backend: 'main', create: (ctx) => () => (order.push(ctx.name), null) }],
  });
  const registry = new XNodeRegistry().register(src, leaf);
  await run(
    registry,
    [
      { name: 'src', type: 'prio/src', outputs: { out: '/a' } },
      { name: 'low', type: 'prio/leaf', inputs: { in: '/a' }, priority: 1 },
      { name: 'high', type: 'prio/leaf', inputs: { in: '/a' }, priority: 9 },
      { name: 'mid', type: 'prio/leaf', inputs: { in: '/a' }, priority: 5 },
    ],
    { frames: 3 },
  );
  t.deepEqual(order, ['high', 'mid', 'low', 'high', 'mid', 'low', 'high', 'mid', 'low']);
});

test.serial('stages of one exclusive group never overlap, even on a multi-lane XPU', async (t) => {
  const src = defineXNode({
    type: 'grp/src',
    outputs: { out: { type: 'xauto/Tensor' } },
    params: { rate: { type: 'float', default: 0 } },
    impls: [{ name: 'js', xpu: 'cpu', backend: 'main', create: () => () => ({ out: { dims: [1], data: new Float32Array(1) } }) }],
  });
  const busy = defineXNode({
    type: 'grp/busy',
    inputs: { in: { type: 'xauto/Tensor' } },
    impls: [{ name: 'native', xpu: 'cpu', backend: 'native', create: () => async () => null }],
  });
  const registry = new XNodeRegistry().register(src, busy);
  const xs: XNodeInCode[] = [
    { name: 'src', type: 'grp/src', outputs: { out: '/a' } },
    { name: 'b1', type: 'grp/busy', inputs: { in: '/a' } },
    { name: 'b2', type: 'grp/busy', inputs: { in: '/a' } },
  ];
  const maxOverlap = (runs: Array<{ stage: number; start: number; end: number }>) => {
    let most = 0;
    for (const a of runs) most = Math.max(most, runs.filter((b) => b.stage > 0 && b.start <= a.start && a.start < b.end).length);
    return most;
  };
  const apart = await runVirtual(registry, xs, { b1: 3, b2: 3 }, { frames: 10 });
  t.is(maxOverlap(apart.runs), 2, 'without a group the two lanes of the native XPU run both');
  const grouped = await runVirtual(registry, xs, { b1: 3, b2: 3 }, { frames: 10 }, (s) => (s > 0 ? { impl: 'native', xpu: 'native', priority: 0, group: 'm' } : undefined));
  t.is(maxOverlap(grouped.runs), 1);
  t.is(grouped.ex.report().stages[2]!.runs, 10);
});

test.serial('a failing implementation is counted, logged once, and the pipeline keeps going', async (t) => {
  const { registry } = probes();
  let calls = 0;
  registry.register(
    defineXNode({
      type: 'probe/flaky',
      inputs: { in: { type: 'xauto/Tensor' } },
      outputs: { out: { type: 'xauto/Tensor' } },
      impls: [{ name: 'js', xpu: 'cpu', backend: 'main', create: () => (i) => {
        if (++calls % 2 === 0) throw new Error('bad frame');
        return { out: i.in };
      } }],
    }),
  );
  const logs: string[] = [];
  const before = counters.get('exec.stage_errors');
  const ex = await run(
    registry,
    [
      { name: 'src', type: 'probe/src', outputs: { out: '/a' } },
      { name: 'flaky', type: 'probe/flaky', inputs: { in: '/a' }, outputs: { out: '/b' } },
      { name: 'sink', type: 'probe/sink', inputs: { in: '/b' } },
    ],
    { frames: 10, log: (l) => logs.push(l) },
  );
  t.is(ex.report().stages[1]!.errors, 5);
  t.is(ex.report().stages[2]!.runs, 5);
  t.is(counters.get('exec.stage_errors') - before, 5);
  t.true(logs.some((l) => l.includes('bad frame')));
});

test.serial('after repeated failures the stage falls back to the next placement and frames keep flowing', async (t) => {
  const { registry } = probes();
  registry.register(
    defineXNode({
      type: 'probe/broken',
      inputs: { in: { type: 'xauto/Tensor' } },
      outputs: { out: { type: 'xauto/Tensor' } },
      impls: [
        { name: 'bad', xpu: 'cpu', backend: 'main', create: () => () => { throw new Error('device lost'); } },
        { name: 'good', xpu: 'cpu', backend: 'native', create: () => async (i) => ({ out: i.in }) },
      ],
    }),
  );
  const ex = await run(
    registry,
    [
      { name: 'src', type: 'probe/src', outputs: { out: '/a' } },
      { name: 'b', type: 'probe/broken', inputs: { in: '/a' }, outputs: { out: '/b' } },
      { name: 'sink', type: 'probe/sink', inputs: { in: '/b' } },
    ],
    { frames: 20, log: () => {}, fallback: (_s, failed) => (failed.impl === 'bad' ? { impl: 'good', xpu: 'native', priority: 0 } : undefined) },
  );
  const r = ex.report();
  t.is(r.stages[1]!.impl, 'good');
  t.is(r.stages[1]!.errors, 3);
  t.is(r.stages[2]!.runs, 17);
});

test.serial('a large message with one subscriber moves to a worker by transfer; with several, or small, it is copied for the worker', async (t) => {
  const sent: Tensor[] = [];
  let floats = 32768; // 128 KB: above the shared-memory copy limit
  const src = defineXNode({
    type: 'xfer/src',
    outputs: { out: { type: 'xauto/Tensor' } },
    params: { rate: { type: 'float', default: 0 } },
    impls: [{ name: 'js', xpu: 'cpu', backend: 'main', create: () => (_i, f) => {
      const t: Tensor = { dims: [floats], data: new Float32Array(floats).fill(f.seq) };
      sent.push(t);
      return { out: t };
    } }],
  });
  const registry = (await loadRegistry({ types: ['demo/pass'] })).register(src);
  const base: XNodeInCode[] = [
    { name: 'src', type: 'xfer/src', outputs: { out: '/a' } },
    { name: 'w', type: 'demo/pass', impls: ['worker'], inputs: { in: '/a' }, outputs: { out: '/b' } },
    { name: 'check', type: 'demo/check', inputs: { in: '/b' }, params: { a: 1, b: 0 } },
  ];
  const one = await run(registry, base, { frames: 5 });
  t.deepEqual(one.report().sections.check, { frames: 5, wrong: 0 });
  t.true(sent.every((s) => s.data.byteLength === 0), 'the buffers were transferred (detached here)');
  sent.length = 0;
  const two = await run(registry, [...base, { name: 'also', type: 'demo/check', inputs: { in: '/a' }, params: { a: 1, b: 0 } }], { frames: 5 });
  t.is(two.report().stages[3]!.runs, 5);
  t.true(sent.every((s) => s.data.byteLength === floats * 4), 'a message other stages also read is not taken away from them');
  // A small message goes through the shared-memory slot: copied (cheaper than a transfer).
  sent.length = 0;
  floats = 256;
  const small = await run(registry, base, { frames: 5 });
  t.deepEqual(small.report().sections.check, { frames: 5, wrong: 0 });
  t.true(sent.every((s) => s.data.byteLength === floats * 4), 'small buffers stay where they are');
});

test.serial('a join of two same-rate sources pairs frame k with frame k, even when one branch drops frames', async (t) => {
  const { registry } = probes();
  const pairs: Array<[number, number]> = [];
  registry.register(
    defineXNode({
      type: 'probe/join',
      inputs: { a: { type: 'xauto/Tensor' }, b: { type: 'xauto/Tensor' } },
      impls: [{ name: 'js', xpu: 'cpu', backend: 'main', create: () => (i) => {
        pairs.push([(i.a as Tensor).data[0]!, (i.b as Tensor).data[0]!]);
        return null;
      } }],
    }),
  );
  const { ex } = await runVirtual(
    registry,
    [
      { name: 'camera', type: 'probe/src', outputs: { out: '/a' }, params: { rate: 200 } },
      { name: 'lidar', type: 'probe/src', outputs: { out: '/b' }, params: { rate: 200 } },
      { name: 'slow', type: 'probe/slow', inputs: { in: '/a' }, outputs: { out: '/a2' }, params: { ms: 0 } },
      { name: 'join', type: 'probe/join', inputs: { a: '/a2', b: '/b' } },
    ],
    { slow: 12 },
    { durationS: 0.6 },
  );
  const r = ex.report();
  t.is(pairs.length, r.stages[2]!.runs, 'every frame the slow branch passes meets its lidar frame');
  t.true(pairs.length >= 40, `${pairs.length} joins`);
  t.true(pairs.every(([a, b]) => a === b), `pairs: ${JSON.stringify(pairs.slice(0, 8))}`);
  t.is(r.stages[3]!.drops, r.stages[1]!.runs - pairs.length, 'lidar frames whose camera frame was lost are dropped and counted');
});

test.serial('a join of three branches that each lose different frames runs the frames all three carry, dropping the rest', async (t) => {
  const { registry } = probes();
  const joined: number[] = [];
  registry.register(
    defineXNode({
      type: 'probe/skip',
      inputs: { in: { type: 'xauto/Tensor' } },
      outputs: { out: { type: 'xauto/Tensor' } },
      params: { skip: { type: 'int[]', default: [] } },
      impls: [{ name: 'js', xpu: 'cpu', backend: 'main', create: (ctx) => (i, f) => ((ctx.params.skip as number[]).includes(f.seq) ? null : { out: i.in }) }],
    }),
    defineXNode({
      type: 'probe/join3',
      inputs: { a: { type: 'xauto/Tensor' }, b: { type: 'xauto/Tensor' }, c: { type: 'xauto/Tensor' } },
      impls: [{ name: 'js', xpu: 'cpu', backend: 'main', create: () => (i, f) => {
        const seqs = [i.a, i.b, i.c].map((x) => (x as Tensor).data[0]!);
        if (seqs.some((x) => x !== f.seq)) throw new Error(`unaligned join: ${seqs.join(',')}`);
        joined.push(f.seq);
        return null;
      } }],
    }),
  );
  // Frame 3 reaches the join only on b, frames 4 and 5 only on a and c: b's frame 3 is dropped
  // while a and c hold frame 4, which must not be dropped for it.
  const ex = await run(
    registry,
    [
      { name: 'src', type: 'probe/src', outputs: { out: '/s' } },
      { name: 'a', type: 'probe/skip', inputs: { in: '/s' }, outputs: { out: '/a' }, params: { skip: [3] } },
      { name: 'b', type: 'probe/skip', inputs: { in: '/s' }, outputs: { out: '/b' }, params: { skip: [4, 5] } },
      { name: 'c', type: 'probe/skip', inputs: { in: '/s' }, outputs: { out: '/c' }, params: { skip: [3] } },
      { name: 'join', type: 'probe/join3', inputs: { a: '/a', b: '/b', c: '/c' } },
    ],
    { frames: 10 },
  );
  const r = ex.report();
  t.is(r.stages[4]!.errors, 0);
  t.deepEqual(joined, [0, 1, 2, 6, 7, 8, 9]);
  t.is(r.stages[4]!.drops, 5, "b's frame 3, and a's and c's frames 4 and 5");
});

test.serial('sources due together tick before any of them runs, and work elsewhere starts before event-loop work', async (t) => {
  const order: string[] = [];
  const tensor = (): Tensor => ({ dims: [1], data: new Float32Array(1) });
  const registry = new XNodeRegistry().register(
    defineXNode({
      type: 'tick/src',
      outputs: { out: { type: 'xauto/Tensor' } },
      params: { rate: { type: 'float', default: 100 } },
      impls: [
        { name: 'js', xpu: 'cpu', backend: 'main', create: (ctx) => (_i, f) => (order.push(`${ctx.name}#${f.seq}`), { out: tensor() }) },
        { name: 'native', xpu: 'cpu', backend: 'native', create: (ctx) => async (_i, f) => (order.push(`${ctx.name}#${f.seq}`), { out: tensor() }) },
      ],
    }),
    defineXNode({
      type: 'tick/sink',
      inputs: { in: { type: 'xauto/Tensor' } },
      impls: [{ name: 'js', xpu: 'cpu', backend: 'main', create: () => () => null }],
    }),
  );
  // 'first' comes first in the graph and runs on the event loop; 'second' runs on native threads.
  await run(
    registry,
    [
      { name: 'first', type: 'tick/src', impls: ['js'], outputs: { out: '/a' } },
      { name: 'second', type: 'tick/src', impls: ['native'], outputs: { out: '/b' } },
      { name: 'sa', type: 'tick/sink', inputs: { in: '/a' } },
      { name: 'sb', type: 'tick/sink', inputs: { in: '/b' } },
    ],
    { frames: 6, realtime: true },
  );
  const frames = [...Array(6).keys()];
  t.deepEqual(order, frames.flatMap((k) => [`second#${k}`, `first#${k}`]));
});

test.serial('between two main-thread stages the event loop takes in completions that arrived meanwhile', async (t) => {
  const order: string[] = [];
  const tensor = (): Tensor => ({ dims: [1], data: new Float32Array(1) });
  const registry = new XNodeRegistry().register(
    defineXNode({
      type: 'yield/src',
      outputs: { out: { type: 'xauto/Tensor' } },
      params: { rate: { type: 'float', default: 0 } },
      impls: [{ name: 'js', xpu: 'cpu', backend: 'main', create: () => () => ({ out: tensor() }) }],
    }),
    defineXNode({
      type: 'yield/step',
      inputs: { in: { type: 'xauto/Tensor' } },
      outputs: { out: { type: 'xauto/Tensor' } },
      impls: [
        { name: 'js', xpu: 'cpu', backend: 'main', create: (ctx) => () => (order.push(ctx.name), { out: tensor() }) },
        { name: 'native', xpu: 'cpu', backend: 'native', create: (ctx) => async () => (order.push(ctx.name), { out: tensor() }) },
      ],
    }),
  );
  // src feeds an async stage (fast: 0.5 ms on a native thread) and a chain of two main-thread
  // stages (slow: 20 ms, then next); the async stage's completion starts `after` before `next`.
  await runVirtual(
    registry,
    [
      { name: 'src', type: 'yield/src', outputs: { out: '/s' } },
      { name: 'fast', type: 'yield/step', impls: ['native'], inputs: { in: '/s' }, outputs: { out: '/f' } },
      { name: 'after', type: 'yield/step', impls: ['native'], inputs: { in: '/f' }, outputs: { out: '/g' } },
      { name: 'slow', type: 'yield/step', impls: ['js'], inputs: { in: '/s' }, outputs: { out: '/m' } },
      { name: 'next', type: 'yield/step', impls: ['js'], inputs: { in: '/m' }, outputs: { out: '/n' } },
    ],
    { fast: 0.5, slow: 20 },
    { frames: 1 },
  );
  t.deepEqual(order, ['fast', 'slow', 'after', 'next']);
});

test.serial('sources are stamped when their frames are due: a blocked event loop shows in end-to-end latency', async (t) => {
  const src = defineXNode({
    type: 'due/src',
    outputs: { out: { type: 'xauto/Tensor' } },
    params: { rate: { type: 'float', default: 50 } },
    impls: [{ name: 'js', xpu: 'cpu', backend: 'main', create: () => () => ({ out: { dims: [1], data: new Float32Array(1) } }) }],
  });
  const sink = defineXNode({
    type: 'due/sink',
    inputs: { in: { type: 'xauto/Tensor' } },
    impls: [
      { name: 'js', xpu: 'cpu', backend: 'main', create: () => () => null },
      { name: 'native', xpu: 'cpu', backend: 'native', create: () => async () => null },
    ],
  });
  const registry = new XNodeRegistry().register(src, sink);
  // Frame 0 of `block` holds the event loop for 45 ms: frame 1 (due at 20) ticks only at 45,
  // frame 2 (due at 40) right after it (the source clock's precise timer, set for a time already
  // past, fires at once); their latencies count from when due.
  const { ex, runs } = await runVirtual(
    registry,
    [
      { name: 'src', type: 'due/src', outputs: { out: '/a' } },
      { name: 'block', type: 'due/sink', impls: ['js'], inputs: { in: '/a' } },
      { name: 'sink', type: 'due/sink', impls: ['native'], inputs: { in: '/a' } },
    ],
    { src: 0, block: (seq) => (seq === 0 ? 45 : 0), sink: 1 },
    { frames: 4, realtime: true },
  );
  const e2e = [...ex.tracer.e2e.get(2)!.values()];
  t.deepEqual(runs.filter((r) => r.stage === 0).map((r) => [r.seq, r.start]), [[0, 0], [1, 45], [2, 45], [3, 60]]);
  // Frame 0's sink ends at 1 on its thread, but the blocked loop takes its completion in at 45;
  // frame 2's sink runs after frame 1's (45 to 46), from 46 to 47.
  t.deepEqual(e2e, [45, 45 - 20 + 1, 45 - 40 + 2, 1], 'frames 0, 1 and 2 waited behind the blocked loop');
  t.is(ex.report().sources[0]!.overruns, 0, 'the source itself was never busy at a tick');
});
