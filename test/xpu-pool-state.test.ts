// The declared state of a stage on a worker thread (runtime/xpu/pool.ts): a snapshot asked for
// between two jobs is as of the end of the first, even with the second sent at once behind it
// (through shared memory it could overtake; it follows the snapshot on the port); it comes back
// as typed arrays, and put back in another pool's worker that stage goes on as the first would.
import test from 'ava';
import { WorkerPool } from '../runtime/xpu/pool.js';
import { pass } from '../xnodes/demo/index.js';

const COUNTER = new URL('./fixtures/workers/counter.worker.ts', import.meta.url).href;
const ctx = { name: 'c', type: 'test/counter', impl: 'worker', xpu: 'pool', params: {}, priority: 0 };
const events = { log: () => {}, count: () => {}, summary: () => {} };
const run = (p: WorkerPool, seq: number) => p.run(0, 0, { in: { v: seq * 1.5 + 1 } }, { seq, t0: 0 });

test('a snapshot between two jobs is as of the first; restored in another worker, the stage goes on alike', async (t) => {
  const a = new WorkerPool(1, events, 'a', true);
  const b = new WorkerPool(1, events, 'b', true);
  try {
    await a.createStage(0, COUNTER, ctx, true);
    await b.createStage(0, COUNTER, ctx, true);
    t.true(a.hasState(0));
    for (let f = 0; f < 5; f++) await run(a, f);
    // Asked for, and frame 5 sent right behind it, without waiting.
    const snap = a.snapshotState(0);
    const after: unknown[] = [];
    for (let f = 5; f < 12; f++) after.push(await run(a, f));
    const s = await snap;
    t.true(s.arrays.sum instanceof Float64Array && s.arrays.seen instanceof Int32Array, 'typed arrays back');
    t.is(s.arrays.sum![0], [0, 1, 2, 3, 4].reduce((n, f) => n + f * 1.5 + 1, 0), 'as of the end of frame 4');
    t.deepEqual(s.data, { last: 4 });

    await b.restoreState(0, s);
    const again: unknown[] = [];
    for (let f = 5; f < 12; f++) again.push(await run(b, f));
    t.deepEqual(again, after, 'frames 5.. from the restored state equal the uninterrupted ones');
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
});

test('a restore of another shape is refused, the state unchanged; a stage without a state has none to reach', async (t) => {
  const p = new WorkerPool(2, events, 'p', true);
  try {
    await p.createStage(0, COUNTER, ctx, true);
    const impl = pass.impls.find((i) => i.backend === 'worker')! as { module: string };
    await p.createStage(1, impl.module, { ...ctx, name: 'p', type: 'demo/pass' }, true);
    await run(p, 0);
    const before = await p.snapshotState(0);
    await t.throwsAsync(p.restoreState(0, { ...before, arrays: { ...before.arrays, seen: new Int32Array(3) } }), { message: /array 'seen' is Int32Array\[3\] in the snapshot, Int32Array\[8\] here/ });
    t.deepEqual(await p.snapshotState(0), before, 'unchanged');
    t.false(p.hasState(1));
    await t.throwsAsync(p.snapshotState(1), { message: /has no state/ });
  } finally {
    await p.close();
  }
});
