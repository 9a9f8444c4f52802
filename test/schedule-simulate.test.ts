import test from 'ava';
import type { Assignment, CostModel } from '../runtime/schedule/model.js';
import { simulate } from '../runtime/schedule/simulate.js';
import { model, on } from '../runtime/schedule/synthetic.js';

const assign = (m: CostModel, where: Record<string, string>, prio: Record<string, number> = {}, extra: Partial<Assignment> = {}): Assignment => ({
  option: m.stages.map((s) => on(m, s.name, where[s.name]!)),
  priority: m.stages.map((s) => prio[s.name] ?? 0),
  ...extra,
});

const sinkE2e = (m: CostModel, r: ReturnType<typeof simulate>, name: string) => r.e2eBySink.get(m.stages.findIndex((s) => s.name === name))!;

test('a chain on free XPUs: e2e is the sum of its stages', (t) => {
  const m = model([{ id: 'x' }, { id: 'y' }], [
    { name: 'src', cost: { x: 1 }, periodMs: 100 },
    { name: 'A', cost: { y: 3 }, from: ['src'] },
    { name: 'B', cost: { x: 2 }, from: ['A'] },
  ]);
  const r = simulate(m, assign(m, { src: 'x', A: 'y', B: 'x' }), { frames: 5 });
  t.is(r.e2e.count, 5);
  t.true(Math.abs(r.e2e.p50 - 6) < 1e-6);
  t.true(Math.abs(r.e2e.max - 6) < 1e-6);
  t.is(r.stages[1]!.runs, 5);
});

test('a single-lane XPU serves the higher priority first', (t) => {
  const m = model([{ id: 'cpu' }, { id: 'gpu' }], [
    { name: 'src', cost: { cpu: 1 } },
    { name: 'A', cost: { gpu: 10 }, from: ['src'] },
    { name: 'B', cost: { gpu: 5 }, from: ['src'] },
  ]);
  const hiA = simulate(m, assign(m, { src: 'cpu', A: 'gpu', B: 'gpu' }, { A: 2, B: 1 }), { frames: 3 });
  t.true(Math.abs(sinkE2e(m, hiA, 'A').p50 - 11) < 1e-6);
  t.true(Math.abs(sinkE2e(m, hiA, 'B').p50 - 16) < 1e-6);
  const hiB = simulate(m, assign(m, { src: 'cpu', A: 'gpu', B: 'gpu' }, { A: 1, B: 2 }), { frames: 3 });
  t.true(Math.abs(sinkE2e(m, hiB, 'B').p50 - 6) < 1e-6);
  t.true(Math.abs(sinkE2e(m, hiB, 'A').p50 - 16) < 1e-6);
});

test('event loop: a completion elsewhere waits for a synchronous main-thread stage; cores are shared', (t) => {
  const build = (cores: number) =>
    model(
      [{ id: 'main', eventLoop: true, usesCores: true }, { id: 'pool', usesCores: true }, { id: 'io' }],
      [
        { name: 'src', cost: { io: 1, main: 1 } },
        { name: 'M', cost: { main: 10 }, from: ['src'] },
        { name: 'W', cost: { pool: 2 }, from: ['src'] },
      ],
      cores,
    );
  const where = { src: 'io', M: 'main', W: 'pool' };
  // When src completes at 1, the executor marks io, main, pool dirty and pumps the last first:
  // W is dispatched, then M runs synchronously until 11. W's work ends at 3, but the event
  // loop only sees it at 11.
  const free = build(Infinity);
  const a = simulate(free, assign(free, where), { frames: 2 });
  t.true(Math.abs(sinkE2e(free, a, 'W').p50 - 11) < 1e-6);
  t.true(Math.abs(sinkE2e(free, a, 'M').p50 - 11) < 1e-6);
  // One core: from 1 to 5 both run at half speed (W's 2 ms done), then M alone for its last 8.
  const one = build(1);
  const b = simulate(one, assign(one, where), { frames: 2 });
  t.true(Math.abs(sinkE2e(one, b, 'M').p50 - 13) < 1e-6);
  t.true(Math.abs(sinkE2e(one, b, 'W').p50 - 13) < 1e-6);
  // Work elsewhere is dispatched before the event loop runs its next stage: with src on main
  // too, W starts at 1 (ends at 3), then M runs 1..11; the loop sees W's end at 11.
  const same = build(Infinity);
  const c = simulate(same, assign(same, { ...where, src: 'main' }), { frames: 2 });
  t.true(Math.abs(sinkE2e(same, c, 'W').p50 - 11) < 1e-6);
  t.true(Math.abs(sinkE2e(same, c, 'M').p50 - 11) < 1e-6);
});

