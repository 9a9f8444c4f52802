// Instance-level idempotency validation: the rule on named examples, and zero false positives
// against a brute-force dynamic check over a corpus of >= 300 instances.
import test from 'ava';
import { buildCorpus, freeCorpus } from '../runtime/gpu/corpus.js';
import { Device } from '../runtime/gpu/index.js';
import { bruteForceIdempotent, scoreCorpus } from '../runtime/gpu/oracle.js';

test('the decision rule on the textbook cases', (t) => {
  const d = new Device();
  const n = 256;
  const a = d.alloc(n * 4), b = d.alloc(n * 4), c = d.alloc(n * 4), big = d.alloc(4 * n * 4);
  const v = (k: string, args: Record<string, number | { handle: number }>) => d.validate(k, args);
  // saxpy reads and writes y: never idempotent
  t.false(v('saxpy', { n, a: 2, x: a, incx: 1, y: b, incy: 1 }).idempotent);
  t.is(v('saxpy', { n, a: 2, x: a, incx: 1, y: b, incy: 1 }).reason, 'overlap');
  // c = a + b: idempotent unless c overlaps a or b
  t.true(v('add', { n, a, b, c }).idempotent);
  t.false(v('add', { n, a, b, c: a }).idempotent);
  t.deepEqual(v('add', { n, a, b, c: b }).overlap, { write: 'c', read: 'b' });
  // interior pointers into one allocation: disjoint ranges are fine, one shared byte is not
  t.true(v('add', { n, a: big.at(0), b: big.at(n * 4), c: big.at(2 * n * 4) }).idempotent);
  t.false(v('add', { n, a: big.at(0), b: big.at(n * 4), c: big.at(2 * n * 4 - 4) }).idempotent);
  // an alias handle (view) resolves to the same allocation
  const alias = big.view(n * 4, n * 4);
  const dv = v('add', { n, a: big.at(0), b: alias, c: big.at(n * 4) });
  t.false(dv.idempotent);
  t.deepEqual(dv.reads[1], { buffer: big.handle, offset: n * 4, bytes: n * 4, param: 'b' });
  // GEMM: beta = 0 does not read C
  const M = 8, N = 8, K = 8;
  const g = (beta: number) => v('gemm', { M, N, K, alpha: 1, beta, A: a, B: b, C: c });
  t.true(g(0).idempotent);
  t.is(g(0).reads.length, 2);
  t.false(g(0.5).idempotent);
  t.true(g(-0).idempotent);
  t.false(g(Number.NaN).idempotent);
  // atomics, RNG state and host-visible writes: never, whatever the layout
  t.false(v('reduce_sum', { n, x: a, out: c }).idempotent);
  t.is(v('histogram', { n, bins: 4, lo: 0, hi: 1, x: a, hist: c }).reason, 'side-effects');
  t.false(v('rng_uniform', { n: 4, state: c, out: a }).idempotent);
  t.false(v('below_signal', { n, thr: 0, x: a, flag: c }).idempotent);
  // gather with an index buffer: idempotent iff the destination overlaps nothing read
  t.true(v('gather', { n: 64, nsrc: n, idx: a, src: b, dst: c }).idempotent);
  t.false(v('gather', { n: 64, nsrc: n, idx: a, src: big, dst: big.at(1020) }).idempotent);
  t.false(v('gather', { n: 64, nsrc: n, idx: a.at(4), src: b, dst: a }).idempotent);
  // strided extents cover their whole interval
  const s = v('saxpy', { n: 10, a: 1, x: big, incx: 3, y: big.at(2048), incy: 2 });
  t.deepEqual(s.reads[0], { buffer: big.handle, offset: 0, bytes: (9 * 3 + 1) * 4, param: 'x' });
  // zero-length ranges touch nothing
  t.true(v('add', { n: 0, a, b, c: a }).idempotent);
  d.close();
});

test('decisions are cached per (kernel, argument signature) and validated in C++ on every launch', async (t) => {
  const d = new Device();
  const a = d.alloc(4096), b = d.alloc(4096), c = d.alloc(4096);
  const s = d.stream();
  d.resetStats();
  for (let i = 0; i < 50; i++) s.launch('scale', { n: 1024, s: i, x: a, y: b }); // s does not change the sets
  await s.synchronize();
  let st = d.stats();
  t.is(st.validations, 50);
  t.is(st.validateCacheHits, 49);
  t.true(st.validateP50Us > 0 && st.validateP99Us >= st.validateP50Us);
  // the beta zero-ness is part of the signature, its value is not
  d.resetStats();
  const M = 16;
  t.true(s.launch('gemm', { M, N: M, K: M, alpha: 1, beta: 0, A: a, B: b, C: c }).idempotent);
  t.false(s.launch('gemm', { M, N: M, K: M, alpha: 1, beta: 2, A: a, B: b, C: c }).idempotent);
  t.false(s.launch('gemm', { M, N: M, K: M, alpha: 3, beta: 5, A: a, B: b, C: c }).idempotent);
  await s.synchronize();
  st = d.stats();
  t.is(st.validations, 3);
  t.is(st.validateCacheHits, 1);
  // a freed and reallocated buffer is a new signature: its cached decision is not reused
  b.free();
  const b2 = d.alloc(4096);
  t.true(s.launch('scale', { n: 1024, s: 1, x: a, y: b2 }).idempotent);
  t.false(s.launch('scale', { n: 1024, s: 1, x: a, y: a }).idempotent);
  await s.synchronize();
  d.close();
});

