// Concurrent checkpoint/restore of device memory: an image equals the memory as of the cut
// (t1) bit for bit while writer kernels and host writes race the checkpoint; every chunk is
// saved exactly once per epoch; incremental epochs; on-demand restore under launches.
import test from 'ava';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildCorpus, prng, type CorpusInstance } from '../runtime/gpu/corpus.js';
import { Checkpointer, type CheckpointMode } from '../runtime/gpu/checkpoint.js';
import { Device, type DeviceBuffer, type Launch } from '../runtime/gpu/index.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'xauto-ckpt-'));

interface Op {
  inst: number;
  stream: number;
}

/** A random launch stream over the corpus (which covers every kernel, aliasing and views). */
function ops(seed: number, n: number, corpus: number): Op[] {
  const r = prng(seed);
  return Array.from({ length: n }, () => {
    const inst = Math.floor(r() * corpus);
    return { inst, stream: inst % 3 };
  });
}

function launchAll(d: Device, streams: ReturnType<Device['stream']>[], corpus: CorpusInstance[], list: Op[]): Launch[] {
  return list.map((o) => streams[o.stream]!.launch(corpus[o.inst]!.kernel, corpus[o.inst]!.args));
}

function roots(corpus: CorpusInstance[]): DeviceBuffer[] {
  return [...new Set(corpus.flatMap((c) => c.roots))];
}

function snapshot(bufs: DeviceBuffer[]): Map<number, Uint8Array> {
  return new Map(bufs.map((b) => [b.handle, b.read(new Uint8Array(b.bytes))]));
}

/** Memory of `corpus` after running `lists` in order on a fresh device (the reference). */
async function reference(seed: number, lists: Op[][]): Promise<Map<number, Uint8Array>> {
  const d = new Device();
  const corpus = buildCorpus(d, { seed, perKernel: 3 });
  const s = d.stream();
  for (const list of lists) for (const o of list) await s.launch(corpus[o.inst]!.kernel, corpus[o.inst]!.args).done;
  const out = snapshot(roots(corpus));
  d.close();
  return out;
}

function sameMemory(t: import('ava').ExecutionContext, got: Map<number, DeviceBuffer>, want: Map<number, Uint8Array>, what: string): void {
  let bad = 0;
  for (const [h, bytes] of want) {
    const b = got.get(h);
    if (!b) {
      t.fail(`${what}: handle ${h} missing from the image`);
      return;
    }
    if (Buffer.compare(Buffer.from(b.read(new Uint8Array(b.bytes))), Buffer.from(bytes)) !== 0) bad++;
  }
  t.is(bad, 0, `${what}: ${bad} of ${want.size} buffers differ from the state at the cut`);
}

