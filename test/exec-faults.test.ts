// Stages that fail as stages do: past their deadline, a stuck or crashing worker, outputs
// their ports do not take, every implementation gone. Each frame that does not complete is
// counted once, and the run always ends.
import test from 'ava';
import { buildGraph, describeXNodes, type XNodeInCode } from '../runtime/graph/index.js';
import { Executor, type ExecOptions } from '../runtime/exec/executor.js';
import { defaultPlan } from '../runtime/exec/plan.js';
import type { Costs } from '../runtime/exec/core/costed.js';
import { VirtualMachine } from '../runtime/exec/core/virtual.js';
import { counters } from '../runtime/trace/counters.js';
import { XNodeRegistry, defineXNode, type Tensor } from '../runtime/xnode/index.js';
import { discoverXpus } from '../runtime/xpu/discover.js';

const T = { type: 'xauto/Tensor' } as const;
const tensor = (seq: number): Tensor => ({ dims: [1], data: new Float32Array([seq]) });

function registry(): XNodeRegistry {
  return new XNodeRegistry().register(
    defineXNode({ type: 'f/src', outputs: { out: T }, params: { rate: { type: 'float', default: 0 } }, impls: [{ name: 'js', xpu: 'cpu', backend: 'main', create: () => (_i, f) => ({ out: tensor(f.seq) }) }] }),
    defineXNode({
      type: 'f/stage',
      inputs: { in: T },
      outputs: { out: T },
      params: { at: { type: 'int', default: -1 }, mode: { type: 'string', default: 'stuck' } },
      impls: [
        // Never settles from frame `at` on.
        { name: 'hang', xpu: 'cpu', backend: 'native', create: (ctx) => (i, f) => (f.seq >= (ctx.params.at as number) ? new Promise(() => {}) : Promise.resolve({ out: i.in })) },
        { name: 'throw', xpu: 'cpu', backend: 'main', create: () => () => { throw new Error('broken'); } },
        { name: 'string', xpu: 'cpu', backend: 'main', create: () => () => ({ out: 'not a tensor' }) },
        { name: 'undeclared', xpu: 'cpu', backend: 'main', create: () => (i) => ({ result: i.in }) },
        { name: 'scalar', xpu: 'cpu', backend: 'main', create: () => () => 42 as never },
        { name: 'good', xpu: 'cpu', backend: 'native', create: () => async (i) => ({ out: i.in }) },
        { name: 'worker', xpu: 'cpu', backend: 'worker', module: new URL('./fixtures/workers/faulty.worker.ts', import.meta.url).href },
      ],
    }),
    defineXNode({ type: 'f/sink', inputs: { in: T }, impls: [{ name: 'js', xpu: 'cpu', backend: 'main', create: () => () => null }] }),
  );
}

const chain = (impl: string, params: Record<string, unknown> = {}, impls = [impl]): XNodeInCode[] => [
  { name: 'src', type: 'f/src', outputs: { out: '/a' } },
  { name: 'x', type: 'f/stage', impls, inputs: { in: '/a' }, outputs: { out: '/b' }, params: params as never },
  { name: 'sink', type: 'f/sink', inputs: { in: '/b' } },
];

/** Virtual run times: per stage, a number or a function of the frame. */
const costs = (ms: Record<number, number | ((seq: number) => number)>): Costs => ({
  runMs: (stage, _x, seq) => {
    const c = ms[stage] ?? 0.1;
    return typeof c === 'number' ? c : c(seq);
  },
  decodeMs: () => 0,
  encodeMs: () => 0,
  transferMs: () => 0,
  usesCores: () => false,
  pinnedWorker: () => -1,
});

async function run(xs: XNodeInCode[], opts: Partial<ExecOptions>) {
  const reg = registry();
  const graph = buildGraph(describeXNodes(xs.map((x) => ({ ...x, impls: x.impls ?? [] }))), reg);
  const xpus = await discoverXpus({ workers: 1 });
  const ex = new Executor(graph, defaultPlan(graph, xpus), { xpus, log: () => {}, ...opts });
  await ex.start();
  await ex.run();
  await ex.close();
  return ex;
}

