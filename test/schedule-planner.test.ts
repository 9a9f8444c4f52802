import test from 'ava';
import { lowerBound, moduleBaseline } from '../runtime/schedule/baseline.js';
import { estimate, nextBest, planXauto } from '../runtime/schedule/planner.js';
import { prepare } from '../runtime/schedule/evaluate.js';
import { model, on, placedOn, randomPipeline } from '../runtime/schedule/synthetic.js';
import type { Assignment, CostModel } from '../runtime/schedule/model.js';

/** Every assignment's estimate, for checking the planner against exhaustive search. */
function bruteForce(m: CostModel): number {
  const sc = prepare(m);
  const opt = new Int32Array(m.stages.length);
  let best = Infinity;
  const rec = (v: number) => {
    if (v === m.stages.length) {
      best = Math.min(best, estimate(m, opt, sc));
      return;
    }
    for (let o = 0; o < m.stages[v]!.options.length; o++) {
      opt[v] = o;
      rec(v + 1);
    }
  };
  rec(0);
  return best;
}

const twoXpus = [{ id: 'cpu' }, { id: 'gpu' }];

test('diamond: the known optimum puts the branches on different XPUs', (t) => {
  // src -> A, B -> join. A: cpu 10 / gpu 4, B: cpu 6 / gpu 5. Best: A@gpu || B@cpu = 1 + 6 + 1.
  const m = model(twoXpus, [
    { name: 'src', cost: { cpu: 1 } },
    { name: 'A', cost: { cpu: 10, gpu: 4 }, from: ['src'] },
    { name: 'B', cost: { cpu: 6, gpu: 5 }, from: ['src'] },
    { name: 'join', cost: { cpu: 1 }, from: ['A', 'B'] },
  ]);
  const r = planXauto(m);
  t.is(r.method, 'exact');
  t.true(r.complete);
  t.is(placedOn(m, r.assignment.option, 'A'), 'gpu');
  t.is(placedOn(m, r.assignment.option, 'B'), 'cpu');
  t.is(r.estimateMs, 8);
  t.is(lowerBound(m).p50, 1 + 5 + 1);
});

test('exact search equals exhaustive search on random small pipelines', (t) => {
  for (let seed = 1; seed <= 8; seed++) {
    const m = randomPipeline(8, seed);
    const r = planXauto(m, { method: 'exact', budgetMs: 10_000 });
    t.true(r.complete);
    t.true(Math.abs(r.estimateMs - bruteForce(m)) < 1e-9, `seed ${seed}`);
    t.true(r.estimateMs >= lowerBound(m).mean - 1e-9);
  }
});

test('heuristic stays close to the exact optimum on small pipelines (optimality gap)', (t) => {
  let worst = 0;
  for (let seed = 1; seed <= 10; seed++) {
    const m = randomPipeline(9, seed);
    const exact = planXauto(m, { method: 'exact', budgetMs: 10_000 }).estimateMs;
    const heur = planXauto(m, { method: 'heuristic' }).estimateMs;
    t.true(heur >= exact - 1e-9);
    worst = Math.max(worst, heur / exact - 1);
  }
  t.log(`worst optimality gap of the heuristic: ${(worst * 100).toFixed(1)}%`);
  t.true(worst < 0.25);
});

test('contention: two heavy stages are not stacked on one single-lane XPU while another is idle', (t) => {
  const m = model(twoXpus, [
    { name: 'src', cost: { cpu: 0.5 } },
    { name: 'H1', cost: { cpu: 12, gpu: 10 }, from: ['src'] },
    { name: 'H2', cost: { cpu: 12, gpu: 10 }, from: ['src'] },
    { name: 'sink1', cost: { cpu: 0.1 }, from: ['H1'] },
    { name: 'sink2', cost: { cpu: 0.1 }, from: ['H2'] },
  ]);
  const r = planXauto(m);
  const where = [placedOn(m, r.assignment.option, 'H1'), placedOn(m, r.assignment.option, 'H2')].sort();
  t.deepEqual(where, ['cpu', 'gpu']);
  // Both on the GPU would have been the stage-by-stage fastest choice.
  const stacked = [0, on(m, 'H1', 'gpu'), on(m, 'H2', 'gpu'), 0, 0];
  t.true(estimate(m, stacked) > r.estimateMs);
});

test('transfers: a slightly faster accelerator is not worth an expensive round trip', (t) => {
  const chain = (transferMs: number) =>
    model(
      [{ id: 'cpu' }, { id: 'gpu', transferMs }],
      [
        { name: 'src', cost: { cpu: 1 } },
        { name: 'A', cost: { cpu: 6, gpu: 5 }, from: ['src'] },
        { name: 'B', cost: { cpu: 1 }, from: ['A'] },
      ],
    );
  const costly = chain(3);
  t.is(placedOn(costly, planXauto(costly).assignment.option, 'A'), 'cpu');
  const cheap = chain(0.1);
  t.is(placedOn(cheap, planXauto(cheap).assignment.option, 'A'), 'gpu');
});

test('overload: a stage moves off an XPU that cannot keep up with the rate', (t) => {
  // At 10 ms per frame two 6 ms stages cannot share the gpu, even though each is fastest there.
  const m = model(twoXpus, [
    { name: 'src', cost: { cpu: 0.1 }, periodMs: 10 },
    { name: 'A', cost: { cpu: 7, gpu: 6 }, from: ['src'] },
    { name: 'B', cost: { cpu: 7.5, gpu: 6 }, from: ['A'] },
  ]);
  const r = planXauto(m);
  t.not(placedOn(m, r.assignment.option, 'A'), placedOn(m, r.assignment.option, 'B'));
});

