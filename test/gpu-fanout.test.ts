// Fanout-aware release of device-resident tensors in the executor's device driver (virtual
// time, real stage code, a real native device): a tensor delivered to several stages keeps its
// ring slot until the last of them took it or dropped it. Every consumer checks the contents it
// reads against its frame (no early reuse), the producer's ring is left with no pin (no leak),
// and drops and failures release what they held. Host consumers get the host copy at the edge.
import test from 'ava';
import { existsSync } from 'node:fs';
import { Executor } from '../runtime/exec/executor.js';
import { defaultPlan } from '../runtime/exec/plan.js';
import { VirtualMachine } from '../runtime/exec/core/virtual.js';
import { buildGraph, describeXNodes } from '../runtime/graph/index.js';
import { FanoutLedger } from '../runtime/gpu/fanout.js';
import { acquireDevice, attachDevice, Device, deviceTensorOf, TensorRing, type DeviceTensor } from '../runtime/gpu/index.js';
import { XNodeRegistry, defineXNode } from '../runtime/xnode/index.js';
import type { ImplContext, PortSpec, StageFn, XNodeDef } from '../runtime/xnode/types.js';
import { discoverXpus } from '../runtime/xpu/discover.js';

const addon = new URL('../native/device/build/Release/xauto_device.node', import.meta.url);
const missing = existsSync(addon) ? undefined : 'native/device is not built (node scripts/build-native.mjs device)';
if (missing) console.log(process.env.CI ? `failing in CI: ${missing}` : `skipped: ${missing}`);
const deviceTest = missing && !process.env.CI ? test.serial.skip : test.serial;

const T = { type: 'xauto/Tensor' } as const;
const N = 64;

interface Seen {
  /** Frames read with the right contents, per consumer. */
  ok: Record<string, number>;
  /** Frames whose tensor held another frame's data (must stay 0). */
  wrong: string[];
  /** Tensors the producer emitted (to check the slots after the run). */
  emitted: DeviceTensor[];
  ring?: TensorRing;
}

/** An XNODE with one device implementation; `make` gets the shared device (its lease goes at close). */
function deviceXNode(type: string, inputs: Record<string, PortSpec>, outputs: Record<string, PortSpec>, make: (ctx: ImplContext, device: Device) => { process: StageFn; close?(): void }): XNodeDef {
  return defineXNode({
    type,
    inputs,
    outputs,
    impls: [
      {
        name: 'device',
        xpu: '*',
        backend: 'device',
        create: (ctx) => {
          const lease = acquireDevice();
          const made = make(ctx, lease.device);
          return {
            process: made.process,
            close() {
              made.close?.();
              lease.release();
            },
          };
        },
      },
    ],
  });
}

/** Producer: frame k's tensor is N floats equal to k, in a ring of 2 slots (reuse comes fast). */
function registry(seen: Seen, opts: { failEvery?: number; producerFailEvery?: number } = {}) {
  const check = (name: string, seq: number, values: Float32Array) => {
    if (values.length === N && values.every((v) => v === seq)) seen.ok[name] = (seen.ok[name] ?? 0) + 1;
    else seen.wrong.push(`${name} frame ${seq}: read ${values[0]} (${values.length} values)`);
  };
  const consumer = (name: string) =>
    deviceXNode(`f/${name}`, { in: { ...T, depth: 2 } }, {}, (ctx, device) => {
      let runs = 0;
      return {
        async process(inputs, f) {
          runs++;
          // A stage that reads its input only after an await (the driver pins it for the run).
          await Promise.resolve();
          const t = deviceTensorOf(inputs.in, device)!;
          const seq = (inputs.in as { seq: number }).seq;
          // The slot's contents as they are, before the ring's own staleness check.
          check(ctx.name, seq, t.buffer.readFloat32(N));
          if (!t.fresh) seen.wrong.push(`${ctx.name} frame ${seq}: its slot was rewritten`);
          if (seq !== f.seq) seen.wrong.push(`${ctx.name}: message of frame ${seq} in frame ${f.seq}`);
          if (opts.failEvery && runs % opts.failEvery === 0) throw new Error(`${ctx.name} fails on purpose`);
          return null;
        },
      };
    });
  return new XNodeRegistry().register(
    defineXNode({
      type: 'f/src',
      outputs: { out: T },
      params: { rate: { type: 'float', default: 1000 } },
      impls: [{ name: 'js', xpu: 'cpu', backend: 'main', create: () => (_i, f) => ({ out: { dims: [1], data: new Float32Array([f.seq]) } }) }],
    }),
    deviceXNode('f/produce', { in: T }, { out: T }, (ctx, device) => {
      const ring = (seen.ring = new TensorRing(device, ctx.name, 2));
      const values = new Float32Array(N);
      let runs = 0;
      return {
        process(_inputs, f) {
          if (opts.producerFailEvery && ++runs % opts.producerFailEvery === 0) throw new Error('producer fails on purpose');
          const t = ring.take(N * 4, [N], 'f32');
          t.buffer.write(values.fill(f.seq));
          seen.emitted.push(t);
          return { out: attachDevice({ dims: [N], seq: f.seq } as unknown as { dims: number[]; data: Float32Array }, 'data', t) };
        },
        close: () => ring.close(),
      };
    }),
    consumer('fast'),
    consumer('slow'),
    // Passes even frames only: a join behind it cannot pair the odd ones (sync drops).
    defineXNode({
      type: 'f/even',
      inputs: { in: T },
      outputs: { out: T },
      impls: [{ name: 'js', xpu: 'cpu', backend: 'main', create: () => (inputs, f) => (f.seq % 2 === 0 ? { out: inputs.in as { dims: number[]; data: Float32Array } } : null) }],
    }),
    deviceXNode('f/join', { in: { ...T, depth: 4 }, even: { ...T, depth: 4 } }, {}, (ctx, device) => ({
      process(inputs) {
        const t = deviceTensorOf(inputs.in, device)!;
        const seq = (inputs.in as { seq: number }).seq;
        check(ctx.name, seq, t.buffer.readFloat32(N));
        if (seq % 2 !== 0) seen.wrong.push(`join paired odd frame ${seq}`);
        return null;
      },
    })),
    defineXNode({
      type: 'f/host',
      inputs: { in: { ...T, depth: 2 } },
      impls: [
        {
          name: 'js',
          xpu: 'cpu',
          backend: 'main',
          create: (ctx) => (inputs) => {
            const m = inputs.in as { seq: number; data: Float32Array };
            check(ctx.name, m.seq, m.data);
            return null;
          },
        },
      ],
    }),
  );
}

