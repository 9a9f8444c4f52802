// Warm models in checkpoint images (runtime/xpu/warm-models.ts, runtime/cli/warm-image.ts):
// a session opened while saving stages onnxruntime's optimized model and a probe of its first
// run; a session opened from them computes the same outputs bit for bit; a probe that does not
// come back is refused (the source model is opened); blobs ride the image with checksums and
// are carried by later epochs; a damaged blob or another onnxruntime version is refused.
import test from 'ava';
import { existsSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as Ort from 'onnxruntime-node';
import { Checkpointer, ImageError } from '../runtime/gpu/checkpoint.js';
import { blobFile, epochDir, readBlob } from '../runtime/gpu/checkpoint-image.js';
import { Device } from '../runtime/gpu/index.js';
import { imagedModels, modelBlobs, modelsToCut, probeBlob } from '../runtime/cli/warm-image.js';
import { decodeProbe, encodeProbe, openSession, ortVersion, stagedModels, warmPays } from '../runtime/xpu/warm-models.js';
import { preprocessGraph } from '../xnodes/camera/preprocess-onnx.js';
import { ensureDefaultModel } from '../xnodes/detect/detector.js';

const OPTS: Ort.InferenceSession.SessionOptions = { executionProviders: ['cpu'], intraOpNumThreads: 1, interOpNumThreads: 1, graphOptimizationLevel: 'all' };
const quiet = () => undefined;

function frame(seed: number): Record<string, Ort.Tensor> {
  const data = new Float32Array(3 * 240 * 320).map((_, i) => Math.sin(i * 0.37 + seed));
  return { images: new Ort.Tensor('float32', data, [1, 3, 240, 320]) };
}

const bytesOf = (t: Ort.Tensor) => Buffer.from((t.data as Float32Array).buffer.slice(0));

/** Waits for the staged descriptor (written after the first run's probe, off that run's path). */
async function staged(dir: string, n: number) {
  for (let i = 0; i < 200; i++) {
    const s = stagedModels(dir);
    if (s.length >= n) return s;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error('nothing staged');
}

test('a session opened from its staged warm model computes the same outputs, bit for bit, as from the source model', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'xauto-warm-'));
  try {
    const file = await ensureDefaultModel();
    const saving = await openSession(Ort, file, OPTS, 'detector', quiet, { save: dir });
    t.false(saving.opened.warm);
    const first = await saving.session.run(frame(1));
    for (const seed of [5, 6]) await saving.session.run(frame(seed));
    t.deepEqual(stagedModels(dir), [], 'staged after 3 warm runs (timed) only');
    await saving.session.run(frame(7));
    const [s] = await staged(dir, 1);
    for (const k of ['sourceOpenMs', 'warmOpenMs', 'runMs'] as const) t.true(s!.info[k] >= 0, k);
    t.is(s!.info.name, 'detector');
    t.is(s!.info.ort, ortVersion());
    t.is(s!.info.graphOptimizationLevel, 'all');
    const probe = decodeProbe(s!.probe);
    t.deepEqual(probe.feeds.map((f) => f.name), ['images']);
    t.deepEqual(Buffer.from(probe.outputs[0]!.data), bytesOf(first.heatmap!), 'the probe holds the first run\'s outputs');

    const files = { model: join(dir, `${s!.info.key}.ort`), probe: join(dir, `${s!.info.key}.probe`) };
    const warm = await openSession(Ort, file, OPTS, 'detector', quiet, { load: { [s!.info.key]: files } });
    t.true(warm.opened.warm);
    const cold = await openSession(Ort, file, OPTS, 'detector', quiet, {});
    for (const seed of [2, 3, 4]) {
      const [a, b] = [await warm.session.run(frame(seed)), await cold.session.run(frame(seed))];
      t.deepEqual(bytesOf(a.heatmap!), bytesOf(b.heatmap!), `frame ${seed}`);
    }
    // Another model (other bytes) has another key: the warm model is not taken for it.
    const pre = await openSession(Ort, await preprocessGraph({ width: 32, height: 24, normalization: 'unit' } as never), OPTS, 'preprocess', quiet, { load: { [s!.info.key]: files } });
    t.false(pre.opened.warm);
    for (const x of [saving, warm, cold, pre]) await x.session.release();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a warm model whose probe does not come back is not used: the source model is opened, and why is logged', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'xauto-warm-'));
  try {
    const file = await ensureDefaultModel();
    const saving = await openSession(Ort, file, OPTS, 'detector', quiet, { save: dir });
    for (const seed of [1, 2, 3, 4]) await saving.session.run(frame(seed));
    const [s] = await staged(dir, 1);
    const p = decodeProbe(s!.probe);
    p.outputs[0]!.data[17]! ^= 1; // one bit of one output value
    const probe = join(dir, 'edited.probe');
    writeFileSync(probe, encodeProbe(p));
    const logs: string[] = [];
    const x = await openSession(Ort, file, OPTS, 'detector', (m) => logs.push(m), { load: { [s!.info.key]: { model: join(dir, `${s!.info.key}.ort`), probe } } });
    t.false(x.opened.warm);
    t.regex(x.opened.refused ?? '', /output 'heatmap' differs from the probe's/);
    t.regex(logs.join('\n'), /warm model of 'detector' not used \(output 'heatmap' differs.*opening the source model/);
    // A damaged optimized model: onnxruntime refuses it, the source model is opened.
    const bad = readFileSync(join(dir, `${s!.info.key}.ort`));
    bad[bad.length >> 1]! ^= 0xff;
    writeFileSync(join(dir, 'bad.ort'), bad);
    const y = await openSession(Ort, file, OPTS, 'detector', quiet, { load: { [s!.info.key]: { model: join(dir, 'bad.ort'), probe: join(dir, `${s!.info.key}.probe`) } } });
    t.false(y.opened.warm);
    t.truthy(y.opened.refused);
    for (const z of [saving, x, y]) await z.session.release();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** An image whose epoch 1 holds a staged warm model; epoch 2 carries it. */
async function imageWithModel(): Promise<{ dir: string; key: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'xauto-warm-img-'));
  const stage = join(dir, '.warm-models');
  const file = await ensureDefaultModel();
  const s = await openSession(Ort, file, OPTS, 'detector', quiet, { save: stage });
  for (const seed of [1, 2, 3, 4]) await s.session.run(frame(seed));
  const models = await staged(stage, 1);
  await s.session.release();
  const d = new Device();
  d.upload(new Float32Array(1024).fill(3));
  const ck = new Checkpointer(d, { dir, chunkBytes: 4096 });
  let cut = modelsToCut(ck.lastCommitted, models);
  await ck.begin({ blobs: modelBlobs(cut.fresh), meta: { warmModels: [...cut.carried, ...cut.fresh.map((f) => f.info)] } }).committed;
  cut = modelsToCut(ck.lastCommitted, models);
  if (cut.fresh.length) throw new Error('a committed model is staged again');
  await ck.begin({ blobs: modelBlobs(cut.fresh), meta: { warmModels: cut.carried } }).committed;
  d.close();
  return { dir, key: models[0]!.info.key };
}

function manifestOf(dir: string) {
  const d = new Device();
  const { image } = Checkpointer.restore(d, dir, { onDemand: false });
  d.close();
  return image.manifest;
}

test('warm models are blobs of the image: checked on reading, carried by later epochs, kept by pruning', async (t) => {
  const { dir, key } = await imageWithModel();
  try {
    const m = manifestOf(dir);
    t.is(m.epoch, 2);
    t.is(m.blobs![probeBlob(key)]![0], 1, 'epoch 2 refers to the blob epoch 1 wrote');
    t.true(existsSync(epochDir(dir, 1)), 'pruning keeps the epoch holding the blob');
    const got = imagedModels(dir, m);
    t.deepEqual(Object.keys(got), [key]);
    t.is(got[key]!.files.probe, blobFile(dir, 1, probeBlob(key)));

    const f = blobFile(dir, 1, probeBlob(key));
    const b = readFileSync(f);
    b[100]! ^= 1;
    writeFileSync(f, b);
    const corrupt = t.throws(() => imagedModels(dir, m), { instanceOf: ImageError });
    t.is(corrupt?.reason, 'corrupt');
    t.regex(corrupt?.message ?? '', /model-.*\.probe: checksum mismatch/);
    truncateSync(f, 10);
    t.is(t.throws(() => readBlob(dir, m, probeBlob(key)), { instanceOf: ImageError })?.reason, 'truncated');
    rmSync(f);
    t.regex(t.throws(() => imagedModels(dir, m), { instanceOf: ImageError })?.message ?? '', /missing \(the manifest of epoch 2 refers to it\)/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a warm model another onnxruntime version optimized is refused with the versions', async (t) => {
  const { dir } = await imageWithModel();
  try {
    const m = manifestOf(dir);
    const e = t.throws(() => imagedModels(dir, m, '0.0.1'), { instanceOf: ImageError });
    t.is(e?.reason, 'version');
    t.regex(e?.message ?? '', new RegExp(`warm model of 'detector' was optimized by onnxruntime ${ortVersion().replace(/\./g, '\\.')}; this xauto has onnxruntime 0\\.0\\.1`));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a warm model pays when what it saves on opening exceeds the run that checks it', (t) => {
  // a small model: optimized in 4 ms, 2 ms from its warm model, a run of 3 ms: not worth it
  t.false(warmPays({ sourceOpenMs: 4, warmOpenMs: 2, runMs: 3 }));
  // a large one: 300 ms to optimize, 40 ms to open warm, a run of 60 ms
  t.true(warmPays({ sourceOpenMs: 300, warmOpenMs: 40, runMs: 60 }));
  t.false(warmPays({ sourceOpenMs: 10, warmOpenMs: 5, runMs: 5 }), 'a saving equal to the check is no gain');
});

test('blob names are plain file names', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'xauto-warm-img-'));
  const d = new Device();
  try {
    const ck = new Checkpointer(d, { dir });
    await t.throwsAsync(ck.begin({ blobs: { '../x': new Uint8Array(1) } }).committed, { message: /blob name '\.\.\/x'/ });
    t.false(existsSync(join(dir, 'x')));
  } finally {
    d.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