test.serial('a run past its deadline drops its frame, is counted as a timeout, and falls back after three', async (t) => {
  const logs: string[] = [];
  const before = counters.get('exec.stage_timeouts');
  // From frame 4 on the real code never settles; in virtual time it would take 100 ms.
  const ex = await run(chain('hang', { at: 4 }, ['hang', 'good']), {
    frames: 12,
    virtual: { machine: new VirtualMachine(), costs: costs({ 1: (seq) => (seq >= 4 ? 100 : 1) }) },
    timeout: (_s, p) => (p.impl === 'hang' ? 50 : undefined),
    fallback: (_s, failed) => (failed.impl === 'hang' ? { impl: 'good', xpu: 'native', priority: 0 } : undefined),
    log: (l) => logs.push(l),
  });
  const r = ex.report();
  t.is(r.stages[1]!.impl, 'good');
  t.deepEqual(r.sections.faults, { x: { timeouts: 3, errors: 0, failed: false } });
  t.is(counters.get('exec.stage_timeouts') - before, 3);
  t.is(r.stages[2]!.runs, 12 - 3, 'every other frame completes (on the fallback from frame 7)');
  t.is(r.stages[0]!.runs, r.stages[2]!.runs + 3, 'each frame not completed is counted once');
  t.true(logs.some((l) => l.includes('did not finish within its deadline of 50 ms')));
});

test.serial('a worker stuck in a loop is terminated at the deadline and replaced; later frames complete', async (t) => {
  const restarts = counters.get('exec.worker_restarts');
  const ex = await run(chain('worker', { at: 2, mode: 'stuck' }), { frames: 6, timeout: () => 1000 });
  const r = ex.report();
  t.deepEqual(r.sections.faults, { x: { timeouts: 1, errors: 0, failed: false } });
  t.is(r.stages[2]!.runs, 5);
  t.is(counters.get('exec.worker_restarts') - restarts, 1);
});

test.serial('a worker that crashes is restarted with its stages; the frame it held counts as an error', async (t) => {
  const restarts = counters.get('exec.worker_restarts');
  const ex = await run(chain('worker', { at: 1, mode: 'crash' }), { frames: 5 });
  const r = ex.report();
  t.is(r.stages[1]!.errors, 1);
  t.is(r.stages[2]!.runs, 4);
  t.is(counters.get('exec.worker_restarts') - restarts, 1);
});

test.serial('outputs are checked against the declared ports and the producer is blamed', async (t) => {
  for (const [impl, why] of [
    ['string', /emitted a string on 'out' \(xauto\/Tensor\)/],
    ['undeclared', /emitted on 'result', which it does not declare \(outputs: out\)/],
    ['scalar', /returned a number; expected an object of output ports/],
  ] as const) {
    const logs: string[] = [];
    const ex = await run(chain(impl), { frames: 4, virtual: { machine: new VirtualMachine(), costs: costs({}) }, log: (l) => logs.push(l) });
    const r = ex.report();
    t.is(r.stages[1]!.errors, 4, impl);
    t.is(r.stages[2]!.errors, 0, `${impl}: the stage downstream is not blamed`);
    t.is(r.stages[2]!.runs, 0);
    t.true(logs.some((l) => why.test(l)), logs.join('\n'));
  }
});

test.serial('with no fallback left the stage is said failed once, and the run goes on or stops as asked', async (t) => {
  const logs: string[] = [];
  const go = await run(chain('throw'), { frames: 20, virtual: { machine: new VirtualMachine(), costs: costs({}) }, fallback: () => undefined, log: (l) => logs.push(l) });
  t.is(logs.filter((l) => l.includes('no fallback left')).length, 1);
  t.deepEqual(go.failedStages(), ['x']);
  t.is(go.report().stages[1]!.errors, 20);
  t.deepEqual(go.report().sections.faults, { x: { timeouts: 0, errors: 20, failed: true } });
  const stop = await run(chain('throw'), { frames: 20, virtual: { machine: new VirtualMachine(), costs: costs({}) }, fallback: () => undefined, onStageFailed: 'stop' });
  t.deepEqual(stop.failedStages(), ['x']);
  t.true(stop.report().sources[0]!.emitted < 20, 'the sources stopped');
});
