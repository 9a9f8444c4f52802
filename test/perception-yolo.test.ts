// A user-supplied YOLOv8-format model (`model:=PATH`): the detector runs it and decode + NMS
// turn its [1, 4 + C, N] head into boxes. The model here is generated with that output shape
// and known anchors. Also: a rejected execution provider falls back to cpu with one log line.
import test from 'ava';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { builder } from '../xnodes/perception-common/onnx.js';
import { buildGraph } from '../runtime/graph/index.js';
import { loadLaunchFile } from '../runtime/launch/index.js';
import { Executor } from '../runtime/exec/executor.js';
import { defaultPlan } from '../runtime/exec/plan.js';
import { loadRegistry } from '../runtime/cli/xnodes.js';
import { discoverXpus } from '../runtime/xpu/discover.js';
import { packageRoot } from '../runtime/util/paths.js';
import { context, instantiate, xnodeDef, type ContextLog } from '../xnodes/perception-common/fixtures.js';
import type { Detections2D } from '../xnodes/perception-common/messages.js';

// Anchors: cx, cy, w, h (input pixels of a 64x64 input), then scores of classes 0, 1, 2.
const ANCHORS = [
  [20, 20, 10, 10, 0.9, 0.1, 0.0], // class 0
  [21, 20, 10, 10, 0.8, 0.0, 0.0], // class 0, overlaps the first: suppressed by NMS
  [40, 40, 8, 16, 0.05, 0.7, 0.1], // class 1
  [10, 50, 6, 6, 0.1, 0.1, 0.2], // below the score threshold
  [21, 20, 10, 10, 0.0, 0.0, 0.6], // class 2 over the first: other class, kept
];

async function yoloModel(width = 64, height = 64): Promise<string> {
  const { GraphBuilder, DType } = await builder();
  const N = ANCHORS.length;
  const g = new GraphBuilder('yolo_shaped');
  g.input('images', DType.float, [1, 3, height, width]);
  const head: number[] = [];
  for (let r = 0; r < 7; r++) for (let j = 0; j < N; j++) head.push(ANCHORS[j]![r]!);
  g.floats('head', [1, 7, N], head);
  g.floats('zero', [], [0]);
  // head + 0 * mean(images): the output depends on the input, as a real head does.
  const mean = g.node('ReduceMean', ['images'], { keepdims: 0 });
  const none = g.node('Mul', [mean, 'zero']);
  g.node('Add', ['head', none], {}, ['output0']);
  g.output('output0', DType.float, [1, 7, N]);
  const file = join(mkdtempSync(join(tmpdir(), 'xauto-yolo-')), 'yolov8-shaped.onnx');
  writeFileSync(file, g.toBytes());
  return file;
}

const cameraInfo = { header: { stamp: { sec: 0, nanosec: 0 }, frame_id: 'camera' }, width: 128, height: 128 };
const header = { stamp: { sec: 3, nanosec: 5 }, frame_id: 'camera' };

async function detect(model: string, decodeParams: Record<string, number[] | number> = {}, log?: ContextLog) {
  const det = xnodeDef('detect/detector');
  const detector = await instantiate(det.impls.find((i) => i.name === 'onnx')!, context(det, 'onnx', { model }, log));
  const head = await detector.process({ tensor: { dims: [1, 3, 64, 64], data: new Float32Array(3 * 64 * 64).fill(0.5), header } }, { seq: 0, t0: 0 });
  const results: Detections2D[] = [];
  const dec = xnodeDef('detect/decode');
  const nms = xnodeDef('detect/nms');
  for (const impl of dec.impls) {
    const decode = await instantiate(impl, context(dec, impl.name, { input_width: 64, input_height: 64, ...decodeParams }));
    const raw = await decode.process({ head: head!.head, camera_info: cameraInfo }, { seq: 0, t0: 0 });
    // NMS of the same name where there is one (decode's device implementation feeds the host NMS).
    const ni = nms.impls.find((i) => i.name === impl.name) ?? nms.impls[0]!;
    const suppress = await instantiate(ni, context(nms, ni.name));
    results.push((await suppress.process({ detections: raw!.detections }, { seq: 0, t0: 0 }))!.detections as Detections2D);
  }
  return results;
}

