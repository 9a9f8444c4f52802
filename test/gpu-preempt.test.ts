// Idempotency-aware preemption on the device threads: idempotent work is killed at a block
// boundary and relaunched with bit-identical results; non-idempotent work is never killed
// unless its stream saved what it overwrites; priorities order the queue.
import test from 'ava';
import { setTimeout as sleep } from 'node:timers/promises';
import { prng } from '../runtime/gpu/corpus.js';
import { Device, type DeviceBuffer, type KernelArgs, type LaunchResult } from '../runtime/gpu/index.js';
import { deviceAddon } from '../runtime/gpu/native.js';

const rand = prng(42);
// Arrivals are timed to land while a long kernel runs: on the CUDA backend kernels are orders
// of magnitude faster than on the host backend's CPU threads, so they are made longer there.
const LONG = deviceAddon().backend === 'cuda' ? 64 : 1;
const randomFloats = (n: number) => Float32Array.from({ length: n }, () => Math.round((rand() - 0.5) * 16) / 4);

/** Expected contents of `out` after an uninterrupted run on copies of `inputs`. */
function uninterrupted(d: Device, kernel: string, roots: DeviceBuffer[], makeArgs: (r: DeviceBuffer[]) => KernelArgs, out: number): Uint8Array {
  const copies = roots.map((b) => d.upload(b.read(new Uint8Array(b.bytes))));
  const grid = d.runBlocks(kernel, makeArgs(copies), 0, 0);
  d.runBlocks(kernel, makeArgs(copies), 0, grid);
  const r = copies[out]!.read(new Uint8Array(copies[out]!.bytes));
  copies.forEach((c) => c.free());
  return r;
}

const bytes = (b: DeviceBuffer) => b.read(new Uint8Array(b.bytes));
// Byte equality without ava's structural diff (slow on megabyte arrays).
const same = (a: Uint8Array, b: Uint8Array) => Buffer.compare(a, b) === 0;

test.serial('killing an idempotent instance after a random number of blocks and relaunching is bit-identical', async (t) => {
  const d = new Device();
  const M = 1200 * LONG, N = 160, K = 160;
  const A = d.upload(randomFloats(M * K)), B = d.upload(randomFloats(K * N)), C = d.upload(randomFloats(M * N));
  const args = (r: DeviceBuffer[]) => ({ M, N, K, alpha: 0.5, beta: 0, A: r[0]!, B: r[1]!, C: r[2]! });
  const expected = uninterrupted(d, 'gemm', [A, B, C], args, 2);
  const lo = d.stream({ priority: 0 }), hi = d.stream({ priority: 5 });
  const x = d.upload(randomFloats(4096)), y = d.alloc(4096 * 4);
  let preempted = 0;
  for (let trial = 0; trial < 8; trial++) {
    C.write(randomFloats(M * N)); // garbage in the output before every run
    const be = lo.launch('gemm', args([A, B, C]));
    t.true(be.idempotent);
    await sleep(1 + Math.floor(rand() * 4));
    // a burst of high-priority work at a random point of the long kernel
    const hp = [0, 1, 2].map(() => hi.launch('scale', { n: 4096, s: 2, x, y }));
    const r = await be.done;
    const h = await Promise.all(hp.map((l) => l.done));
    t.true(same(bytes(C), expected), `trial ${trial}`);
    if (r.preemptions > 0) {
      preempted++;
      t.true(r.blocksRun > r.grid, 'blocks before the kill were thrown away and redone');
      t.true(h[0]!.firstStartUs < r.endUs, 'high-priority work ran before the best-effort kernel finished');
    }
  }
  t.true(preempted >= 4, `${preempted} of 8 runs were preempted`);
  const s = d.stats();
  t.is(s.relaunches, s.preemptions);
  t.true(s.blocksDiscarded > 0);
  d.close();
});

test.serial('a non-idempotent instance on a `wait` stream is never killed: high-priority work waits', async (t) => {
  const d = new Device();
  const M = 1200 * LONG, N = 160, K = 160;
  const A = d.upload(randomFloats(M * K)), B = d.upload(randomFloats(K * N)), C = d.upload(randomFloats(M * N));
  const args = (r: DeviceBuffer[]) => ({ M, N, K, alpha: 1, beta: 1, A: r[0]!, B: r[1]!, C: r[2]! });
  const lo = d.stream({ priority: 0, policy: 'wait' }), hi = d.stream({ priority: 9 });
  const x = d.upload(randomFloats(1024)), y = d.alloc(4096);
  let overlapped = 0;
  // On a busy machine the device thread may start late: retry until the high-priority launch
  // really arrives while the non-idempotent one runs.
  for (let attempt = 0; attempt < 6 && overlapped < 2; attempt++) {
    const expected = uninterrupted(d, 'gemm', [A, B, C], args, 2);
    const be = lo.launch('gemm', args([A, B, C]));
    t.false(be.idempotent);
    await sleep(2);
    const hp = hi.launch('scale', { n: 1024, s: 3, x, y });
    const [r, h] = await Promise.all([be.done, hp.done]);
    t.is(r.preemptions, 0);
    t.is(r.blocksRun, r.grid);
    t.true(same(bytes(C), expected));
    if (h.enqueueUs > r.firstStartUs && h.enqueueUs < r.endUs) {
      overlapped++;
      t.true(h.firstStartUs >= r.endUs, 'the high-priority launch started after the non-idempotent one ended');
    }
  }
  t.true(overlapped >= 1, 'a high-priority launch arrived while the non-idempotent one ran');
  t.is(d.stats().preemptions, 0);
  t.true(d.stats().waitedUnpreemptible >= overlapped);
  d.close();
});

