// Real runs: profiling with its cache, and the runtime fallback of a failing implementation.
import test from 'ava';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Executor } from '../runtime/exec/executor.js';
import { buildGraph } from '../runtime/graph/index.js';
import { loadRegistry } from '../runtime/cli/xnodes.js';
import { buildModel, compareOnModel, makeFallback, measureProfile, PlanFileError, planXauto, readPlanFile, resolvePlan, toExecPlan, type Profile } from '../runtime/schedule/index.js';
import { planJson } from '../runtime/cli/plan.js';
import { counters } from '../runtime/trace/counters.js';
import { defineXNode } from '../runtime/xnode/index.js';
import { discoverXpus } from '../runtime/xpu/discover.js';
import { describe } from './_helpers.js';

/** Passes tensors through; the `fragile` implementation loses its device at frame 5. */
const flaky = defineXNode({
  type: 'schedtest/flaky',
  inputs: { in: { type: 'xauto/Tensor' } },
  outputs: { out: { type: 'xauto/Tensor' } },
  impls: [
    {
      name: 'fragile',
      xpu: 'cpu',
      backend: 'main',
      create: () => (inputs, frame) => {
        if (frame.seq >= 5) throw new Error('device lost');
        return { out: inputs.in };
      },
    },
    { name: 'steady', xpu: 'cpu', backend: 'native', create: () => async (inputs) => ({ out: inputs.in }) },
  ],
});

test('profiling measures every implementation/XPU pair for real and caches by host, version and parameters', async (t) => {
  const registry = await loadRegistry({ types: ['demo/counter'] });
  const graph = buildGraph(
    describe([
      { name: 'src', type: 'demo/counter', params: { rate: 50, size: 256 }, outputs: { out: '/a' } },
      { name: 'work', type: 'demo/scale', params: { work_us: 2000 }, inputs: { in: '/a' }, outputs: { out: '/b' } },
      { name: 'sink', type: 'demo/check', inputs: { in: '/b' } },
    ]),
    registry,
  );
  const xpus = await discoverXpus({ workers: 1 });
  const cacheDir = mkdtempSync(join(tmpdir(), 'xauto-profile-'));
  try {
    const opts = { cacheDir, log: () => {}, repeats: 6, passes: 2, warmup: 1 };
    const first = await measureProfile(graph, xpus, opts);
    const pairs = Object.keys(first.stages[1]!).sort();
    t.deepEqual(pairs, ['js@main', 'native@native', 'worker@pool'].filter((p) => xpus.some((x) => x.id === p.split('@')[1])));
    t.is(first.cached, 0);
    t.true(first.measured >= pairs.length + 2);
    // 2000 us of real spinning: no call can be faster.
    for (const p of pairs) t.true(first.stages[1]![p]!.p50 >= 1.9, p);
    // Each pair is also timed beside the memory-streaming co-runner: its slowdown is kept.
    for (const p of pairs) t.true(first.stages[1]![p]!.contention! >= 0, `${p} contention measured`);
    t.true(first.topics['/a']!.bytes >= 256 * 4);
    const again = await measureProfile(graph, xpus, opts);
    t.is(again.measured, 0);
    t.is(again.cached, first.measured);
    t.deepEqual(again.stages, first.stages);
    // A parameter change re-measures that stage only; --reprofile re-measures everything.
    const changed = buildGraph(
      describe([
        { name: 'src', type: 'demo/counter', params: { rate: 50, size: 256 }, outputs: { out: '/a' } },
        { name: 'work', type: 'demo/scale', params: { work_us: 500 }, inputs: { in: '/a' }, outputs: { out: '/b' } },
        { name: 'sink', type: 'demo/check', inputs: { in: '/b' } },
      ]),
      registry,
    );
    const third = await measureProfile(changed, xpus, opts);
    t.is(third.measured, pairs.length);
    const forced = await measureProfile(changed, xpus, { ...opts, reprofile: true });
    t.is(forced.cached, 0);
  } finally {
    rmSync(cacheDir, { recursive: true, force: true });
  }
});

