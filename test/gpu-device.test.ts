// Device model: memory, views and interior pointers, every library kernel against its plain
// C++ reference, streams and events, and clear errors for bad arguments.
import test from 'ava';
import { buildCorpus } from '../runtime/gpu/corpus.js';
import { Device } from '../runtime/gpu/index.js';

test('buffers: write/read, views alias their parent, interior pointers', async (t) => {
  const d = new Device();
  const b = d.upload(Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8]));
  t.deepEqual([...b.readFloat32()], [1, 2, 3, 4, 5, 6, 7, 8]);
  const v = b.view(8, 16);
  t.deepEqual([...v.readFloat32()], [3, 4, 5, 6]);
  v.write(Float32Array.from([30]), 4);
  t.is(b.readFloat32()[3], 30);
  // scale through a pointer 8 bytes into the view (byte 16 of the parent): elements 4 and 5
  const s = d.stream();
  const l = s.launch('scale_inplace', { n: 2, s: 10, x: v.at(8) });
  t.deepEqual(l.writes, [{ buffer: b.handle, offset: 16, bytes: 8, param: 'x' }]);
  await l.done;
  t.deepEqual([...b.readFloat32()], [1, 2, 3, 30, 50, 60, 7, 8]);
  t.is(d.stats().liveBuffers, 2);
  d.close();
});

test('every kernel matches its plain reference (non-aliased instances)', async (t) => {
  const d = new Device();
  const corpus = buildCorpus(d, { seed: 3, perKernel: 12 });
  const s = d.stream();
  let checked = 0;
  const perKernel = new Map<string, number>();
  for (const inst of corpus) {
    const k = d.kernel(inst.kernel);
    const oneBuffer = k.params.filter((p) => p.kind === 'buffer').length === 1;
    if (inst.layout !== 'separate' && !oneBuffer) continue;
    const initial = inst.roots.map((b) => b.read(new Uint8Array(b.bytes)));
    await s.launch(inst.kernel, inst.args).done;
    const onDevice = inst.roots.map((b) => b.read(new Uint8Array(b.bytes)));
    inst.roots.forEach((b, i) => b.write(initial[i]!));
    d.runReference(inst.kernel, inst.args);
    const reference = inst.roots.map((b) => b.read(new Uint8Array(b.bytes)));
    for (let i = 0; i < reference.length; i++) {
      if (inst.kernel === 'reduce_sum') {
        // Block-wise float sums differ from a plain sequential sum only by rounding.
        const a = new Float32Array(onDevice[i]!.buffer), r = new Float32Array(reference[i]!.buffer);
        for (let j = 0; j < a.length; j++) t.true(Math.abs(a[j]! - r[j]!) <= 1e-3 * Math.max(1, Math.abs(r[j]!)), inst.id);
      } else {
        t.deepEqual(onDevice[i], reference[i], inst.id);
      }
    }
    perKernel.set(inst.kernel, (perKernel.get(inst.kernel) ?? 0) + 1);
    checked++;
  }
  t.true(checked >= 40);
  t.deepEqual([...perKernel.keys()].sort(), [...d.kernels.keys()].sort(), 'every kernel was checked');
  d.close();
});

test('kernels compute what they say (hand-checked values)', async (t) => {
  const d = new Device();
  const s = d.stream();
  const x = d.upload(Float32Array.from([1, 2, 3, 4]));
  const y = d.upload(Float32Array.from([10, 20, 30, 40]));
  await s.launch('saxpy', { n: 2, a: 2, x, incx: 2, y, incy: 1 }).done;
  t.deepEqual([...y.readFloat32()], [12, 26, 30, 40]);
  const A = d.upload(Float32Array.from([1, 2, 3, 4])); // 2x2
  const B = d.upload(Float32Array.from([5, 6, 7, 8]));
  const C = d.upload(Float32Array.from([1, 1, 1, 1]));
  await s.launch('gemm', { M: 2, N: 2, K: 2, alpha: 1, beta: 2, A, B, C }).done;
  t.deepEqual([...C.readFloat32()], [21, 24, 45, 52]);
  const idx = d.upload(Uint32Array.from([3, 0, 9, 1]));
  const out = d.alloc(16);
  await s.launch('gather', { n: 4, nsrc: 4, idx, src: y, dst: out }).done;
  t.deepEqual([...out.readFloat32()], [40, 12, 0, 26]);
  const hist = d.alloc(16);
  await s.launch('histogram', { n: 4, bins: 4, lo: 0, hi: 40, x: y, hist }).done;
  t.deepEqual([...hist.read(new Uint32Array(4))], [0, 1, 1, 1]);
  const ps = d.alloc(16);
  await s.launch('prefix_sum', { n: 4, x, y: ps }).done;
  t.deepEqual([...ps.readFloat32()], [1, 3, 6, 10]);
  d.close();
});