test('event loop: between two main-thread stages, completions already in are taken in first', (t) => {
  const m = model(
    [{ id: 'main', eventLoop: true, usesCores: true }, { id: 'pool', usesCores: true }, { id: 'io' }],
    [
      { name: 'src', cost: { io: 1 } },
      { name: 'M1', cost: { main: 10 }, from: ['src'] },
      { name: 'M2', cost: { main: 5 }, from: ['M1'] },
      { name: 'W', cost: { pool: 2 }, from: ['src'] },
      { name: 'W2', cost: { pool: 8 }, from: ['W'] },
    ],
    Infinity,
  );
  // W ends at 3 while M1 runs 1..11; its completion is taken in at 11, before M2 (11..16),
  // so W2 runs 11..19 instead of 16..24 after M2.
  const r = simulate(m, assign(m, { src: 'io', M1: 'main', M2: 'main', W: 'pool', W2: 'pool' }), { frames: 2 });
  t.true(Math.abs(sinkE2e(m, r, 'W2').p50 - 19) < 1e-6);
  t.true(Math.abs(sinkE2e(m, r, 'M2').p50 - 16) < 1e-6);
});

test('keep-last depth 1: a slow stage takes the freshest frame and the skipped ones count as drops', (t) => {
  const m = model([{ id: 'x' }, { id: 'y' }], [
    { name: 'src', cost: { x: 0 }, periodMs: 10 },
    { name: 'A', cost: { y: 24 }, from: ['src'] },
  ]);
  const r = simulate(m, assign(m, { src: 'x', A: 'y' }), { frames: 10 });
  // Runs on frames 0, 2, 4, 7, 9 (at 0, 24, 48, 72, 96); frames 1, 3, 5, 6, 8 are replaced.
  t.is(r.stages[1]!.runs, 5);
  t.is(r.stages[1]!.drops, 5);
  t.is(r.e2e.count, 5);
  t.true(Math.abs(r.e2e.p50 - 28) < 1e-3); // median of 24, 28, 32, 26, 30
  t.true(Math.abs(r.e2e.max - 32) < 1e-3);
  t.is(r.overruns, 0);
});

test('a source still busy when its next tick comes overruns (that frame is lost)', (t) => {
  const m = model([{ id: 'x' }], [
    { name: 'src', cost: { x: 15 }, periodMs: 10 },
    { name: 'A', cost: { x: 1 }, from: ['src'] },
  ]);
  const r = simulate(m, assign(m, { src: 'x', A: 'x' }), { frames: 6 });
  t.true(r.overruns > 0);
  t.is(r.emitted, 6);
  t.is(r.stages[0]!.runs + r.overruns, 6);
});

test('serialization between modules: encode on publish, decode inside the consumer', (t) => {
  const board = model([{ id: 'x' }, { id: 'y' }], [
    { name: 'src', cost: { x: 1 }, module: 'm1', encodeMs: 1, decodeMs: 2 },
    { name: 'A', cost: { y: 3 }, from: ['src'], module: 'm2' },
  ]);
  const plain = simulate(board, assign(board, { src: 'x', A: 'y' }), { frames: 3 });
  t.true(Math.abs(plain.e2e.p50 - 4) < 1e-6);
  const ser = simulate(board, assign(board, { src: 'x', A: 'y' }, {}, { serialize: true }), { frames: 3 });
  t.true(Math.abs(ser.e2e.p50 - 7) < 1e-6);
  // On this host both happen on the event loop: the same 1 + 1 + 2 + 3.
  const host = model([{ id: 'main', eventLoop: true }, { id: 'pool' }], [
    { name: 'src', cost: { pool: 1 }, module: 'm1', encodeMs: 1, decodeMs: 2 },
    { name: 'A', cost: { main: 3 }, from: ['src'], module: 'm2' },
  ]);
  const h = simulate(host, assign(host, { src: 'pool', A: 'main' }, {}, { serialize: true }), { frames: 3 });
  t.true(Math.abs(h.e2e.p50 - 7) < 1e-6);
  t.true(Math.abs(h.stages[1]!.run.p50 - 5) < 1e-6); // decode counts in the consumer's run time
});

