// Every perception XNODE's implementations agree on the same inputs: exactly, or within the
// tolerance the XNODE declares. Worker implementations are checked here in-process (same
// module, same code) and through real worker threads in perception-pipeline.test.ts.
import test from 'ava';
import type { PortValues, StageResult } from '../runtime/xnode/types.js';
import { context, instantiate, maxDifference, perceptionXNodes, sampleInputs, type ContextLog } from '../xnodes/perception-common/fixtures.js';

const FRAMES = 4;
/** A plain copy of a message, reading every field (a device tensor's field downloads). */
function hostCopy<T>(v: T): T {
  if (v === null || typeof v !== 'object') return v;
  if (ArrayBuffer.isView(v)) return (v as unknown as { slice(): T }).slice();
  if (Array.isArray(v)) return v.map(hostCopy) as T;
  return Object.fromEntries(Object.keys(v).map((k) => [k, hostCopy((v as Record<string, unknown>)[k])])) as T;
}
// `device` (launches, transfers, preemptions) and `models` (onnxruntime sessions: warm or cold, open times) are an implementation's own.
const withoutDevice = (s: ContextLog['sections']) => Object.fromEntries(Object.entries(s).filter(([k]) => k !== 'device' && k !== 'models'));
const samples = sampleInputs(FRAMES, { objects: 12, seed: 11 });

for (const def of perceptionXNodes) {
  test(`${def.type}: ${def.impls.map((i) => i.name).join(', ')} agree`, async (t) => {
    const inputs = await samples;
    const runs: Array<{ name: string; outputs: StageResult[]; log: ContextLog }> = [];
    for (const impl of def.impls) {
      const log: ContextLog = { counts: {}, logs: [], sections: {} };
      const stage = await instantiate(impl, context(def, impl.name, {}, log));
      const outputs: StageResult[] = [];
      // Outputs are read as a host consumer reads them, when they arrive: a device tensor is
      // valid until its producer goes round its ring of buffers.
      for (let seq = 0; seq < FRAMES; seq++) outputs.push(hostCopy(await stage.process(inputs[seq]![def.type] as PortValues, { seq, t0: 0 })));
      await stage.finish?.();
      await stage.close?.();
      runs.push({ name: impl.name, outputs, log });
    }
    const tol = Math.max(0, ...def.impls.map((i) => i.tolerance ?? 0));
    const ref = runs[0]!;
    if (Object.keys(def.outputs).length > 0) {
      t.true(ref.outputs.every((o) => o !== null), `${ref.name} emits on every frame`);
    }
    for (const other of runs.slice(1)) {
      const d = maxDifference(ref.outputs, other.outputs);
      t.true(d <= tol, `${other.name} differs from ${ref.name} by ${d} (tolerance ${tol})`);
      t.deepEqual(withoutDevice(other.log.sections), withoutDevice(ref.log.sections), `${other.name} reports the same summary`);
      t.deepEqual(other.log.counts, ref.log.counts, `${other.name} counts the same`);
    }
    if (def.impls.length < 2) t.fail('every XNODE needs at least two implementations');
  });
}

test('the stages compute something: detections, clusters and tracks are non-empty', async (t) => {
  const inputs = await samples;
  const last = inputs[FRAMES - 1]!;
  t.true((last['fusion/fuse']!.detections as { count: number }).count >= 3);
  t.true((last['fusion/fuse']!.clusters as { count: number }).count >= 3);
  t.true((last['tracking/evaluate']!.tracks as { detections: unknown[] }).detections.length >= 3);
});

test('preprocess reads bgr8 and padded rows as the same picture', async (t) => {
  const img = (await samples)[0]!['camera/preprocess']!.image as { width: number; height: number; step: number; data: Uint8Array };
  const bgr = new Uint8Array(img.data.length);
  for (let i = 0; i < bgr.length; i += 3) (bgr[i] = img.data[i + 2]!), (bgr[i + 1] = img.data[i + 1]!), (bgr[i + 2] = img.data[i]!);
  const pad = 8;
  const padded = new Uint8Array((img.step + pad) * img.height);
  for (let y = 0; y < img.height; y++) padded.set(img.data.subarray(y * img.step, (y + 1) * img.step), y * (img.step + pad));
  const def = perceptionXNodes.find((d) => d.type === 'camera/preprocess')!;
  for (const impl of def.impls) {
    const stage = await instantiate(impl, context(def, impl.name));
    const run = async (image: object) => ((await stage.process({ image }, { seq: 0, t0: 0 }))!.tensor as { data: Float32Array }).data;
    const ref = await run(img);
    t.true(maxDifference(ref, await run({ ...img, encoding: 'bgr8', data: bgr })) <= 1e-5, `${impl.name}: bgr8`);
    t.true(maxDifference(ref, await run({ ...img, step: img.step + pad, data: padded })) <= 1e-5, `${impl.name}: padded rows`);
    await stage.close?.();
  }
});
