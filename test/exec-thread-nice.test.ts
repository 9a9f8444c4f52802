// Thread priorities beside the paced-tick rule (runtime/exec/core/reserve.ts, threadNice):
// the top paced stage runs its jobs at PACED_NICE, stages ranked below it at BULK_NICE, and a
// worker thread shared by stages of both ranks goes back up for the paced one's job and waits
// for the next at the paced one's nice. Going
// back up needs CAP_SYS_NICE; without it the executor leaves every thread at 0, and a thread
// here must stay there (the other branch of the same check).
import { readFileSync } from 'node:fs';
import { getPriority } from 'node:os';
import test from 'ava';
import { BULK_NICE, isPacedSpec, PACED_NICE, threadNice } from '../runtime/exec/core/reserve.js';
import { threadNiceAllowed } from '../runtime/util/thread-nice.js';
import { WorkerPool } from '../runtime/xpu/pool.js';

const NICE = new URL('./fixtures/workers/nice.worker.ts', import.meta.url).href;
const events = { log: () => {}, count: () => {}, summary: () => {} };
const ctx = (name: string, nice: number) => ({ name, type: 'test/nice', impl: 'worker', xpu: 'pool', params: {}, priority: 0, nice });

test('the top paced stage runs above 0, stages ranked below it are niced; all 0 without a paced stage or below it', (t) => {
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
  t.deepEqual(threadNice(stages), [BULK_NICE, PACED_NICE, 0, BULK_NICE, BULK_NICE]);
  t.deepEqual(threadNice(stages.map((s) => ({ ...s, paced: false }))), [0, 0, 0, 0, 0]);
  t.deepEqual(threadNice([{ paced: true, priority: 0 }, { paced: false, priority: 0 }]), [0, 0], 'nothing ranked below');
});

/** The nice of thread `tid` of this process, as the kernel has it now. */
const niceNow = (tid: number) => Number(readFileSync(`/proc/self/task/${tid}/stat`, 'utf8').split(') ')[1]!.split(' ')[16]);

test('a worker thread runs each stage job at its nice, goes back up for the paced one and waits at its nice', async (t) => {
  const pool = new WorkerPool(1, events, 'pool', true);
  const allowed = threadNiceAllowed();
  t.log(allowed ? 'CAP_SYS_NICE: thread priorities change per job' : 'no CAP_SYS_NICE: thread priorities stay at 0 (the executor does not ask)');
  try {
    await pool.createStage(0, NICE, ctx('bulk', allowed ? BULK_NICE : 0), false);
    await pool.createStage(1, NICE, ctx('paced', allowed ? PACED_NICE : 0), false);
    const job = async (stage: number) => ((await pool.run(0, stage, {}, { seq: 0, t0: 0 })) as { out: { nice: number; tid: number } }).out;
    for (let round = 0; round < 3; round++) {
      const bulk = await job(0);
      t.is(bulk.nice, allowed ? BULK_NICE : 0, `bulk job, round ${round}`);
      // Between jobs the thread goes back to the paced stage's nice before it sleeps.
      const until = Date.now() + 10_000;
      while (niceNow(bulk.tid) !== (allowed ? PACED_NICE : 0) && Date.now() < until) await new Promise((r) => setTimeout(r, 5));
      t.is(niceNow(bulk.tid), allowed ? PACED_NICE : 0, `idle after the bulk job, round ${round}`);
      t.is((await job(1)).nice, allowed ? PACED_NICE : 0, `paced job, round ${round}`);
    }
    t.is(getPriority(0), 0, 'the event loop thread is left alone');
  } finally {
    await pool.close();
  }
});
