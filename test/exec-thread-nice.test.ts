// Thread priorities beside the paced-tick rule (runtime/exec/core/reserve.ts, threadNice):
// stages ranked below the top paced stage run their jobs at BULK_NICE on their threads, and a
// worker thread shared by stages of both ranks goes back up for the paced one's job. Going
// back up needs CAP_SYS_NICE; without it the executor leaves every thread at 0, and a thread
// here must stay there (the other branch of the same check).
import { getPriority } from 'node:os';
import test from 'ava';
import { BULK_NICE, isPacedSpec, threadNice } from '../runtime/exec/core/reserve.js';
import { threadNiceAllowed } from '../runtime/util/thread-nice.js';
import { WorkerPool } from '../runtime/xpu/pool.js';

const NICE = new URL('./fixtures/workers/nice.worker.ts', import.meta.url).href;
const events = { log: () => {}, count: () => {}, summary: () => {} };
const ctx = (name: string, nice: number) => ({ name, type: 'test/nice', impl: 'worker', xpu: 'pool', params: {}, priority: 0, nice });

test('stages ranked below the top paced stage are niced; none without a paced stage', (t) => {
  const paced = (periodMs: number, inputs: number) => isPacedSpec({ periodMs, inputs: Array.from({ length: inputs }) });
  t.true(paced(100, 2));
  t.false(paced(100, 0), 'a sensor timer reads nothing: not paced');
  t.false(paced(0, 1), 'input-driven: not paced');
  const stages = [
    { paced: false, priority: 2 },
    { paced: true, priority: 3 },
    { paced: false, priority: 3 },
    { paced: true, priority: 1 },
    { paced: false, priority: 0 },
  ];
  t.deepEqual(threadNice(stages), [BULK_NICE, 0, 0, BULK_NICE, BULK_NICE]);
  t.deepEqual(threadNice(stages.map((s) => ({ ...s, paced: false }))), [0, 0, 0, 0, 0]);
  t.deepEqual(threadNice([{ paced: true, priority: 0 }, { paced: false, priority: 0 }]), [0, 0], 'nothing ranked below');
});

test('a worker thread runs each stage job at its nice and goes back up for the paced one', async (t) => {
  const pool = new WorkerPool(1, events, 'pool', true);
  const allowed = threadNiceAllowed();
  t.log(allowed ? 'CAP_SYS_NICE: thread priorities change per job' : 'no CAP_SYS_NICE: thread priorities stay at 0 (the executor does not ask)');
  try {
    await pool.createStage(0, NICE, ctx('bulk', allowed ? BULK_NICE : 0), false);
    await pool.createStage(1, NICE, ctx('paced', 0), false);
    const niceOf = async (stage: number) => ((await pool.run(0, stage, {}, { seq: 0, t0: 0 })) as { out: { nice: number } }).out.nice;
    for (let round = 0; round < 3; round++) {
      t.is(await niceOf(0), allowed ? BULK_NICE : 0, `bulk job, round ${round}`);
      t.is(await niceOf(1), 0, `paced job, round ${round}`);
    }
    t.is(getPriority(0), 0, 'the event loop thread is left alone');
  } finally {
    await pool.close();
  }
});
