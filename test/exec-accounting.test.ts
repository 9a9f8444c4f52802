// Every frame that does not complete is counted in exactly one place, and the run summary's
// header sums those places: on a chain, emitted = completed + each loss counter.
import test from 'ava';
import { buildGraph, describeXNodes, type XNodeInCode } from '../runtime/graph/index.js';
import { Executor } from '../runtime/exec/executor.js';
import { defaultPlan } from '../runtime/exec/plan.js';
import type { Costs } from '../runtime/exec/core/costed.js';
import { VirtualMachine } from '../runtime/exec/core/virtual.js';
import { buildSummary, renderSummary, totalLost } from '../runtime/trace/report.js';
import { XNodeRegistry, defineXNode, type Tensor } from '../runtime/xnode/index.js';
import { discoverXpus } from '../runtime/xpu/discover.js';

const T = { type: 'xauto/Tensor' } as const;
const tensor = (seq: number): Tensor => ({ dims: [1], data: new Float32Array([seq]) });
const fails = (seq: number) => seq % 5 === 1;
const hangs = (seq: number) => seq % 7 === 3;
const filters = (seq: number) => seq % 11 === 6;

function registry(): XNodeRegistry {
  return new XNodeRegistry().register(
    defineXNode({ type: 'acc/src', outputs: { out: T }, params: { rate: { type: 'float', default: 0 } }, impls: [{ name: 'js', xpu: 'cpu', backend: 'main', create: () => (_i, f) => ({ out: tensor(f.seq) }) }] }),
    defineXNode({
      type: 'acc/flaky',
      inputs: { in: T },
      outputs: { out: T },
      impls: [
        {
          name: 'js',
          xpu: 'cpu',
          backend: 'main',
          create: () => (i, f) => {
            if (fails(f.seq)) throw new Error(`frame ${f.seq} is bad`);
            return filters(f.seq) ? {} : { out: i.in };
          },
        },
      ],
    }),
    defineXNode({
      type: 'acc/hang',
      inputs: { in: T },
      outputs: { out: T },
      impls: [{ name: 'js', xpu: 'cpu', backend: 'native', create: () => (i, f) => (hangs(f.seq) ? new Promise(() => {}) : Promise.resolve({ out: i.in })) }],
    }),
    defineXNode({ type: 'acc/sink', inputs: { in: { ...T, depth: 1 } }, impls: [{ name: 'js', xpu: 'cpu', backend: 'native', create: () => async () => null }] }),
  );
}

const chain: XNodeInCode[] = [
  { name: 'src', type: 'acc/src', outputs: { out: '/a' }, params: { rate: 100 } as never },
  { name: 'flaky', type: 'acc/flaky', inputs: { in: '/a' }, outputs: { out: '/b' } },
  { name: 'hang', type: 'acc/hang', inputs: { in: '/b' }, outputs: { out: '/c' } },
  { name: 'sink', type: 'acc/sink', inputs: { in: '/c' } },
];

// Virtual run times (ms) per stage: the source now and then runs longer than its period
// now and then (overruns); the hanging runs last past their deadline; the sink is slower than
// the source (keep-last drops at its depth-1 input).
const runMs: Record<number, (seq: number) => number> = {
  0: (seq) => (seq % 13 === 5 ? 15 : 0.1),
  1: (seq) => (seq % 9 === 4 ? 25 : 1),
  2: (seq) => (hangs(seq) ? 100 : 1),
  3: () => 14,
};
const costs: Costs = {
  runMs: (stage, _x, seq) => runMs[stage]!(seq),
  decodeMs: () => 0,
  encodeMs: () => 0,
  transferMs: () => 0,
  usesCores: () => false,
  pinnedWorker: () => -1,
};

test.serial('every frame that does not complete is counted once: emitted = completed + each counter, and the header sums them', async (t) => {
  const graph = buildGraph(describeXNodes(chain.map((x) => ({ ...x, impls: [] }))), registry());
  const xpus = await discoverXpus({ workers: 1 });
  const logs: string[] = [];
  const ex = new Executor(graph, defaultPlan(graph, xpus), {
    xpus,
    frames: 60,
    realtime: true,
    virtual: { machine: new VirtualMachine(), costs },
    timeout: (stage) => (stage === 2 ? 30 : undefined),
    log: (l) => logs.push(l),
  });
  await ex.start();
  await ex.run();
  await ex.close();
  const s = buildSummary('acc.launch.yaml', 'xauto', ex.report(), ex.tracer, {});
  const lost = s.frames.lost!;
  t.is(s.frames.emitted, 60);
  t.true(lost.failed > 0, 'a stage threw');
  t.true(lost.timed_out > 0, 'a stage ran past its deadline');
  t.true(lost.dropped > 0, 'keep-last pushed frames out');
  t.true(lost.overrun > 0, 'the source was busy when a frame was due');
  t.true(lost.filtered > 0, 'a stage published nothing');
  t.is(lost.failed, ex.report().stages[1]!.errors);
  t.is(lost.timed_out, ex.report().stages[2]!.timeouts ?? -1);
  t.is(lost.in_flight, 0, 'a frame budget runs until the pipeline is empty');
  t.is(s.frames.emitted, s.frames.completed + lost.dropped + lost.failed + lost.timed_out + lost.overrun + lost.filtered + lost.refused + lost.lost + lost.in_flight);
  const header = renderSummary(s).split('\n')[0]!;
  t.true(header.includes(`${s.frames.completed} completed, ${totalLost(lost)} lost (`), header);
  t.regex(header, new RegExp(`${lost.dropped} dropped, ${lost.failed} failed, ${lost.timed_out} timed out, ${lost.overrun} source overruns, ${lost.filtered} filtered\\)`));
  t.notRegex(header, / 0 dropped/);
});

test.serial('network refusals and losses count in the header, with nothing lost it says 0 lost', async (t) => {
  const graph = buildGraph(describeXNodes(chain.slice(0, 1).concat({ name: 'sink', type: 'acc/sink', inputs: { in: '/a' } }).map((x) => ({ ...x, impls: [] }))), registry());
  const xpus = await discoverXpus({ workers: 1 });
  const ex = new Executor(graph, defaultPlan(graph, xpus), { xpus, frames: 10, virtual: { machine: new VirtualMachine(), costs: { ...costs, runMs: () => 0.1 } }, log: () => {} });
  await ex.start();
  await ex.run();
  await ex.close();
  const clean = buildSummary('a.yaml', 'xauto', ex.report(), ex.tracer, {});
  t.is(clean.frames.completed, 10);
  t.regex(renderSummary(clean).split('\n')[0]!, /10 completed, 0 lost, /);
  const net = buildSummary('a.yaml', 'xauto', ex.report(), ex.tracer, { 'refused.remote.foreign': 2, 'refused.ros2.malformed': 1, 'lost.ros2.sample_lost': 4, 'exec.fallbacks': 9 });
  t.is(net.frames.lost!.refused, 3);
  t.is(net.frames.lost!.lost, 4);
  t.regex(renderSummary(net).split('\n')[0]!, /10 completed, 7 lost \(3 refused, 4 lost by the network\)/);
});