async function raceCase(t: import('ava').ExecutionContext, seed: number, mode: CheckpointMode): Promise<void> {
  const dir = tmp();
  const a = new Device({ units: 2 });
  const corpus = buildCorpus(a, { seed, perKernel: 3 });
  const streams = [a.stream(), a.stream({ priority: 1 }), a.stream({ priority: 2, policy: 'save' })];
  const ck = new Checkpointer(a, { dir, chunkBytes: 256 });
  const n = corpus.length;
  const [l1, l2, l3, l4] = [ops(seed * 7 + 1, 120, n), ops(seed * 7 + 2, 120, n), ops(seed * 7 + 3, 60, n), ops(seed * 7 + 4, 120, n)];

  // Epoch 1 (full): l1 is in flight at the cut, l2 and a host write race the copier.
  const pending = launchAll(a, streams, corpus, l1);
  const e1 = ck.begin({ mode, copierDelayUs: seed % 2 ? 40 : 0 });
  pending.push(...launchAll(a, streams, corpus, l2));
  const victim = corpus[seed % n]!.roots[0]!;
  victim.write(new Uint8Array(Math.min(victim.bytes, 64)).fill(0xa5));
  const c1 = await e1.committed;
  await Promise.all(pending.map((l) => l.done));
  t.is(c1.result.maxCopies, 1, 'no chunk was copied twice');
  t.is(c1.result.cowChunks + c1.result.copierChunks, e1.chunks, 'every chunk of the epoch was copied exactly once');
  t.is(e1.parent, 0);
  const atCut1 = await reference(seed, [l1]);
  const r1 = new Device();
  const { image: img1 } = Checkpointer.restore(r1, dir, { epoch: 1, onDemand: true });
  sameMemory(t, img1.buffers, atCut1, `seed ${seed} ${mode} epoch 1`);
  await img1.loaded;
  r1.close();

  // Epoch 2 (incremental): only chunks written since epoch 1 (l2, the host write, l3).
  const more = launchAll(a, streams, corpus, l3);
  const e2 = ck.begin({ mode, copierDelayUs: seed % 2 ? 40 : 0 });
  more.push(...launchAll(a, streams, corpus, l4));
  const c2 = await e2.committed;
  await Promise.all(more.map((l) => l.done));
  t.is(e2.parent, 1);
  t.true(e2.chunks < e1.chunks, `incremental epoch saves fewer chunks (${e2.chunks} < ${e1.chunks})`);
  t.is(c2.result.maxCopies <= 1, true);
  t.is(c2.result.cowChunks + c2.result.copierChunks, e2.chunks);
  const atCut2 = snapshot(roots(corpus)); // a's memory now: l1..l4 and the host write
  a.close();

  // Restore epoch 2 with a slow loader and run l4 at once: every launch must see restored
  // chunks only, so the result equals the uninterrupted device.
  const r2 = new Device({ units: 2 });
  const { checkpointer: ck2, image: img2 } = Checkpointer.restore(r2, dir, { onDemand: true, loaderDelayUs: 200 });
  t.is(img2.manifest.epoch, 2);
  const s2 = [r2.stream(), r2.stream({ priority: 1 }), r2.stream({ priority: 2, policy: 'save' })];
  await Promise.all(launchAll(r2, s2, corpus, l4).map((l) => l.done));
  const stats = ck2.stats();
  t.true(stats.onDemandLoads + stats.loadWaits > 0 || stats.backgroundLoads === stats.totalChunks, 'launches loaded chunks on demand');
  // `a` ran l4 after the cut; the restored device ran l4 after restoring the cut: same memory.
  sameMemory(t, img2.buffers, atCut2, `seed ${seed} ${mode} epoch 2 + l4`);
  await img2.loaded;
  r2.close();
  rmSync(dir, { recursive: true, force: true });
}

for (const seed of [1, 2, 3, 4, 5, 6]) {
  test(`concurrent checkpoint while writer kernels race it equals the cut bit for bit (seed ${seed})`, (t) => raceCase(t, seed, 'concurrent'));
}
test('stop-the-world checkpoint (the baseline) equals the cut bit for bit', (t) => raceCase(t, 11, 'stop-the-world'));

test('post-cut writers save chunks first (copy-on-write) and still copy each chunk once', async (t) => {
  const dir = tmp();
  const d = new Device();
  const big = d.alloc(64 * 4096);
  const init = new Float32Array(big.bytes / 4).map((_, i) => i);
  big.write(init);
  const ck = new Checkpointer(d, { dir, chunkBytes: 4096 });
  const s = d.stream();
  const e = ck.begin({ copierDelayUs: 5000 });
  // Writes into the last chunks while the copier (slowed down) is still at the first ones.
  const ls = [60, 61, 62, 63].map((c) => s.launch('scale_inplace', { n: 1024, s: 2, x: big.at(c * 4096) }));
  await Promise.all(ls.map((l) => l.done));
  const c = await e.committed;
  t.true(c.result.cowChunks >= 4, `launches saved their chunks (${c.result.cowChunks})`);
  t.is(c.result.cowChunks + c.result.copierChunks, 64);
  t.is(c.result.maxCopies, 1);
  d.close();
  const r = new Device();
  const { image } = Checkpointer.restore(r, dir);
  t.deepEqual(image.buffers.get(big.handle)!.readFloat32(), init);
  await image.loaded;
  r.close();
  rmSync(dir, { recursive: true, force: true });
});

