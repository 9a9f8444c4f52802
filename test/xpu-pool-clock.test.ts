// FrameInfo.t0 is a performance.now() time of the main thread. A stage on a pool worker compares
// it with its own performance.now() (how late is this frame?): the two clocks must share their
// origin, as Node's worker threads do (performance.timeOrigin is the process's).
import test from 'ava';
import { performance } from 'node:perf_hooks';
import { WorkerPool } from '../runtime/xpu/pool.js';

const AGE = new URL('./fixtures/workers/age.worker.ts', import.meta.url).href;
const ctx = { name: 'age', type: 'test/age', impl: 'worker', xpu: 'pool', params: {}, priority: 0 };
const events = { log: () => {}, count: () => {}, summary: () => {} };

for (const shared of [true, false]) {
  test(`a worker stage reads its frame's t0 on its own clock (${shared ? 'shared memory' : 'postMessage'})`, async (t) => {
    // Started late: a worker clock counting from its own start would read t0 in its future.
    await new Promise((r) => setTimeout(r, 300));
    const pool = new WorkerPool(1, events, 'clock', shared);
    try {
      await pool.createStage(0, AGE, ctx, false);
      const t0 = performance.now();
      const { out } = (await pool.run(0, 0, {}, { seq: 1, t0 })) as { out: { age: number } };
      const waited = performance.now() - t0;
      t.true(out.age >= 0, `age ${out.age} ms: the worker saw a t0 in its future`);
      t.true(out.age <= waited, `age ${out.age} ms, longer than the ${waited} ms the call took`);
    } finally {
      await pool.close();
    }
  });
}