test('profiling at the sources\' pace: each pair is also timed after an idle gap of the source period, and the planner gets those times at sensor rates', async (t) => {
  const registry = await loadRegistry({ types: ['demo/counter'] });
  const graph = (rate: number) =>
    buildGraph(
      describe([
        { name: 'src', type: 'demo/counter', params: { rate, size: 256 }, outputs: { out: '/a' } },
        { name: 'work', type: 'demo/scale', params: { work_us: 1500 }, inputs: { in: '/a' }, outputs: { out: '/b' } },
        { name: 'sink', type: 'demo/check', inputs: { in: '/b' } },
      ]),
      registry,
    );
  const xpus = (await discoverXpus({ workers: 1 })).filter((x) => x.id === 'main' || x.id === 'native');
  const cacheDir = mkdtempSync(join(tmpdir(), 'xauto-profile-'));
  try {
    const opts = { cacheDir, log: () => {}, repeats: 4, passes: 2, warmup: 1, pacedCalls: 3 };
    const g = graph(40); // a 25 ms period: 25 ms of idle host before each paced call
    const paced = await measureProfile(g, xpus, opts);
    t.deepEqual(paced.pace, { gapMs: 25 });
    for (const lat of Object.values(paced.stages[1]!)) {
      t.is(lat.paced!.gapMs, 25);
      t.is(lat.paced!.samples, 3);
      t.true(lat.paced!.p50 >= 1.4, 'the paced calls did the work');
      // The planned times are the paced ones; the back-to-back ones are kept beside them.
      t.is(lat.p50, lat.paced!.p50);
      t.true(lat.hot!.p50 >= 1.4);
    }
    // Saturated runs plan with back-to-back times, from the same cache entries.
    const sat = await measureProfile(g, xpus, { ...opts, at: 'saturation' });
    t.is(sat.pace, 'back-to-back');
    t.is(sat.measured, 0);
    for (const lat of Object.values(sat.stages[1]!)) {
      t.is(lat.hot, undefined);
      t.not(lat.paced, undefined);
    }
    // Another source rate is another pace: those pairs are measured again.
    const other = await measureProfile(graph(20), xpus, opts);
    t.deepEqual(other.pace, { gapMs: 50 });
    t.true(other.measured > 0);
  } finally {
    rmSync(cacheDir, { recursive: true, force: true });
  }
});

/** Stateful: remembers the frames it saw; a frame after a gap in the sequence starts its history over. */
const seen: Array<{ seq: number; value: number; history: number }> = [];
const historian = defineXNode({
  type: 'schedtest/historian',
  inputs: { in: { type: 'xauto/Tensor' } },
  outputs: {},
  stateful: true,
  impls: [
    {
      name: 'js',
      xpu: 'cpu',
      backend: 'main',
      create: () => {
        let last = -1;
        let history = 0;
        return (inputs, frame) => {
          history = frame.seq === last + 1 ? history + 1 : 1;
          last = frame.seq;
          seen.push({ seq: frame.seq, value: (inputs.in as { data: Float32Array }).data[0]!, history });
          return {};
        };
      },
    },
  ],
});

test('profiling a stateful stage: it is fed a window of consecutive captured frames in order, each with its own inputs, not one frame repeated', async (t) => {
  const registry = await loadRegistry({ types: ['demo/counter'] });
  registry.register(historian);
  const graph = buildGraph(
    describe([
      { name: 'src', type: 'demo/counter', params: { rate: 0, size: 16 }, outputs: { out: '/a' } },
      { name: 'keep', type: 'schedtest/historian', inputs: { in: '/a' } },
    ]),
    registry,
  );
  const xpus = (await discoverXpus({ workers: 1 })).filter((x) => x.id === 'main');
  const cacheDir = mkdtempSync(join(tmpdir(), 'xauto-profile-'));
  try {
    seen.length = 0;
    const warmup = 2;
    const profile = await measureProfile(graph, xpus, { cacheDir, log: () => {}, repeats: 4, passes: 2, warmup, at: 'saturation' });
    t.truthy(profile.stages[1]!['js@main']);
    // The capture run itself feeds the stage too; the profiled instance's calls follow it.
    const profiled = seen.slice(seen.findIndex((c, k) => k > 0 && c.history === 1));
    t.true(profiled.length >= warmup + 4, `${profiled.length} calls`);
    for (const [k, c] of profiled.entries()) {
      t.is(c.value, c.seq, 'each frame comes with its own message');
      t.is(c.history, k + 1, 'frames arrive consecutively, in order');
    }
  } finally {
    rmSync(cacheDir, { recursive: true, force: true });
  }
});