test('module baseline: each module on the XPU where the module as a whole is fastest, serialized, exclusive', (t) => {
  const m = model(twoXpus, [
    { name: 'cam', cost: { cpu: 1 }, module: 'camera' },
    { name: 'det', cost: { cpu: 20, gpu: 5 }, from: ['cam'], module: 'camera' },
    { name: 'pre', cost: { cpu: 2, gpu: 3 }, from: ['det'], module: 'camera' },
    { name: 'track', cost: { cpu: 1 }, from: ['pre'], module: 'tracking' },
  ]);
  const b = moduleBaseline(m);
  t.is(placedOn(m, b.assignment.option, 'det'), 'gpu');
  t.is(placedOn(m, b.assignment.option, 'pre'), 'gpu'); // slower there, but it is the module's XPU
  t.deepEqual(b.strays, ['cam']); // no gpu option: stays on its own
  t.is(b.assignment.serialize, true);
  t.is(b.assignment.group![1], b.assignment.group![2]);
  t.not(b.assignment.group![1], b.assignment.group![3]);
  t.is(b.modules.find((x) => x.name === 'camera')!.ms, 1 + 5 + 3); // cam a stray at its own 1 ms
});

test('module baseline: the module goes where its summed time is least, not where its heaviest stage is fastest', (t) => {
  // Perception's knife edge: pre is the heaviest stage by a hair and fastest on cpu, where det
  // would take 3x its gpu time; the node as a whole is fastest on gpu.
  const m = model(twoXpus, [
    { name: 'pre', cost: { cpu: 3.22, gpu: 3.25 }, module: 'camera' },
    { name: 'det', cost: { cpu: 9.57, gpu: 3.02 }, from: ['pre'], module: 'camera' },
  ]);
  const b = moduleBaseline(m);
  t.is(placedOn(m, b.assignment.option, 'pre'), 'gpu');
  t.is(placedOn(m, b.assignment.option, 'det'), 'gpu');
  t.is(b.modules[0]!.heaviest, 'pre');
  t.true(Math.abs(b.modules[0]!.ms - 6.27) < 1e-9);
  // A tie goes to the XPU the heaviest stage is fastest on.
  const tie = model(twoXpus, [
    { name: 'a', cost: { cpu: 4, gpu: 5 }, module: 'm' },
    { name: 'b', cost: { cpu: 3, gpu: 2 }, from: ['a'], module: 'm' },
  ]);
  t.is(placedOn(tie, moduleBaseline(tie).assignment.option, 'a'), 'cpu');
});

test('next-best fallback skips the failed option and failed XPUs', (t) => {
  const m = model([{ id: 'cpu' }, { id: 'gpu' }, { id: 'npu' }], [
    { name: 'src', cost: { cpu: 1 } },
    { name: 'A', cost: { cpu: 9, gpu: 2, npu: 3 }, from: ['src'] },
  ]);
  const r = planXauto(m);
  t.is(placedOn(m, r.assignment.option, 'A'), 'gpu');
  const opt = [...r.assignment.option];
  const next = nextBest(m, opt, 1, new Set([opt[1]!]));
  t.is(m.xpus[m.stages[1]!.options[next]!.xpu]!.id, 'npu');
  const last = nextBest(m, opt, 1, new Set([opt[1]!, next]));
  t.is(m.xpus[m.stages[1]!.options[last]!.xpu]!.id, 'cpu');
  t.is(nextBest(m, opt, 1, new Set([0, 1, 2])), -1);
});

test('planning time stays bounded: 30 and 500 stages', (t) => {
  for (const n of [30, 500]) {
    const m = randomPipeline(n, 3);
    const r = planXauto(m);
    t.is(r.assignment.option.length, n);
    t.true(r.estimateMs >= lowerBound(m).mean - 1e-9);
    t.log(`${n} stages: ${r.method}, ${r.evaluations} evaluations, ${r.planMs.toFixed(1)} ms`);
  }
});

test('contention: two memory-bound stages are kept apart when running them side by side costs more', (t) => {
  const build = (contention: number) => {
    const m = model(
      [{ id: 'c1', usesCores: true }, { id: 'c2', usesCores: true }, { id: 'acc' }],
      [
        { name: 'src', cost: { acc: 1 }, periodMs: 100 },
        { name: 'A', cost: { c1: 10, acc: 12 }, from: ['src'] },
        { name: 'B', cost: { c2: 10, acc: 12 }, from: ['src'] },
        { name: 'join', cost: { acc: 1 }, from: ['A', 'B'] },
      ],
      2,
    );
    for (const s of [m.stages[1]!, m.stages[2]!]) for (const o of s.options) if (m.xpus[o.xpu]!.usesCores) o.lat.contention = contention;
    return m;
  };
  const xpuOf = (m: CostModel, a: Assignment, name: string) => {
    const v = m.stages.findIndex((s) => s.name === name);
    return m.xpus[m.stages[v]!.options[a.option[v]!]!.xpu]!.id;
  };
  const alone = build(0);
  const a = planXauto(alone).assignment;
  t.deepEqual([xpuOf(alone, a, 'A'), xpuOf(alone, a, 'B')], ['c1', 'c2'], 'no contention: both on the cores');
  const mem = build(0.8);
  const b = planXauto(mem).assignment;
  t.true([xpuOf(mem, b, 'A'), xpuOf(mem, b, 'B')].includes('acc'), 'with contention: one moves off the shared memory');
});