test.serial('a `save` stream makes non-idempotent work re-executable: saved, killed, restored, relaunched', async (t) => {
  const d = new Device();
  const M = 2400 * LONG, N = 96, K = 96;
  const A = d.upload(randomFloats(M * K)), B = d.upload(randomFloats(K * N)), C = d.upload(randomFloats(M * N));
  const gemmArgs = (r: DeviceBuffer[]) => ({ M, N, K, alpha: 1, beta: 0.5, A: r[0]!, B: r[1]!, C: r[2]! });
  // c = a + b with c overlapping a half-way: non-idempotent through a partial overlap
  const n = 1 << 20;
  const pool = d.upload(randomFloats(n * 2)), b = d.upload(randomFloats(n));
  const addArgs = (r: DeviceBuffer[]) => ({ n, a: r[0]!.at(0), b: r[1]!, c: r[0]!.at(n * 2) });
  const lo = d.stream({ priority: 0, policy: 'save' }), hi = d.stream({ priority: 9 });
  const x = d.upload(randomFloats(1024)), y = d.alloc(4096);
  const results: LaunchResult[] = [];
  // Enough trials that high-priority arrivals hit both kernels, even on a busy machine.
  for (let trial = 0; trial < 8 && (trial < 3 || !results.some((r) => r.preemptions > 0)); trial++) {
    C.write(randomFloats(M * N));
    pool.write(randomFloats(n * 2));
    const expectC = uninterrupted(d, 'gemm', [A, B, C], gemmArgs, 2);
    const expectPool = uninterrupted(d, 'add', [pool, b], addArgs, 0);
    const g = lo.launch('gemm', gemmArgs([A, B, C]));
    const a = lo.launch('add', addArgs([pool, b]));
    t.false(g.idempotent);
    t.deepEqual(a.overlap, { write: 'c', read: 'a' });
    for (let i = 0; i < 6; i++) {
      await sleep(1 + Math.floor(rand() * 3));
      hi.launch('scale', { n: 1024, s: 3, x, y });
    }
    results.push(await g.done, await a.done);
    t.true(same(bytes(C), expectC), `gemm, trial ${trial}`);
    t.true(same(bytes(pool), expectPool), `add, trial ${trial}`);
  }
  const gemms = results.filter((r) => r.kernel === 'gemm');
  t.true(gemms.every((r) => r.savedBytes === M * N * 4), 'gemm saved exactly C');
  t.true(results.filter((r) => r.kernel === 'add').every((r) => r.savedBytes === n * 2), 'add saved exactly the overlap (half of a)');
  t.true(results.some((r) => r.preemptions > 0), 'some saved instance was preempted');
  t.true(d.stats().restoredBytes > 0);
  d.close();
});

test.serial('host-visible side effects are never killed, even on a `save` stream', async (t) => {
  const d = new Device();
  const n = 1 << 24;
  const x = d.upload(new Float32Array(n).fill(1)), flag = d.alloc(4);
  const lo = d.stream({ priority: 0, policy: 'save' }), hi = d.stream({ priority: 9 });
  let overlapped = 0;
  for (let attempt = 0; attempt < 6 && overlapped < 2; attempt++) {
    const be = lo.launch('below_signal', { n, thr: 0, x, flag });
    t.is(be.reason, 'side-effects');
    await sleep(1);
    const hp = hi.launch('scale_inplace', { n: 16, s: 2, x });
    const [r, h] = await Promise.all([be.done, hp.done]);
    t.is(r.preemptions, 0);
    t.is(r.savedBytes, 0);
    if (h.enqueueUs > r.firstStartUs && h.enqueueUs < r.endUs) {
      overlapped++;
      t.true(h.firstStartUs >= r.endUs);
    }
  }
  t.true(overlapped >= 1, 'a high-priority launch arrived while it ran');
  d.close();
});

test.serial('priorities order queued work; equal priorities keep launch order', async (t) => {
  const d = new Device();
  const M = 300;
  const A = d.upload(randomFloats(M * M)), C = d.alloc(M * M * 4);
  const top = d.stream({ priority: 100 });
  const blocker = top.launch('gemm', { M, N: M, K: M, alpha: 1, beta: 0, A, B: A, C });
  const streams = [1, 5, 3, 5, -2].map((priority) => d.stream({ priority }));
  const x = d.upload(randomFloats(256));
  const outs = streams.map(() => d.alloc(1024));
  const launched = streams.map((s, i) => s.launch('scale', { n: 256, s: 2, x, y: outs[i]! }));
  const done = await Promise.all(launched.map((l) => l.done));
  const b = await blocker.done;
  t.is(b.preemptions, 0, 'lower priorities never preempt higher ones');
  const order = done.map((r, i) => ({ i, p: streams[i]!.priority, at: r.firstStartUs })).sort((u, v) => u.at - v.at);
  t.deepEqual(order.map((o) => o.i), [1, 3, 2, 0, 4]);
  t.true(done.every((r) => r.firstStartUs >= b.endUs));
  d.close();
});