test('cost model: a stage of small messages runs warm right after another on its XPU; one that reads or writes hundreds of KB keeps its paced (cold) time', async (t) => {
  const registry = await loadRegistry({ types: ['demo/counter'] });
  const graph = (size: number) =>
    buildGraph(
      describe([
        { name: 'src', type: 'demo/counter', params: { rate: 10, size }, outputs: { out: '/a' } },
        { name: 'work', type: 'demo/scale', inputs: { in: '/a' }, outputs: { out: '/b' } },
        { name: 'sink', type: 'demo/check', inputs: { in: '/b' } },
      ]),
      registry,
    );
  const xpus = (await discoverXpus({ workers: 1 })).filter((x) => x.id === 'main');
  const paced = { p50: 2, q: [2, 2, 2, 2, 2, 2, 2, 2], samples: 6, hot: { p50: 0.5, q: [0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5] }, paced: { gapMs: 100, p50: 2, q: [2, 2, 2, 2, 2, 2, 2, 2], samples: 6 } };
  const profile = (bytes: number): Profile => ({
    host: 'test',
    simulated: false,
    cores: 2,
    stages: [{ 'js@main': paced }, { 'js@main': paced }, { 'js@main': paced }],
    topics: { '/a': { bytes, encodeMs: 0, decodeMs: 0 }, '/b': { bytes, encodeMs: 0, decodeMs: 0 } },
    transfer: {},
    measured: 0,
    cached: 0,
    failures: [],
    pace: { gapMs: 100 },
  });
  const small = buildModel(graph(256), xpus, profile(1024));
  t.deepEqual(small.stages[1]!.options[0]!.lat.warm, { p50: 0.5, q: paced.hot.q, coldAfterMs: 100 });
  const large = buildModel(graph(65536), xpus, profile(256 * 1024));
  t.is(large.stages[1]!.options[0]!.lat.warm, undefined);
  t.is(large.stages[1]!.options[0]!.lat.p50, 2);
});

test('runtime fallback: a failing implementation is replaced by the next-best plan and frames keep flowing', async (t) => {
  const registry = await loadRegistry({ types: ['demo/counter'] });
  registry.register(flaky);
  const graph = buildGraph(
    describe([
      { name: 'src', type: 'demo/counter', params: { rate: 0, size: 64 }, outputs: { out: '/a' } },
      { name: 'stage', type: 'schedtest/flaky', inputs: { in: '/a' }, outputs: { out: '/b' } },
      { name: 'sink', type: 'demo/check', params: { a: 1, b: 0 }, inputs: { in: '/b' } },
    ]),
    registry,
  );
  const xpus = await discoverXpus({ workers: 1 });
  t.true(xpus.some((x) => x.id === 'native'), 'the native core addon is built');
  // A profile in which the fragile implementation looks best, so the planner picks it.
  const lat = (p50: number) => ({ p50, q: [p50, p50, p50, p50, p50, p50, p50, p50], samples: 1 });
  const profile: Profile = {
    host: 'test',
    simulated: false,
    cores: 2,
    stages: [{ 'js@main': lat(0.05) }, { 'fragile@main': lat(0.05), 'steady@native': lat(0.2) }, { 'js@main': lat(0.05) }],
    topics: {},
    transfer: {},
    measured: 0,
    cached: 0,
    failures: [],
  };
  const model = buildModel(graph, xpus, profile);
  const planned = planXauto(model);
  const plan = toExecPlan(model, planned.assignment, 'xauto');
  t.is(plan.placements[1]!.impl, 'fragile');
  const lines: string[] = [];
  counters.reset();
  const ex = new Executor(graph, plan, { xpus, frames: 40, log: (l) => lines.push(l), fallback: makeFallback(model, planned.assignment) });
  await ex.start();
  await ex.run();
  await ex.close();
  const rep = ex.report();
  t.is(counters.get('exec.fallbacks'), 1);
  t.is(rep.stages[1]!.impl, 'steady');
  t.is(rep.stages[1]!.xpu, 'native');
  t.is(rep.stages[1]!.errors, 3);
  // Every frame but the three the failing implementation lost reached the sink, checked.
  const check = rep.sections.check as { frames: number; wrong: number };
  t.is(check.frames, 37);
  t.is(check.wrong, 0);
  t.true(lines.some((l) => /falling back from fragile@main to steady@native/.test(l)));
});

