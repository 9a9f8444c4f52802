// The worker hop through shared memory: the slot layout round-trips every kind of port value,
// refuses what does not fit (the caller posts it instead), and a pool gives the same results
// through shared memory as through postMessage.
import test from 'ava';
import { readRequest, readResult, writeRequest, writeResult } from '../runtime/xpu/wire.js';
import { WorkerPool } from '../runtime/xpu/pool.js';
import { pass } from '../xnodes/demo/index.js';

test('a run request and its result round-trip through a slot: tensors, other values, null, errors', (t) => {
  const slot = new Uint8Array(new SharedArrayBuffer(4096));
  const data = new Float32Array([1.5, -2, 3.25]);
  const req = { call: 7, id: 3, frame: { seq: 42, t0: 1234.5 }, inputs: { in: { dims: [3], data }, info: { k: 'v', n: [1, 2] }, gone: undefined } };
  t.true(writeRequest(slot, req) > 0);
  t.deepEqual(readRequest(slot), req);
  const back = readRequest(slot).inputs.in as { data: Float32Array };
  t.false(back.data.buffer instanceof SharedArrayBuffer, 'a tensor read out owns its memory');
  t.true(writeResult(slot, { call: 7, outputs: { out: { dims: [3], data } } }) > 0);
  t.deepEqual(readResult(slot), { call: 7, outputs: { out: { dims: [3], data } } });
  t.true(writeResult(slot, { call: 8, outputs: null }) > 0);
  t.deepEqual(readResult(slot), { call: 8, outputs: null });
  t.true(writeResult(slot, { call: 9, outputs: null, error: 'bad frame ü' }) > 0);
  t.deepEqual(readResult(slot), { call: 9, outputs: null, error: 'bad frame ü' });
  // A tensor with more on it than dims and data keeps everything (it goes v8-serialized).
  const rich = { dims: [1], data: new Float32Array(1), frame: 'lidar' };
  t.true(writeRequest(slot, { ...req, inputs: { in: rich } }) > 0);
  t.deepEqual(readRequest(slot).inputs.in, rich);
  t.is(writeRequest(slot, { ...req, inputs: { in: { dims: [2000], data: new Float32Array(2000) } } }), -1, 'too big for the slot: refused');
});

test('a pool gives the same results through shared memory as by postMessage, large messages included', async (t) => {
  const impl = pass.impls.find((i) => i.backend === 'worker')! as { module: string };
  const ctx = { name: 'p', type: 'demo/pass', impl: 'worker', xpu: 'pool', params: {}, priority: 0 };
  const events = { log: () => {}, count: () => {}, summary: () => {} };
  const pools = [new WorkerPool(1, events, 'post', false), new WorkerPool(1, events, 'shared', true)];
  try {
    for (const p of pools) await p.createStage(0, impl.module, ctx, false);
    for (const floats of [4, 1000, 200_000]) {
      const outs = [];
      for (const p of pools) {
        const data = Float32Array.from({ length: floats }, (_, i) => i * 0.5);
        outs.push(await p.run(0, 0, { in: { dims: [floats], data } }, { seq: 1, t0: 0 }));
      }
      t.deepEqual(outs[1], outs[0], `${floats} floats`);
      t.is((outs[1]!.out as { data: Float32Array }).data[floats - 1], (floats - 1) * 0.5);
    }
  } finally {
    await Promise.all(pools.map((p) => p.close()));
  }
});