test('a YOLOv8-shaped model given as `model` is run, decoded and suppressed', async (t) => {
  const model = await yoloModel();
  for (const d of await detect(model)) {
    t.is(d.count, 3);
    t.deepEqual(Array.from(d.classes), [0, 1, 2]);
    t.deepEqual(Array.from(d.scores), [0.9, 0.7, 0.6].map(Math.fround));
    // Input pixels scaled to the 128x128 image of the CameraInfo.
    t.deepEqual(Array.from(d.boxes), [30, 30, 50, 50, 72, 64, 88, 96, 32, 30, 52, 50]);
    t.deepEqual(d.header, header);
  }
});

test('class_map renames or drops YOLOv8 classes', async (t) => {
  const model = await yoloModel();
  for (const d of await detect(model, { class_map: [-1, 0, 1] })) {
    // class 0 dropped: the second-best class of anchor 0 is not used (best class only).
    t.deepEqual(Array.from(d.classes), [0, 1]);
    t.deepEqual(Array.from(d.scores), [0.7, 0.6].map(Math.fround));
  }
});

test('a missing or unloadable model is a clear error at start', async (t) => {
  const det = xnodeDef('detect/detector');
  const onnx = det.impls.find((i) => i.name === 'onnx')!;
  await t.throwsAsync(instantiate(onnx, context(det, 'onnx', { model: '/nonexistent/model.onnx' })), { message: /parameter 'model' of 'detector': no file/ });
  const junk = join(mkdtempSync(join(tmpdir(), 'xauto-junk-')), 'junk.onnx');
  writeFileSync(junk, 'not a model');
  await t.throwsAsync(instantiate(onnx, context(det, 'onnx', { model: junk })), { message: /onnxruntime cannot load/ });
  const js = det.impls.find((i) => i.name === 'js')!;
  await t.throwsAsync(instantiate(js, context(det, 'js', { model: junk })), { message: /runs only the generated detector; use impl 'onnx'/ });
});

test('an execution provider onnxruntime rejects falls back to cpu with one log line', async (t) => {
  const det = xnodeDef('detect/detector');
  const log: ContextLog = { counts: {}, logs: [], sections: {} };
  const ctx = { ...context(det, 'onnx', {}, log), executionProvider: 'cuda' };
  const stage = await instantiate(det.impls[0]!, ctx);
  const out = await stage.process({ tensor: { dims: [1, 3, 240, 320], data: new Float32Array(3 * 240 * 320) } }, { seq: 0, t0: 0 });
  t.deepEqual((out!.head as { dims: number[] }).dims, [1, 3, 240, 320]);
  t.is(log.logs.length, 1);
  t.regex(log.logs[0]!, /execution provider 'cuda' rejected .*falling back to cpu/);
});

test.serial('model:=PATH through the perception launch file runs the user model on the onnx implementation', async (t) => {
  const model = await yoloModel(320, 240);
  const desc = loadLaunchFile(join(packageRoot(), 'launch', 'perception.launch.yaml'), { args: { model, normalization: 'unit', objects: '4' } });
  t.deepEqual(desc.xnodes.find((x) => x.name === 'detector')!.impls, ['onnx']);
  const graph = buildGraph(desc, await loadRegistry({ types: desc.xnodes.map((x) => x.type) }));
  const xpus = await discoverXpus({ workers: 1 });
  let decoded = 0;
  const ex = new Executor(graph, defaultPlan(graph, xpus), {
    xpus,
    frames: 5,
    log: () => {},
    tap: (topic, v) => {
      if (topic === '/perception/detections') decoded += (v as Detections2D).count;
    },
  });
  await ex.start();
  await ex.run();
  await ex.close();
  const r = ex.report();
  t.true(r.stages.every((s) => s.errors === 0 && s.runs === 5));
  t.is(decoded, 3 * 5, 'the three planted boxes survive decode and NMS on every frame');
});