test('incremental epochs save about the bytes that were written, and chain across epochs', async (t) => {
  const dir = tmp();
  const d = new Device();
  const C = 4096;
  const buf = d.alloc(256 * C);
  const ck = new Checkpointer(d, { dir, chunkBytes: C });
  await ck.begin().committed;
  const s = d.stream();
  const r = prng(5);
  for (let epoch = 2; epoch <= 4; epoch++) {
    const touched = new Set<number>();
    for (let i = 0; i < 10; i++) {
      const c = Math.floor(r() * 256);
      touched.add(c);
      await s.launch('scale_inplace', { n: C / 4, s: 1.5, x: buf.at(c * C) }).done;
    }
    const e = ck.begin();
    const got = await e.committed;
    t.is(e.parent, epoch - 1);
    t.is(got.bytesWritten, touched.size * C, `epoch ${epoch} wrote exactly the dirtied chunks`);
  }
  const want = buf.read(new Uint8Array(buf.bytes));
  d.close();
  const r2 = new Device();
  const { image } = Checkpointer.restore(r2, dir, { onDemand: false });
  t.is(image.manifest.epoch, 4);
  t.deepEqual(image.buffers.get(buf.handle)!.read(new Uint8Array(buf.bytes)), want);
  r2.close();
  rmSync(dir, { recursive: true, force: true });
});

test('host reads during an on-demand restore wait for exactly their chunks', async (t) => {
  const dir = tmp();
  const d = new Device();
  const C = 4096;
  const buf = d.alloc(128 * C);
  const data = new Uint8Array(buf.bytes).map((_, i) => (i * 31) & 255);
  buf.write(data);
  await new Checkpointer(d, { dir, chunkBytes: C }).begin().committed;
  d.close();
  const r = new Device();
  const { checkpointer, image } = Checkpointer.restore(r, dir, { loaderDelayUs: 20000 });
  const got = image.buffers.get(buf.handle)!.read(new Uint8Array(2 * C), 100 * C);
  t.deepEqual(got, data.subarray(100 * C, 102 * C));
  const st = checkpointer.stats();
  t.true(st.hostLoads >= 1 && st.hostLoads <= 2, `the read loaded its own chunks (${st.hostLoads})`);
  t.true(st.loadedChunks < st.totalChunks, 'the background loader had not reached them yet');
  await image.loaded;
  t.deepEqual(image.buffers.get(buf.handle)!.read(new Uint8Array(buf.bytes)), data);
  r.close();
  rmSync(dir, { recursive: true, force: true });
});

test('post-cut host writes and launches wait for pre-cut launches that read the same bytes', async (t) => {
  const dir = tmp();
  const d = new Device({ units: 2 });
  const M = 2048, N = 64, K = 64;
  const A = d.alloc(M * K * 4), B = d.alloc(K * N * 4), Cm = d.alloc(M * N * 4);
  const x = d.upload(new Float32Array(1024).fill(1)), y = d.alloc(4096);
  const x2 = d.upload(new Float32Array(1024).fill(1)), y2 = d.alloc(4096);
  const sa = d.stream(), sb = d.stream();
  const ck = new Checkpointer(d, { dir, chunkBytes: 4096 });
  // Pre-cut: a long GEMM, then readers of x and x2 queued behind it.
  const pre = [sa.launch('gemm', { M, N, K, alpha: 1, beta: 0, A, B, C: Cm }), sa.launch('scale', { n: 1024, s: 3, x, y }), sa.launch('scale', { n: 1024, s: 3, x: x2, y: y2 })];
  const e = ck.begin();
  x.write(new Float32Array(1024).fill(100)); // post-cut host write to what a queued reader reads
  const post = sb.launch('scale_inplace', { n: 1024, s: 100, x: x2 }); // post-cut writer, free unit
  await Promise.all([...pre, post].map((l) => l.done));
  await e.committed;
  d.close();
  const r = new Device();
  const { image } = Checkpointer.restore(r, dir, { onDemand: false });
  t.deepEqual([...image.buffers.get(y.handle)!.readFloat32().subarray(0, 4)], [3, 3, 3, 3], 'the pre-cut reader saw x as of the cut');
  t.deepEqual([...image.buffers.get(y2.handle)!.readFloat32().subarray(0, 4)], [3, 3, 3, 3], 'and x2 as of the cut');
  t.deepEqual([...image.buffers.get(x.handle)!.readFloat32().subarray(0, 2)], [1, 1]);
  r.close();
  rmSync(dir, { recursive: true, force: true });
});