test('brute-force check labels known cases correctly', (t) => {
  const d = new Device();
  const x = d.upload(Float32Array.from({ length: 300 }, (_, i) => i - 150));
  const y = d.upload(Float32Array.from({ length: 300 }, (_, i) => i * 0.25));
  const inst = (kernel: string, args: Record<string, unknown>) =>
    ({ id: kernel, kernel, layout: 'test', roots: [x, y], args }) as Parameters<typeof bruteForceIdempotent>[1];
  t.false(bruteForceIdempotent(d, inst('saxpy', { n: 300, a: 2, x, incx: 1, y, incy: 1 })).idempotent);
  t.true(bruteForceIdempotent(d, inst('scale', { n: 300, s: 2, x, y })).idempotent);
  t.false(bruteForceIdempotent(d, inst('scale_inplace', { n: 300, s: 2, x })).idempotent);
  // clamp in place is idempotent on clean stops, but a block cut off half-way leaves garbage
  // that the re-run reads: the garbage patterns catch it.
  const clamp = bruteForceIdempotent(d, inst('clamp_inplace', { n: 300, lo: -1, hi: 1, x }));
  t.false(clamp.idempotent);
  t.true(clamp.mismatch!.garbage);
  // the check restores the initial state
  t.is(x.readFloat32(1)[0], -150);
  d.close();
});

test('brute-force check: blocks run in any order, as on a GPU; host-visible writes are never idempotent', (t) => {
  const d = new Device();
  const pool = d.upload(Uint8Array.from({ length: 4096 }, (_, i) => (i * 29 + (i >> 8) * 7 + 3) & 255)); // not periodic in the block size
  const at = (kernel: string, args: Record<string, unknown>) =>
    bruteForceIdempotent(d, { id: kernel, kernel, layout: 'test', roots: [pool], args } as Parameters<typeof bruteForceIdempotent>[1]);
  // A copy onto itself shifted by one block (256 bytes) reproduces an in-order run whatever
  // was stopped, but blocks running in another order read bytes a killed run already moved.
  const shifted = at('copy', { bytes: 1024, src: pool.at(0), dst: pool.at(256) });
  t.false(shifted.idempotent);
  t.true(shifted.mismatch!.shuffled);
  // A scatter with repeated indices depends on block order, yet every relaunch matches the
  // uninterrupted run in its own order: order dependence alone is not a violation.
  const idx = d.upload(Uint32Array.from({ length: 300 }, (_, i) => i % 7));
  const src = d.upload(Float32Array.from({ length: 300 }, (_, i) => i));
  const dst = d.alloc(7 * 4);
  const scatter = bruteForceIdempotent(d, { id: 'scatter', kernel: 'scatter', layout: 'test', roots: [idx, src, dst], args: { n: 300, ndst: 7, idx, src, dst } } as Parameters<typeof bruteForceIdempotent>[1]);
  t.true(scatter.idempotent);
  const flag = d.alloc(4);
  const signal = bruteForceIdempotent(d, { id: 'signal', kernel: 'below_signal', layout: 'test', roots: [src, flag], args: { n: 300, thr: 10, x: src, flag } } as Parameters<typeof bruteForceIdempotent>[1]);
  t.false(signal.idempotent);
  t.true(signal.hostVisible);
  d.close();
});

test('corpus of >= 300 instances: zero false positives', (t) => {
  const d = new Device();
  const corpus = buildCorpus(d, { seed: 1 });
  t.true(corpus.length >= 300);
  const score = scoreCorpus(d, corpus);
  t.log(
    `instances ${score.instances}; validator idempotent ${score.validatorIdempotent}; dynamically idempotent ${score.dynamicIdempotent}; ` +
      `false negatives ${score.falseNegatives} (rate ${score.falseNegativeRate.toFixed(3)})`,
  );
  t.is(score.falsePositives, 0, score.fpInstances.join('\n'));
  // The corpus is rich: both labels occur, and the validator finds idempotent instances of
  // every kernel without side effects.
  t.true(score.dynamicIdempotent > 50 && score.dynamicIdempotent < score.instances - 50);
  for (const k of ['add', 'scale', 'clamp', 'copy', 'resize_bilinear', 'normalize', 'gemm', 'point_transform', 'gather', 'scatter']) {
    t.true(score.perKernel[k]![1] > 0, `${k} has validator-idempotent instances`);
  }
  for (const k of ['reduce_sum', 'histogram', 'voxel_scatter', 'rng_uniform', 'below_signal', 'saxpy', 'add_inplace']) {
    t.is(score.perKernel[k]![1], 0, `${k} is never idempotent`);
  }
  freeCorpus(corpus);
  t.is(d.stats().liveBuffers, 0);
  d.close();
});

test('a validator that ignored overlaps would be caught by the brute-force check', (t) => {
  // Guards the test itself: the dynamic check finds the in-place instances non-idempotent, so a
  // broken rule ("no side effects => idempotent") would produce false positives here.
  const d = new Device();
  const corpus = buildCorpus(d, { seed: 1 });
  let caught = 0;
  for (const inst of corpus) {
    if (d.kernel(inst.kernel).sideEffects.length > 0) continue;
    if (!bruteForceIdempotent(d, inst).idempotent) caught++;
  }
  t.true(caught > 30, `${caught} side-effect-free instances are dynamically non-idempotent`);
  d.close();
});
