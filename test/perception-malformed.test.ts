// Malformed inputs (wrong encoding, wrong sizes, empty clouds, NaN/Inf points, wrong tensor
// shapes) are dropped and counted with a clear reason, or handled; never a crash.
import test from 'ava';
import { buildGraph, describeXNodes } from '../runtime/graph/index.js';
import { Executor } from '../runtime/exec/executor.js';
import { defaultPlan } from '../runtime/exec/plan.js';
import { counters } from '../runtime/trace/counters.js';
import { XNodeRegistry, defineXNode } from '../runtime/xnode/index.js';
import type { PortValues } from '../runtime/xnode/types.js';
import { discoverXpus } from '../runtime/xpu/discover.js';
import { DROPPED } from '../xnodes/perception-common/check.js';
import { context, instantiate, perceptionXNodes, sampleInputs, xnodeDef, type ContextLog } from '../xnodes/perception-common/fixtures.js';
import type { Image, PointCloud2 } from '../xnodes/perception-common/messages.js';
import { LIDAR_FIELDS, makeCloud } from '../xnodes/perception-common/pointcloud.js';
import { perceptionAddon } from '../xnodes/perception-common/native.js';
import { INVALID_POINTS } from '../xnodes/lidar/stages.js';

const samples = sampleInputs(1, { objects: 6, seed: 2 });

/** Runs every implementation of `type` on `inputs`; returns outputs and what each recorded. */
async function each(type: string, inputs: PortValues) {
  const def = xnodeDef(type);
  const out: Array<{ impl: string; result: unknown; log: ContextLog }> = [];
  for (const impl of def.impls) {
    const log: ContextLog = { counts: {}, logs: [], sections: {} };
    const stage = await instantiate(impl, context(def, impl.name, {}, log));
    const result = await stage.process(inputs, { seq: 0, t0: 0 });
    await stage.close?.();
    out.push({ impl: impl.name, result, log });
  }
  return out;
}

async function dropped(t: import('ava').ExecutionContext, type: string, inputs: PortValues, reason: RegExp) {
  for (const r of await each(type, inputs)) {
    t.is(r.result, null, `${type} ${r.impl} emits nothing`);
    t.is(r.log.counts[DROPPED], 1, `${type} ${r.impl} counts the drop`);
    t.regex(r.log.logs.join('\n'), reason, `${type} ${r.impl} says why`);
  }
}

test('images with a wrong encoding or size are dropped with the reason', async (t) => {
  const img = (await samples)[0]!['camera/preprocess']!.image as Image;
  await dropped(t, 'camera/preprocess', { image: { ...img, encoding: 'mono8' } }, /encoding 'mono8': expected one of rgb8, bgr8/);
  await dropped(t, 'camera/preprocess', { image: { ...img, data: img.data.subarray(0, 1000) } }, /data: 1000 bytes, expected step\*height/);
  await dropped(t, 'camera/preprocess', { image: { ...img, step: 10 } }, /step 10: expected >= width\*3/);
  await dropped(t, 'camera/preprocess', { image: 'not an image' }, /expected a sensor_msgs\/msg\/Image/);
});

test('tensors of the wrong shape are dropped by the detector and the decoder', async (t) => {
  const tensor = { dims: [1, 3, 10, 10], data: new Float32Array(300) };
  await dropped(t, 'detect/detector', { tensor }, /dims \[1, 3, 10, 10\]/);
  await dropped(t, 'detect/detector', { tensor: { dims: [1, 3, 240, 320], data: new Float32Array(5) } }, /hold 230400 values, data has 5/);
  await dropped(t, 'detect/decode', { head: { dims: [2, 3], data: new Float32Array(6) } }, /expected a heatmap \[1, C, h, w\] or a YOLOv8 head/);
  await dropped(t, 'detect/decode', { head: { dims: [1, 3, 8], data: new Float32Array(24) } }, /4 box rows \+ at least one class row/);
  await dropped(t, 'detect/nms', { detections: { count: 2, boxes: new Float32Array(4), scores: new Float32Array(2), classes: new Int32Array(2) } }, /count 2 does not match/);
});

test('an empty cloud gives empty points, no clusters, no error', async (t) => {
  const header = { stamp: { sec: 1, nanosec: 0 }, frame_id: 'base_link' };
  const empty = makeCloud(header, new Float32Array(0), new Uint16Array(0), 0);
  for (const r of await each('lidar/voxel', { points: empty })) {
    t.deepEqual((r.result as { points: { points: Float32Array } }).points.points, new Float32Array(0), r.impl);
  }
  const none = { header, points: new Float32Array(0) };
  for (const r of await each('lidar/ground', { points: none })) t.is((r.result as { points: { points: Float32Array } }).points.points.length, 0);
  for (const r of await each('lidar/cluster', { points: none })) t.is((r.result as { clusters: { count: number } }).clusters.count, 0);
});

