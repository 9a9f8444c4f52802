import test from 'ava';
import { moduleBaseline, moduleIpcBaseline } from '../runtime/schedule/baseline.js';
import { toExecPlan } from '../runtime/schedule/build.js';
import { attributeGain, gainAssignments } from '../runtime/schedule/breakdown.js';
import { isPlannedSpec } from '../runtime/schedule/index.js';
import { modelTopology, simulate } from '../runtime/schedule/simulate.js';
import { model } from '../runtime/schedule/synthetic.js';
import { checkProfileArgs, type ProfileArgs } from '../runtime/cli/profile.js';

// Two sensor modules feeding a fusion module: heavy messages (3 ms to encode, 3 to decode).
const heavy = () =>
  model([{ id: 'cpu', lanes: 2 }, { id: 'gpu' }], [
    { name: 'cam', cost: { cpu: 2 }, module: 'camera', periodMs: 100, encodeMs: 3, decodeMs: 3, bytes: 6e6 },
    { name: 'detect', cost: { cpu: 20, gpu: 5 }, from: ['cam'], module: 'perception', encodeMs: 3, decodeMs: 3 },
    { name: 'lidar', cost: { cpu: 2 }, module: 'lidar', periodMs: 100, encodeMs: 3, decodeMs: 3, bytes: 6e6 },
    { name: 'cluster', cost: { cpu: 4, gpu: 6 }, from: ['lidar'], module: 'perception', encodeMs: 3, decodeMs: 3 },
    { name: 'fuse', cost: { cpu: 3 }, from: ['detect', 'cluster'], module: 'fusion' },
  ]);

const crossing = (m: ReturnType<typeof heavy>, a: Parameters<typeof modelTopology>[1]) =>
  modelTopology(m, a).stages.flatMap((s) => s.outputs.flatMap((o) => o.subs.filter((x) => x.cross)));

test('module-ipc: no codec on edges between modules (the module baseline has one)', (t) => {
  const m = heavy();
  for (const executor of ['single', 'multi'] as const) {
    const a = moduleIpcBaseline(m, executor).assignment;
    t.false(toExecPlan(m, a, 'module-ipc').serializeBetweenModules);
    t.is(crossing(m, a).length, 0);
  }
  const mod = moduleBaseline(m).assignment;
  t.true(toExecPlan(m, mod, 'module').serializeBetweenModules);
  t.true(crossing(m, mod).length > 0);
});

test("module-ipc: every stage of a module on its module's XPU, as in the module baseline", (t) => {
  const m = heavy();
  for (const executor of ['single', 'multi'] as const) {
    const b = moduleIpcBaseline(m, executor);
    t.deepEqual(b.strays, []);
    for (const mod of b.modules) {
      for (const name of mod.stages) {
        const v = m.stages.findIndex((s) => s.name === name);
        t.is(m.xpus[m.stages[v]!.options[b.assignment.option[v]!]!.xpu]!.id, mod.xpu, `${name} in ${mod.name}`);
      }
    }
    t.deepEqual(b.assignment.option, moduleBaseline(m).assignment.option);
  }
  // The perception module goes where it is fastest as a whole (detect dominates it).
  t.is(moduleIpcBaseline(m).modules.find((x) => x.name === 'perception')!.xpu, 'gpu');
});

test('module-ipc single-threaded: one lane for the whole container, FIFO; multi-threaded: per-node exclusion', (t) => {
  const m = heavy();
  const st = moduleIpcBaseline(m, 'single').assignment;
  t.deepEqual(new Set(st.group), new Set(['container']));
  t.deepEqual(new Set(st.priority), new Set([0]));
  const mt = moduleIpcBaseline(m, 'multi').assignment;
  t.deepEqual(mt.group, m.stages.map((s) => `module:${s.module}`));
  // In simulation no two callbacks of the single-threaded container ever overlap.
  const spans: Array<[number, number]> = [];
  const r = simulate(m, st, { frames: 20, onDispatch: (job, t0) => spans.push([t0, t0 + m.stages[job.stage]!.options[st.option[job.stage]!]!.lat.p50]) });
  t.true(r.emitted > 0);
  spans.sort((a, b) => a[0] - b[0]);
  for (let k = 1; k < spans.length; k++) t.true(spans[k]![0] >= spans[k - 1]![1] - 1e-9, `callback ${k} starts before the previous one ends`);
  // The pool runs the two sensor branches side by side, so it is never slower here.
  t.true(simulate(m, mt, { frames: 20 }).e2e.p50 <= r.e2e.p50 + 1e-9);
});

test('simulator: module-ipc is predicted no slower than module on a pipeline with heavy messages', (t) => {
  const m = heavy();
  const mod = simulate(m, moduleBaseline(m).assignment, { frames: 30, warmup: 3 }).e2e.p50;
  const st = simulate(m, moduleIpcBaseline(m, 'single').assignment, { frames: 30, warmup: 3 }).e2e.p50;
  const mt = simulate(m, moduleIpcBaseline(m, 'multi').assignment, { frames: 30, warmup: 3 }).e2e.p50;
  t.true(st <= mod, `module-ipc ${st} ms vs module ${mod} ms`);
  t.true(mt < mod, `module-ipc-mt ${mt} ms vs module ${mod} ms`);
});

test('gain breakdown: the steps multiply to module/xauto; module -> module-ipc-mt differs only in serialization', (t) => {
  const m = heavy();
  const xauto = { option: m.stages.map((s) => s.options.reduce((b, o, i) => (o.lat.p50 < s.options[b]!.lat.p50 ? i : b), 0)), priority: m.stages.map(() => 0) };
  const chain = gainAssignments(m, xauto);
  t.deepEqual(chain['module-ipc-mt'].option, chain.module.option);
  t.deepEqual(chain['module-ipc-mt'].group, chain.module.group);
  t.deepEqual(chain['module-ipc-mt'].priority, chain.module.priority);
  t.true(chain.module.serialize);
  t.false(chain['module-ipc-mt'].serialize);
  const steps = attributeGain({ module: 8, 'module-ipc-mt': 4, 'xauto-order@module': 4, xauto: 2 });
  t.deepEqual(steps.map((s) => s.factor), [2, 1, 2]);
  t.deepEqual(steps.map((s) => Math.round(s.share * 100)), [50, 0, 50]);
});

test('plan specs: module-ipc and module-ipc-mt are planned baselines, accepted by xauto profile --plan', (t) => {
  t.true(isPlannedSpec('module-ipc'));
  t.true(isPlannedSpec('module-ipc-mt'));
  t.false(isPlannedSpec('module-ipc-x'));
  const args = { file: 'x.launch.yaml', launchArgs: [], warmup: 0 } as unknown as ProfileArgs;
  t.notThrows(() => checkProfileArgs({ ...args, plan: 'module-ipc' }));
  t.notThrows(() => checkProfileArgs({ ...args, plan: 'module-ipc-mt' }));
  t.throws(() => checkProfileArgs({ ...args, plan: 'module-ipx' }), { message: /module-ipc-mt/ });
});