test.serial('two units: high-priority work takes the free unit without preempting', async (t) => {
  const d = new Device({ units: 2 });
  const M = 400;
  const A = d.upload(randomFloats(M * M)), C = d.alloc(M * M * 4);
  const lo = d.stream({ priority: 0 }), hi = d.stream({ priority: 9 });
  const be = lo.launch('gemm', { M, N: M, K: M, alpha: 1, beta: 0, A, B: A, C });
  await sleep(2);
  const x = d.upload(randomFloats(256)), y = d.alloc(1024);
  const h = await hi.launch('scale', { n: 256, s: 2, x, y }).done;
  const r = await be.done;
  t.is(r.preemptions, 0);
  t.true(h.endUs < r.endUs);
  d.close();
});

test.serial('a launch killed the maximum number of times runs to completion: the preempted branch is not starved', async (t) => {
  const d = new Device();
  const { maxKills } = deviceAddon();
  const M = 2400 * LONG, N = 160, K = 160;
  const A = d.upload(randomFloats(M * K)), B = d.upload(randomFloats(K * N)), C = d.upload(randomFloats(M * N));
  const args = (r: DeviceBuffer[]) => ({ M, N, K, alpha: 0.5, beta: 0, A: r[0]!, B: r[1]!, C: r[2]! });
  const expected = uninterrupted(d, 'gemm', [A, B, C], args, 2);
  const lo = d.stream({ priority: 0 }), hi = d.stream({ priority: 5 });
  const x = d.upload(randomFloats(4096)), y = d.alloc(4096 * 4);
  let capped = 0;
  for (let trial = 0; trial < 4 && capped === 0; trial++) {
    C.write(randomFloats(M * N));
    const be = lo.launch('gemm', args([A, B, C]));
    let finished = false;
    const r = be.done.then((v) => ((finished = true), v));
    // High-priority work keeps arriving for as long as the best-effort kernel runs.
    const hp: Array<Promise<LaunchResult>> = [];
    while (!finished) {
      hp.push(hi.launch('scale', { n: 4096, s: 2, x, y }).done);
      await sleep(1);
    }
    const res = await r;
    await Promise.all(hp);
    t.true(res.preemptions <= maxKills, `killed ${res.preemptions} times, at most ${maxKills}`);
    t.true(same(bytes(C), expected), `trial ${trial}`);
    if (res.preemptions === maxKills) capped++;
  }
  t.true(capped >= 1, `a launch reached ${maxKills} kills and then ran to completion`);
  t.true(d.stats().killsAvoidedCap >= 1, 'a kill was declined because the victim was at its cap');
  d.close();
});

test.serial('a short victim is not killed: the high-priority launch starts when it ends, before any later one', async (t) => {
  const d = new Device();
  const n = 1 << 16;
  const lo = d.stream({ priority: 0 }), hi = d.stream({ priority: 5 });
  const x = d.upload(randomFloats(n)), ys = Array.from({ length: 4 }, () => d.alloc(n * 4)), y = d.alloc(n * 4);
  // The scheduler learns how long the kernel runs; the queue below lasts about 40 ms.
  const warm = await lo.launch('scale', { n, s: 3, x, y: ys[0]! }).done;
  const count = Math.min(4000, Math.ceil(40_000 / Math.max(1, warm.endUs - warm.firstStartUs)));
  // A queue of short best-effort launches, each shorter than the kill bound.
  let left = count;
  const be = Array.from({ length: count }, (_, i) => lo.launch('scale', { n, s: 3, x, y: ys[i % ys.length]! }).done.then((r) => (left--, r)));
  const hp: Array<Promise<LaunchResult>> = [];
  while (left > 0 && hp.length < 20) {
    await sleep(1);
    hp.push(hi.launch('scale', { n, s: 2, x, y }).done);
  }
  const [b, h] = [await Promise.all(be), await Promise.all(hp)];
  const kills = b.reduce((s, r) => s + r.preemptions, 0);
  // (a unit thread descheduled by a busy machine can make one look long for a while)
  t.true(kills * 4 <= hp.length, `${kills} short victims killed for ${hp.length} high-priority arrivals`);
  for (const r of h) {
    // waits at most for the victim running at its arrival: no best-effort launch starts in between
    t.is(b.filter((v) => v.firstStartUs > r.enqueueUs && v.firstStartUs < r.firstStartUs).length, 0);
  }
  const s = d.stats();
  t.true(s.killsAvoidedShort >= 1, 'kills were declined because the running victim was short');
  const xs = x.read(new Float32Array(n));
  t.true(ys[0]!.read(new Float32Array(n)).every((v, i) => v === xs[i]! * 3), 'short victims computed their results');
  d.close();
});