test('NaN and Inf points are left out and counted; the rest of the cloud is used', async (t) => {
  const cloud = (await samples)[0]!['lidar/voxel']!.points as PointCloud2;
  const data = cloud.data.slice();
  const f = new Float32Array(data.buffer);
  f[0] = NaN; // point 0: x
  f[5 + 2] = Infinity; // point 1: z
  f[10 + 1] = -Infinity; // point 2: y
  const bad = { ...cloud, data, is_dense: false };
  const good = { ...cloud, data: cloud.data.slice(15 * 4), width: cloud.width - 3, row_step: (cloud.width - 3) * cloud.point_step };
  const clean = await each('lidar/voxel', { points: good });
  for (const [i, r] of (await each('lidar/voxel', { points: bad })).entries()) {
    t.is(r.log.counts[INVALID_POINTS], 3, r.impl);
    t.false(DROPPED in r.log.counts, r.impl);
    const pts = (r.result as { points: { points: Float32Array } }).points.points;
    t.true(pts.every(Number.isFinite), r.impl);
    t.deepEqual(pts, (clean[i]!.result as { points: { points: Float32Array } }).points.points, `${r.impl}: as if the bad points were absent`);
  }
});

test('clouds without float x/y/z or with short data are dropped with the reason', async (t) => {
  const cloud = (await samples)[0]!['lidar/voxel']!.points as PointCloud2;
  await dropped(t, 'lidar/voxel', { points: { ...cloud, fields: LIDAR_FIELDS.filter((f) => f.name !== 'z') } }, /fields: no 'z' field/);
  await dropped(t, 'lidar/voxel', { points: { ...cloud, fields: LIDAR_FIELDS.map((f) => (f.name === 'x' ? { ...f, datatype: 8 } : f)) } }, /fields.x: datatype 8, expected FLOAT32/);
  await dropped(t, 'lidar/voxel', { points: { ...cloud, width: cloud.width + 10 } }, /data: \d+ bytes, expected width\*height\*point_step/);
  await dropped(t, 'lidar/ground', { points: { header: cloud.header, points: new Float32Array(7) } }, /expected xauto\/Points/);
});

test('fusion and tracking drop inconsistent messages', async (t) => {
  const s = (await samples)[0]!;
  const fuse = s['fusion/fuse']!;
  await dropped(t, 'fusion/fuse', { ...fuse, camera_info: { ...(fuse.camera_info as object), k: new Float64Array(3) } }, /camera_info: expected .* k\[9\]/);
  await dropped(t, 'fusion/fuse', { ...fuse, clusters: { count: 3, boxes: new Float32Array(2) } }, /expected xauto\/Clusters/);
  const objects = s['tracking/track']!.objects as { header: unknown; objects: Array<{ center: number[] }> };
  const broken = { ...objects, objects: objects.objects.map((o, i) => (i === 0 ? { ...o, center: [NaN, 0, 0] } : o)) };
  await dropped(t, 'tracking/track', { objects: broken }, /objects\[0\]: expected finite center/);
});

test('the native kernels refuse wrong arguments with a TypeError, not a crash', (t) => {
  const addon = perceptionAddon();
  t.throws(() => addon.voxelGrid(new Float64Array(4) as unknown as Float32Array, 0.2), { instanceOf: TypeError });
  t.throws(() => addon.euclideanClusters(new Float32Array(5), 0.5, 1, 10), { message: /multiple of 4/ });
});

test.serial('in a running pipeline malformed frames are dropped and counted; the others flow', async (t) => {
  // A camera that sends every other image with a wrong encoding.
  const flaky = defineXNode({
    type: 'probe/flaky_camera',
    outputs: { image: { type: 'sensor_msgs/msg/Image' } },
    params: { rate: { type: 'float', default: 0 } },
    impls: [
      {
        name: 'js',
        xpu: 'cpu',
        backend: 'main',
        create: () => (_in, f) => ({
          image: { header: { stamp: { sec: f.seq, nanosec: 0 }, frame_id: 'c' }, height: 48, width: 64, encoding: f.seq % 2 ? 'yuv422' : 'rgb8', is_bigendian: 0, step: 192, data: new Uint8Array(48 * 192) },
        }),
      },
    ],
  });
  const sink = defineXNode({
    type: 'probe/count',
    inputs: { tensor: { type: 'xauto/Tensor' } },
    impls: [{ name: 'js', xpu: 'cpu', backend: 'main', create: (ctx) => () => (ctx.count('probe.tensors'), null) }],
  });
  const registry = new XNodeRegistry().register(flaky, sink, ...perceptionXNodes);
  const graph = buildGraph(
    describeXNodes([
      { name: 'cam', type: 'probe/flaky_camera', outputs: { image: '/img' } },
      { name: 'pre', type: 'camera/preprocess', impls: ['worker'], inputs: { image: '/img' }, outputs: { tensor: '/t' } },
      { name: 'sink', type: 'probe/count', inputs: { tensor: '/t' } },
    ]),
    registry,
  );
  const xpus = await discoverXpus({ workers: 1 });
  counters.reset();
  const ex = new Executor(graph, defaultPlan(graph, xpus), { xpus, frames: 20, log: () => {} });
  await ex.start();
  await ex.run();
  await ex.close();
  t.is(counters.get(DROPPED), 10);
  t.is(counters.get('probe.tensors'), 10);
  t.true(ex.report().stages.every((s) => s.errors === 0));
});

test('every perception XNODE is covered by these fixtures', (t) => {
  t.is(perceptionXNodes.length, 12);
});
