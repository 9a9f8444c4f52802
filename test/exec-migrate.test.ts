// Live migration between two executors (exec/migrate.ts), each the part of one process of a
// launch, with the links between them in memory so the test decides when the hand-over
// arrives (the DDS path, with real processes, is test/migrate-launch.test.ts): a stateful
// running sum moves from process a to process b at frame 10; the frames that reach b before
// its state are queued and go to the stage in order, a repeated frame is refused and counted,
// and the sink in a sees every frame once, in order, with the sums an unmoved stage gives.
import test from 'ava';
import { Executor } from '../runtime/exec/executor.js';
import type { RemoteLinks } from '../runtime/exec/remote.js';
import { defaultPlan } from '../runtime/exec/plan.js';
import { buildGraph, describeXNodes } from '../runtime/graph/index.js';
import { counters } from '../runtime/trace/counters.js';
import { defineXNode, XNodeRegistry, type Tensor } from '../runtime/xnode/index.js';
import { hostState, type StatefulInstance } from '../runtime/xnode/state.js';
import { discoverXpus } from '../runtime/xpu/discover.js';

type Msg = { value: unknown; t0: number; seq: number } | { end: number };

/** Topics in memory, delivered asynchronously and in order (as one DDS writer's are); a topic can be held. */
class Bus {
  private readonly subs = new Map<string, Array<(m: Msg) => void>>();
  private readonly held = new Map<string, Msg[]>();
  readonly delivered = new Map<string, number>();
  /** Called after each delivery on a topic. */
  onDelivered?: (topic: string, n: number, m: Msg) => void;

  hold(topic: string): void {
    this.held.set(topic, []);
  }

  release(topic: string): void {
    const q = this.held.get(topic) ?? [];
    this.held.delete(topic);
    for (const m of q) this.post(topic, m);
  }

  post(topic: string, m: Msg): void {
    const q = this.held.get(topic);
    if (q) return void q.push(m);
    setImmediate(() => {
      for (const f of this.subs.get(topic) ?? []) f(m);
      const n = (this.delivered.get(topic) ?? 0) + 1;
      this.delivered.set(topic, n);
      this.onDelivered?.(topic, n, m);
    });
  }

  links(): RemoteLinks {
    return {
      sender: (topic) => {
        let sent = 0;
        return {
          send: (value, t0, seq) => (sent++, this.post(topic, { value: structuredClone(value), t0, seq })),
          end: async () => this.post(topic, { end: sent }),
        };
      },
      receive: (topic, onMessage, onEnd) => {
        const list = this.subs.get(topic) ?? [];
        this.subs.set(topic, list);
        list.push((m) => ('end' in m ? onEnd() : onMessage(m.value, m.t0, m.seq)));
        return () => undefined;
      },
      connected: async () => undefined,
    };
  }
}

function registry(seen: Array<[number, number]>) {
  const src = defineXNode({
    type: 'mig/src',
    outputs: { out: { type: 'xauto/Tensor' } },
    params: { rate: { type: 'float', default: 0 } },
    impls: [{ name: 'js', xpu: 'cpu', backend: 'main', create: () => (_i, f) => ({ out: { dims: [1], data: new Float32Array([f.seq]) } }) }],
  });
  // A running sum of what it was given, and how many: the state that moves.
  const acc = defineXNode({
    type: 'mig/acc',
    stateful: true,
    inputs: { in: { type: 'xauto/Tensor' } },
    outputs: { out: { type: 'xauto/Tensor' } },
    impls: [{
      name: 'js', xpu: 'cpu', backend: 'main', create: (): StatefulInstance => {
        const sum = new Float64Array(2);
        return {
          process: (i) => {
            sum[0]! += (i.in as Tensor).data[0]!;
            sum[1]! += 1;
            return { out: { dims: [2], data: new Float32Array(sum) } };
          },
          state: hostState({ arrays: { sum } }),
        };
      },
    }],
  });
  const sink = defineXNode({
    type: 'mig/sink',
    inputs: { in: { type: 'xauto/Tensor' } },
    impls: [{ name: 'js', xpu: 'cpu', backend: 'main', create: () => (i, f) => (seen.push([f.seq, (i.in as Tensor).data[0]!]), null) }],
  });
  return new XNodeRegistry().register(src, acc, sink);
}

test.serial('a stage moves at frame 10 with its state; frames queued meanwhile reach it in order, a repeat is refused, none is lost', async (t) => {
  const FRAMES = 30;
  const AT = 10;
  const seen: Array<[number, number]> = [];
  const reg = registry(seen);
  const xs = [
    { name: 'src', type: 'mig/src', outputs: { out: '/x1' } },
    { name: 'acc', type: 'mig/acc', inputs: { in: '/x1' }, outputs: { out: '/x2' } },
    { name: 'sink', type: 'mig/sink', inputs: { in: '/x2' } },
  ];
  const graphs = [buildGraph(describeXNodes(xs), reg), buildGraph(describeXNodes(xs), reg)];
  for (const g of graphs) for (const s of g.stages) s.process = 'a';
  const xpus = await discoverXpus({ workers: 1 });
  const bus = new Bus();
  // The hand-over is held until 3 frames reached b; the 2nd frame is delivered twice.
  bus.hold('/_migrate/acc');
  bus.onDelivered = (topic, n, m) => {
    if (topic !== '/x1') return;
    if (n === 2) bus.post(topic, m);
    if (n === 4) bus.release('/_migrate/acc');
  };
  counters.reset();
  const spec = { stage: 1, from: 'a', to: 'b', atFrame: AT };
  const a = new Executor(graphs[0]!, defaultPlan(graphs[0]!, xpus), { xpus, frames: FRAMES, local: { stages: new Set([0, 1, 2]), links: bus.links() }, migration: { ...spec, role: 'source' }, log: () => undefined });
  const b = new Executor(graphs[1]!, defaultPlan(graphs[1]!, xpus), { xpus, frames: FRAMES, local: { stages: new Set([1]), links: bus.links() }, migration: { ...spec, role: 'target' }, log: () => undefined });
  await Promise.all([a.start(), b.start()]);
  // Each process closes once its own run is over (b's end lets a's run end).
  const bDone = b.run().then(() => b.close());
  await a.run();
  await bDone;
  await a.close();

  const want = Array.from({ length: FRAMES }, (_, k): [number, number] => [k, (k * (k + 1)) / 2]);
  t.deepEqual(seen, want, 'every frame once, in order, with the sums an unmoved stage gives');
  const mig = b.report().sections.migration!;
  t.like(mig, { stage: 'acc', from: 'a', to: 'b', moved: true, frame: AT - 1, received: FRAMES - AT, delivered: FRAMES - AT, duplicates: 1, lost: 0 });
  t.true((mig.queued as number) >= 3, `frames that arrived before the state were queued (${mig.queued})`);
  t.like(a.report().sections.migration_source!, { moved: true, frame: AT - 1, forwarded: FRAMES - AT });
  t.is(counters.snapshot()['refused.migration.duplicate'], 1);
  t.deepEqual(a.report().stages.map((s) => s.runs), [FRAMES, AT, FRAMES], 'in a: the sum ran frames 0..9');
  t.deepEqual(b.report().stages.map((s) => s.runs), [FRAMES - AT], 'in b: the rest');
});