test('an exclusive group (one ROS2 node) never runs two of its stages at once', (t) => {
  const m = model([{ id: 'x' }, { id: 'y' }, { id: 'z' }], [
    { name: 'src', cost: { x: 1 } },
    { name: 'A', cost: { y: 5 }, from: ['src'] },
    { name: 'B', cost: { z: 5 }, from: ['src'] },
  ]);
  const where = { src: 'x', A: 'y', B: 'z' };
  const apart = simulate(m, assign(m, where, { A: 1 }), { frames: 2 });
  t.true(Math.abs(sinkE2e(m, apart, 'B').p50 - 6) < 1e-6);
  // Both become ready at 1 on different XPUs; the executor pumps the XPU marked last (B's)
  // first, and A waits for the group.
  const grouped = simulate(m, assign(m, where, { A: 1 }, { group: [undefined, 'node', 'node'] }), { frames: 2 });
  t.true(Math.abs(sinkE2e(m, grouped, 'B').p50 - 6) < 1e-6);
  t.true(Math.abs(sinkE2e(m, grouped, 'A').p50 - 11) < 1e-6);
});

test('declared transfers delay delivery between XPU memories', (t) => {
  const m = model([{ id: 'cpu' }, { id: 'gpu', transferMs: 0.5 }], [
    { name: 'src', cost: { cpu: 1 } },
    { name: 'A', cost: { gpu: 2 }, from: ['src'] },
    { name: 'B', cost: { cpu: 1 }, from: ['A'] },
  ]);
  const r = simulate(m, assign(m, { src: 'cpu', A: 'gpu', B: 'cpu' }), { frames: 2 });
  t.true(Math.abs(r.e2e.p50 - (1 + 0.5 + 2 + 0.5 + 1)) < 1e-6);
});

test('sampling draws from the distribution, reproducibly per seed', (t) => {
  const m = model([{ id: 'x' }], [{ name: 'src', cost: { x: 1 }, periodMs: 50 }]);
  m.stages[0]!.options[0]!.lat.q = [0.5, 0.6, 0.8, 1, 1.2, 1.5, 2.5, 3];
  const a = simulate(m, assign(m, { src: 'x' }), { frames: 400, sample: true, seed: 3 });
  const b = simulate(m, assign(m, { src: 'x' }), { frames: 400, sample: true, seed: 3 });
  t.is(a.e2e.p50, b.e2e.p50);
  t.true(a.e2e.max > 1.5 && a.e2e.p50 > 0.8 && a.e2e.p50 < 1.2);
});

test('contention: a memory-bound stage slows down beside a busy neighbour sharing its memory', (t) => {
  const build = (contention: number) => {
    const m = model(
      [{ id: 'c1', usesCores: true }, { id: 'c2', usesCores: true }, { id: 'io' }],
      [
        { name: 'src', cost: { io: 1 } },
        { name: 'A', cost: { c1: 10 }, from: ['src'] },
        { name: 'B', cost: { c2: 4 }, from: ['src'] },
      ],
      2,
    );
    m.stages[1]!.options[0]!.lat.contention = contention;
    return m;
  };
  const where = { src: 'io', A: 'c1', B: 'c2' };
  const free = build(0);
  t.true(Math.abs(sinkE2e(free, simulate(free, assign(free, where), { frames: 2 }), 'A').p50 - 11) < 1e-6);
  // A runs at 1/1.5 speed while B runs (1..5: 8/3 ms of A done), then alone for the rest.
  const slow = build(0.5);
  const r = simulate(slow, assign(slow, where), { frames: 2 });
  t.true(Math.abs(sinkE2e(slow, r, 'A').p50 - (1 + 4 + (10 - 4 / 1.5))) < 1e-6, String(sinkE2e(slow, r, 'A').p50));
  t.true(Math.abs(sinkE2e(slow, r, 'B').p50 - 5) < 1e-6, 'B declared no contention');
});

test('a join behind a transfer: frames in transit are not taken for lost', (t) => {
  const m = model([{ id: 'x' }, { id: 'y', transferMs: 2 }], [
    { name: 'src', cost: { x: 1 }, periodMs: 50 },
    { name: 'A', cost: { y: 3 }, from: ['src'] },
    { name: 'B', cost: { x: 1 }, from: ['src'] },
    { name: 'J', cost: { x: 1 }, from: ['A', 'B'] },
  ]);
  const r = simulate(m, assign(m, { src: 'x', A: 'y', B: 'x', J: 'x' }), { frames: 10 });
  t.is(r.stages[3]!.runs, 10);
  t.is(r.stages[3]!.drops, 0);
});