test('a stage fed only from ROS2 (nothing to profile it with) is still planned, at a nominal cost, and said so', async (t) => {
  const registry = await loadRegistry({ types: ['demo/counter', 'camera/preprocess'] });
  const graph = buildGraph(
    describe([
      { name: 'work', type: 'camera/preprocess', inputs: { image: '/image' }, outputs: { tensor: '/b' }, ros2: [{ port: 'image', dir: 'in', topic: '/image', qos: 'default' }] },
      { name: 'sink', type: 'demo/pass', inputs: { in: '/b' } },
    ]),
    registry,
  );
  const xpus = await discoverXpus({ workers: 1 });
  const lines: string[] = [];
  const { plan, fallback } = await resolvePlan(graph, xpus, 'xauto', { log: (l) => lines.push(l) });
  t.is(plan.placements.length, 2);
  t.truthy(fallback);
  t.true(lines.some((l) => /could not profile work, sink .*nominal 1 ms/.test(l)), lines.join('\n'));
});

test('plan files: `xauto plan --json` output runs as a plan; mistakes name the entry and what was expected', async (t) => {
  const registry = await loadRegistry({ types: ['demo/counter'] });
  const graph = buildGraph(
    describe([
      { name: 'src', type: 'demo/counter', outputs: { out: '/a' } },
      { name: 'work', type: 'demo/scale', inputs: { in: '/a' }, outputs: { out: '/b' } },
      { name: 'sink', type: 'demo/check', inputs: { in: '/b' } },
    ]),
    registry,
  );
  const xpus = await discoverXpus({ workers: 1 });
  const dir = mkdtempSync(join(tmpdir(), 'xauto-planfile-'));
  try {
    const file = join(dir, 'plan.json');
    const write = (v: unknown) => writeFileSync(file, JSON.stringify(v));
    // Round trip of what `xauto plan --json` writes.
    const lat = (p50: number) => ({ p50, q: [p50, p50, p50, p50, p50, p50, p50, p50], samples: 1 });
    const profile: Profile = {
      host: 'test',
      simulated: false,
      cores: 2,
      stages: [{ 'js@main': lat(0.1) }, { 'js@main': lat(3), 'worker@pool': lat(2), 'native@native': lat(2.5) }, { 'js@main': lat(0.1) }],
      topics: {},
      transfer: {},
      measured: 0,
      cached: 0,
      failures: [],
    };
    const cmp = compareOnModel(buildModel(graph, xpus, profile), profile, xpus, { frames: 20 });
    write(planJson('x.launch.yaml', cmp));
    t.deepEqual(readPlanFile(file, graph, xpus).placements, cmp.xauto.plan.placements.map((p) => ({ impl: p.impl, xpu: p.xpu, priority: p.priority })));
    write({ name: 'mine', placements: [{ stage: 'sink', impl: 'js', xpu: 'main' }, { stage: 'src', impl: 'js', xpu: 'main' }, { stage: 'work', impl: 'worker', xpu: 'pool', priority: 5 }] });
    const plan = readPlanFile(file, graph, xpus);
    t.is(plan.name, 'mine');
    t.deepEqual(plan.placements.map((p) => `${p.impl}@${p.xpu}`), ['js@main', 'worker@pool', 'js@main']);
    t.is(plan.placements[1]!.priority, 5);
    const bad: Array<[unknown, RegExp]> = [
      [{ placements: [{ stage: 'nope', impl: 'js', xpu: 'main' }] }, /placements\[0\]: unknown stage "nope"; expected one of src, work, sink/],
      [{ placements: [{ stage: 'work', impl: 'cuda', xpu: 'main' }] }, /placements\[0\]: 'work' has no implementation 'cuda'; expected one of js, worker, native/],
      [{ placements: [{ stage: 'work', impl: 'js', xpu: 'npu0' }] }, /placements\[0\]: no XPU 'npu0' on this host/],
      [{ placements: [{ stage: 'work', impl: 'worker', xpu: 'main' }] }, /implementation 'worker' \(worker\/cpu\) cannot run on 'main'/],
      [{ placements: [{ stage: 'work', impl: 'js', xpu: 'main' }] }, /no placement for 'src', 'sink'/],
      [{ plans: 1 }, /expected \{"placements"/],
    ];
    for (const [v, re] of bad) {
      write(v);
      t.throws(() => readPlanFile(file, graph, xpus), { instanceOf: PlanFileError, message: re });
    }
    t.throws(() => readPlanFile(join(dir, 'missing.json'), graph, xpus), { instanceOf: PlanFileError, message: /missing\.json: no such file; expected 'xauto', 'module', 'module-ipc', 'module-ipc-mt', 'default' or a plan JSON file/ });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