test('streams run in order; events order work across streams', async (t) => {
  const d = new Device({ units: 2 });
  const a = d.stream(), b = d.stream();
  const n = 4096;
  const x = d.upload(new Float32Array(n).fill(1));
  const y = d.alloc(n * 4);
  // a: x *= 3 (x10 times); b waits for a's event, then copies x into y.
  for (let i = 0; i < 10; i++) a.launch('scale_inplace', { n, s: 3, x });
  const e = d.event();
  a.record(e);
  b.wait(e);
  const copy = b.launch('copy', { bytes: n * 4, src: x, dst: y });
  const r = await copy.done;
  t.true(e.reached);
  t.is(y.readFloat32(1)[0], 3 ** 10);
  await e.synchronize();
  await Promise.all([a.synchronize(), b.synchronize()]);
  t.true(r.endUs >= r.firstStartUs);
  d.close();
});

test('bad launch arguments are clear errors and the device keeps working', async (t) => {
  const d = new Device();
  const s = d.stream();
  const x = d.alloc(400), y = d.alloc(400);
  t.throws(() => s.launch('add', { n: 200, a: x, b: y, c: y }), { message: /argument 'a' .*would touch 800 bytes from byte 0 of its buffer, which has 400 bytes/ });
  t.throws(() => s.launch('add', { n: 50, a: x.at(300), b: y, c: y }), { message: /argument 'a'.*would touch 200 bytes from byte 300/ });
  t.throws(() => s.launch('add', { n: 1, a: x.at(401), b: y, c: y }), { message: /argument 'a'.*byte offset 401; expected 0\.\.400/ });
  t.throws(() => s.launch('add', { n: 1, a: x.at(2), b: y, c: y }), { message: /points at byte 2.*multiple of 4/ });
  t.throws(() => s.launch('add', { n: -1, a: x, b: y, c: y }), { message: /argument 'n'.*integer between 0 and 2\^40/ });
  t.throws(() => s.launch('add', { n: 1.5, a: x, b: y, c: y }), { message: /argument 'n'/ });
  t.throws(() => s.launch('add', { n: 1, a: x, b: y }), { message: /missing argument 'c'; expected add\(n, a, b, c\)/ });
  t.throws(() => s.launch('add', { n: 1, a: x, b: y, c: y, d: 3 }), { message: /unknown argument 'd'/ });
  t.throws(() => s.launch('add', { n: 1, a: 3, b: y, c: y }), { message: /'a' must be a device buffer/ });
  t.throws(() => s.launch('nope', {}), { message: /unknown kernel 'nope'/ });
  // Wrong arity straight at the native boundary.
  const add = d.kernel('add');
  t.throws(() => d.native.launch(s.id, add.id, new Float64Array(3)), { message: /expected 4 arguments \(n, a, b, c\)/ });
  t.throws(() => d.native.launch(s.id, 999, new Float64Array(3)), { message: /unknown kernel id/ });
  t.throws(() => d.native.launch(s.id, add.id, new Float64Array([1, 12345, 0, y.handle, 0, y.handle, 0])), { message: /not a buffer of this device/ });
  t.throws(() => x.view(300, 200), { message: /outside the parent's 400 bytes/ });
  t.throws(() => x.write(new Float32Array(101)), { message: /outside the buffer's 400 bytes/ });
  // Freed buffers (and their views, which die with them) are detected by generation, even after the slot is reused.
  const v = x.view(0, 100);
  x.free();
  t.throws(() => s.launch('add', { n: 1, a: x, b: y, c: y }), { message: /argument 'a' .*was freed/ });
  t.throws(() => s.launch('add', { n: 1, a: v, b: y, c: y }), { message: /argument 'a' .*was freed/ });
  t.throws(() => x.free(), { message: /free: .*was freed/ });
  const z = d.alloc(400);
  t.not(z.handle, x.handle);
  t.throws(() => x.readFloat32(), { message: /was freed/ });
  // Still works.
  await s.launch('add', { n: 100, a: z, b: y, c: y }).done;
  t.pass();
  d.close();
});

test('freeing a buffer while a launch uses it is safe; close fails queued work', async (t) => {
  const d = new Device();
  const s = d.stream();
  const M = 192;
  const A = d.upload(new Float32Array(M * M).fill(1));
  const C = d.alloc(M * M * 4);
  const first = s.launch('gemm', { M, N: M, K: M, alpha: 1, beta: 0, A, B: A, C });
  A.free(); // memory stays alive until the launch is done
  const r = await first.done;
  t.is(r.blocksRun, M);
  t.is(C.readFloat32(1)[0], M);
  // Queued work: behind an event that a very long launch on another stream must reach first.
  const big = 1024;
  const X = d.upload(new Float32Array(big * big).fill(1));
  const Y = d.alloc(big * big * 4);
  const other = d.stream();
  const long = other.launch('gemm', { M: big, N: big, K: big, alpha: 1, beta: 0, A: X, B: X, C: Y });
  const e = d.event();
  other.record(e);
  s.wait(e);
  const queued = [0, 1, 2].map(() => s.launch('gemm', { M, N: M, K: M, alpha: 1, beta: 0, A: X, B: X, C }));
  const sync = e.synchronize();
  d.close(); // stops the long launch at a block boundary
  await t.throwsAsync(long.done, { message: /device closed/ });
  for (const q of queued) await t.throwsAsync(q.done, { message: /device closed/ });
  await t.throwsAsync(sync, { message: /device closed/ });
  t.throws(() => d.alloc(4), { message: /device is closed/ });
});
