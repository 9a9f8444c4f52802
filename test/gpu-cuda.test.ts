// The CUDA backend on a real GPU: the backend is chosen, kernels check the kill flag on entry
// (a killed idempotent launch is relaunched from scratch with identical results), stream
// priorities order work, asynchronous copies on the copy stream, and onnxruntime's CUDA
// execution provider (or its fall back, with a note). The rest of the GPU tests
// (gpu-device, gpu-idempotency, gpu-preempt, gpu-tensors, perception-equivalence) run on
// whichever backend the device chose, so on a GPU machine they run on CUDA too.
//
// Without a CUDA device (this development machine, CI) these tests are skipped, with the
// reason printed: there is no GPU to run them on. scripts/gpu-check.sh sets
// XAUTO_REQUIRE_CUDA=1, which turns the skip into a failure.
import test from 'ava';
import { Device, type DeviceBuffer } from '../runtime/gpu/index.js';
import { deviceAddon } from '../runtime/gpu/native.js';
import { defaultModelPath } from '../xnodes/detect/detector.js';
import { createSession } from '../xnodes/perception-common/ort.js';

const addon = deviceAddon();
const cuda = addon.backend === 'cuda';
const reason = addon.backendNote;
const gpu = cuda ? test.serial : test.skip;
if (!cuda) {
  console.log(`gpu-cuda: CUDA tests skipped: ${reason}`);
  if (process.env.XAUTO_REQUIRE_CUDA === '1') test('a CUDA device is required here (XAUTO_REQUIRE_CUDA=1)', (t) => t.fail(reason));
}

test('the device reports the backend it chose, and why', (t) => {
  t.true(addon.backend === 'cuda' || addon.backend === 'host');
  t.true(addon.backendNote.startsWith(`${addon.backend} backend`), addon.backendNote);
  const d = new Device();
  t.is(d.backend, addon.backend);
  d.close();
});

const floats = (n: number, seed: number) => Float32Array.from({ length: n }, (_, i) => ((i * 7919 + seed * 104729) % 1000) / 250 - 2);
const read = (b: DeviceBuffer) => b.read(new Uint8Array(b.bytes));

gpu('CUDA: a long idempotent kernel killed by high-priority work is relaunched from scratch, bit-identical', async (t) => {
  const d = new Device();
  const M = 8192, N = 256, K = 256;
  const A = d.upload(floats(M * K, 1)), B = d.upload(floats(K * N, 2)), C = d.alloc(M * N * 4), ref = d.alloc(M * N * 4);
  const lo = d.stream({ priority: 0 }), hi = d.stream({ priority: 5 });
  await lo.launch('gemm', { M, N, K, alpha: 1, beta: 0, A, B, C: ref }).done;
  const expected = read(ref);
  const x = d.upload(floats(1 << 16, 3)), y = d.alloc(4 << 16);
  let killed = 0;
  for (let trial = 0; trial < 6; trial++) {
    const be = lo.launch('gemm', { M, N, K, alpha: 1, beta: 0, A, B, C });
    const h = hi.launch('scale', { n: 1 << 16, s: 2, x, y });
    const r = await be.done;
    await h.done;
    if (r.preemptions > 0) killed++;
    t.is(Buffer.compare(read(C), expected), 0, `trial ${trial}`);
  }
  t.log(`${killed} of 6 runs preempted on ${addon.backendNote}`);
  t.is(d.stats().relaunches, d.stats().preemptions);
  d.close();
});

gpu('CUDA: serial kernels (blocks chained through their output) run in block order', async (t) => {
  const d = new Device();
  const n = 5000;
  const x = d.upload(new Float32Array(n).fill(1)), y = d.alloc(n * 4);
  await d.stream().launch('prefix_sum', { n, x, y }).done;
  const out = y.readFloat32(n);
  t.is(out[0], 1);
  t.is(out[n - 1], n);
  d.close();
});

gpu('onnxruntime: the CUDA execution provider is used, or falls back to cpu with a note', async (t) => {
  const notes: string[] = [];
  const s = await createSession(defaultModelPath(), 'cuda', (m) => notes.push(m));
  t.truthy(s);
  t.log(notes.length ? `fell back: ${notes[0]}` : 'onnxruntime CUDA execution provider in use');
  await s.release();
});
