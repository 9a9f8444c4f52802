// The gpudemo XNODEs: device and JS implementations agree, and on the shared device the
// safety-critical brake stage preempts the best-effort heavy stage (idempotent GEMM killed
// and relaunched, result unchanged), with the counters the launch report prints.
import test from 'ava';
import { setTimeout as sleep } from 'node:timers/promises';
import { counters } from '../runtime/trace/counters.js';
import type { Tensor } from '../runtime/xnode/index.js';
import { brake, heavy, obstacles } from '../xnodes/gpudemo/index.js';
import { instantiate } from './fixtures/instantiate.js';

const frame = (seq: number) => ({ seq, t0: 0 });
const tensor = (seq: number, n = 4096): Tensor => ({ dims: [n], data: new Float32Array(n).fill(seq) });

test.serial('heavy and brake: device and JS implementations give the same outputs', async (t) => {
  const params = { rows: 96, k: 32, n: 48 };
  const dev = await instantiate(heavy, 'device', params, 0);
  const js = await instantiate(heavy, 'js', params, 0);
  for (let seq = 0; seq < 4; seq++) {
    const a = ((await dev.process({ in: tensor(seq) }, frame(seq))) as { out: Tensor }).out;
    const b = ((await js.process({ in: tensor(seq) }, frame(seq))) as { out: Tensor }).out;
    t.deepEqual(a.dims, [48]);
    for (let i = 0; i < 48; i++) t.true(Math.abs(a.data[i]! - b.data[i]!) <= 1e-3 * Math.max(1, Math.abs(b.data[i]!)));
  }
  await dev.close?.();
  const src = await instantiate(obstacles, 'js', {}, 0);
  const bd = await instantiate(brake, 'device', {}, 10);
  const bj = await instantiate(brake, 'js', {}, 10);
  for (let seq = 0; seq < 20; seq++) {
    const obs = ((await src.process({}, frame(seq))) as { out: Tensor }).out;
    const a = ((await bd.process({ obstacles: obs }, frame(seq))) as { cmd: Tensor }).cmd;
    const b = ((await bj.process({ obstacles: obs }, frame(seq))) as { cmd: Tensor }).cmd;
    t.deepEqual([...a.data], [...b.data]);
  }
  await bd.close?.();
});

test.serial('the high-priority brake stage preempts the best-effort heavy stage on the shared device', async (t) => {
  counters.reset();
  const params = { rows: 6000, k: 128, n: 128 };
  const heavyDev = await instantiate(heavy, 'device', params, 0);
  const heavyJs = await instantiate(heavy, 'js', params, 0);
  const brakeDev = await instantiate(brake, 'device', {}, 10);
  const src = await instantiate(obstacles, 'js', {}, 0);
  let heavyDone = false;
  const h = Promise.resolve(heavyDev.process({ in: tensor(3) }, frame(3))).then((r) => ((heavyDone = true), r));
  let during = 0;
  for (let seq = 0; seq < 10; seq++) {
    await sleep(2);
    const obs = ((await src.process({}, frame(seq))) as { out: Tensor }).out;
    await brakeDev.process({ obstacles: obs }, frame(seq));
    if (!heavyDone) during++;
  }
  const out = ((await h) as { out: Tensor }).out;
  t.true(during >= 3, `${during} brake frames completed while the heavy GEMM was still running`);
  t.true(counters.get('gpu.preemptions') >= 1);
  t.is(counters.get('gpu.relaunches'), counters.get('gpu.preemptions'));
  // Killed and relaunched, the heavy result is still exact.
  const ref = ((await heavyJs.process({ in: tensor(3) }, frame(3))) as { out: Tensor }).out;
  for (let i = 0; i < 128; i++) t.true(Math.abs(out.data[i]! - ref.data[i]!) <= 1e-3 * Math.max(1, Math.abs(ref.data[i]!)));
  await heavyDev.close?.();
  await brakeDev.close?.();
});

test.serial('heavy with policy save: the non-idempotent running sum is saved before launch', async (t) => {
  counters.reset();
  const dev = await instantiate(heavy, 'device', { rows: 32, k: 16, n: 64, policy: 'save' }, 0);
  await dev.process({ in: tensor(1) }, frame(1));
  t.is(counters.get('gpu.saved_bytes'), 64 * 4);
  await dev.close?.();
});