type Stages = Parameters<typeof describeXNodes>[0];
const FANOUT: Stages = [
  { name: 'src', type: 'f/src', outputs: { out: '/tick' }, impls: [] },
  { name: 'produce', type: 'f/produce', inputs: { in: '/tick' }, outputs: { out: '/tensor' }, impls: [] },
  { name: 'fast', type: 'f/fast', inputs: { in: '/tensor' }, impls: [] },
  { name: 'slow', type: 'f/slow', inputs: { in: '/tensor' }, impls: [] },
  { name: 'host', type: 'f/host', inputs: { in: '/tensor' }, impls: [] },
];

async function run(seen: Seen, costs: Record<string, number>, frames: number, opts: Parameters<typeof registry>[1] = {}, stages: Stages = FANOUT) {
  const graph = buildGraph(describeXNodes(stages), registry(seen, opts));
  const xpus = await discoverXpus({ workers: 1 });
  const plan = defaultPlan(graph, xpus);
  const name = graph.stages.map((s) => s.name);
  const virtual = {
    machine: new VirtualMachine(),
    costs: { runMs: (s: number) => costs[name[s]!] ?? 0.1, decodeMs: () => 0, encodeMs: () => 0, transferMs: () => 0, usesCores: () => false, pinnedWorker: () => -1 },
  };
  const ex = new Executor(graph, plan, { xpus, frames, realtime: true, virtual, log: () => {} });
  await ex.start();
  await ex.run();
  // Before close: the run is over and drained, so no pin may be left on any emitted slot.
  const readers = seen.emitted.filter((t) => t.fresh).map((t) => t.readers);
  await ex.close();
  const r = ex.report();
  return { r, readers, stats: r.sections.device_tensors as { pinned: number; taken: number; dropped: number; stale: number; left_at_stop: number } };
}

deviceTest('fanout: a device tensor read by a fast and a slow device stage and a host stage is released after its last consumer; contents always its own frame', async (t) => {
  const seen: Seen = { ok: {}, wrong: [], emitted: [] };
  // One frame per ms; the slow consumer takes 2.5 ms, so its two-deep queue holds frames while
  // the producer goes round its two-slot ring several times.
  const { r, readers, stats } = await run(seen, { src: 0.01, produce: 0.2, fast: 0.3, slow: 2.5, host: 0.3 }, 40);
  t.deepEqual(seen.wrong, [], 'no consumer read another frame\'s data');
  t.is(seen.ok.fast, 40, 'the fast consumer read every frame');
  t.is(seen.ok.host, 40, 'the host consumer read every frame (its host copy made at the edge)');
  const slow = r.stages.find((s) => s.name === 'slow')!;
  t.true(slow.drops > 0, 'the slow consumer dropped frames (keep-last)');
  t.is(slow.errors, 0);
  t.is(seen.ok.slow, slow.runs, 'every frame the slow consumer ran, it read correctly');
  t.true(seen.ring!.grew > 0, 'messages waiting at the slow consumer kept their slots (the ring grew instead of reusing them)');
  t.true(seen.ring!.size <= 2 + 2 + 2 + 1, `the ring stays bounded by what can wait or run (size ${seen.ring!.size})`);
  t.deepEqual(readers.filter((n) => n !== 0), [], 'no pin left on any slot');
  t.is(stats.pinned, 3 * 40, 'one pin per subscriber per frame');
  t.is(stats.taken + stats.dropped, stats.pinned, 'every pin released by a take or a drop');
  t.is(stats.left_at_stop, 0);
  t.is(stats.dropped, slow.drops, 'a pin released per dropped message');
});

deviceTest('failures: a consumer that throws after reading, and a producer that fails some frames, leave no pin behind', async (t) => {
  const seen: Seen = { ok: {}, wrong: [], emitted: [] };
  const { r, readers, stats } = await run(seen, { src: 0.01, produce: 0.2, fast: 0.3, slow: 2.5, host: 0.3 }, 30, { failEvery: 4, producerFailEvery: 7 });
  t.deepEqual(seen.wrong, []);
  const produced = r.stages.find((s) => s.name === 'produce')!;
  t.true(produced.errors > 0, 'the producer failed some frames');
  t.true(r.stages.filter((s) => s.name === 'fast' || s.name === 'slow').every((s) => s.errors > 0), 'both device consumers failed some runs');
  t.deepEqual(readers.filter((n) => n !== 0), [], 'no pin left on any slot');
  t.is(stats.taken + stats.dropped, stats.pinned, 'failed runs released what they took');
  t.is(stats.left_at_stop, 0);
  t.is(stats.pinned, 3 * seen.emitted.length, 'a failed producer run emitted nothing and pinned nothing');
});

deviceTest('ledger: a pin stays while its message is in transit or waiting, and goes once it was there and left, or a later one on that input was seen', (t) => {
  const d = new Device();
  const ring = new TensorRing(d, 'producer', 2);
  const waiting = new Map<string, unknown[]>(); // input key -> values waiting there
  const at = (s: number, i: number) => waiting.get(`${s}:${i}`) ?? waiting.set(`${s}:${i}`, []).get(`${s}:${i}`)!;
  const ledger = new FanoutLedger((s, i, v) => at(s, i).includes(v));
  const a = ring.take(16, [4], 'f32'), ma = { a: 1 };
  const b = ring.take(16, [4], 'f32'), mb = { b: 1 };
  ledger.delivered(1, 0, ma, a); // in transit to input (1, 0)
  ledger.reconcile();
  t.is(a.readers, 1, 'in transit: still pinned');
  at(1, 0).push(ma);
  ledger.reconcile();
  at(1, 0).length = 0; // dropped from the queue
  ledger.reconcile();
  t.is(a.readers, 0, 'seen waiting, then gone: released');
  t.is(ledger.stats.dropped, 1);
  // Never seen (delivered and dropped between two looks), passed by a later one that was seen.
  const c = ring.take(16, [4], 'f32'), mc = { c: 1 };
  ledger.delivered(1, 0, mb, b);
  ledger.delivered(1, 0, mc, c);
  at(1, 0).push(mc);
  ledger.reconcile();
  t.is(b.readers, 0, 'passed by a later message that was seen: released');
  t.is(c.readers, 1);
  ledger.took(1, 0, mc);
  at(1, 0).length = 0;
  ledger.reconcile();
  t.is(c.readers, 0, 'taken: released (the run holds it itself)');
  t.deepEqual({ ...ledger.stats }, { pinned: 3, taken: 1, dropped: 2, stale: 0 });
  t.is(ledger.outstanding, 0);
  ring.close();
  d.close();
});

deviceTest('join drops: device tensors a join cannot pair (the other branch skipped their frame) are released; the paired ones read right', async (t) => {
  const seen: Seen = { ok: {}, wrong: [], emitted: [] };
  const stages: Stages = [
    ...FANOUT.slice(0, 3),
    { name: 'even', type: 'f/even', inputs: { in: '/tick' }, outputs: { out: '/even' }, impls: [] },
    { name: 'join', type: 'f/join', inputs: { in: '/tensor', even: '/even' }, impls: [] },
  ];
  const { r, readers, stats } = await run(seen, { src: 0.01, produce: 0.2, fast: 0.3, even: 0.05, join: 0.3 }, 30, {}, stages);
  t.deepEqual(seen.wrong, []);
  t.is(seen.ok.join, 15, 'the join ran the 15 even frames, each with its own contents');
  t.is(seen.ok.fast, 30);
  // On virtual time the last drop comes after the last job: the driver releases it at stop.
  t.true(readers.every((n) => n <= 1));
  t.is(stats.left_at_stop, 0, 'no pin left when the run stopped');
  t.is(stats.pinned, 2 * 30);
  t.is(stats.dropped, 15, 'the 15 odd frames the join dropped released their pins');
  t.is(stats.taken + stats.dropped, stats.pinned);
  t.is(r.stages.find((s) => s.name === 'join')!.runs, 15);
});
