// Device-resident tensors between device stages: the lidar chain on the device equals the JS
// chain, points cross the host boundary only at the chain's edges, and the ring rule holds (a
// held tensor is never overwritten; a message kept past its ring is detected as stale).
import test from 'ava';
import { Device } from '../runtime/gpu/index.js';
import { StaleTensorError, TensorRing, deviceTensorOf } from '../runtime/gpu/tensor.js';
import { counters } from '../runtime/trace/counters.js';
import type { PortValues, StageInstance } from '../runtime/xnode/types.js';
import type { PointCloud2 } from '../xnodes/perception-common/messages.js';
import { readCloud } from '../xnodes/perception-common/pointcloud.js';
import { context, instantiate, maxDifference, sampleInputs, xnodeDef } from '../xnodes/perception-common/fixtures.js';

const FRAMES = 3;
const samples = sampleInputs(FRAMES, { objects: 10, seed: 5 });

async function stage(type: string, impl: string): Promise<StageInstance> {
  const def = xnodeDef(type);
  return instantiate(def.impls.find((i) => i.name === impl)!, context(def, impl));
}

test.serial('voxel -> ground -> cluster on the device equals the JS chain; points stay on the device between them', async (t) => {
  const inputs = await samples;
  const types = ['lidar/voxel', 'lidar/ground', 'lidar/cluster'];
  const dev = await Promise.all(types.map((ty) => stage(ty, 'device')));
  const js = await Promise.all(types.map((ty) => stage(ty, 'js')));
  for (let seq = 0; seq < FRAMES; seq++) {
    const f = { seq, t0: 0 };
    const cloud = inputs[seq]!['lidar/voxel'] as PortValues;
    counters.reset();
    const v = (await dev[0]!.process(cloud, f))!;
    const g = (await dev[1]!.process({ points: v.points }, f))!;
    const c = (await dev[2]!.process({ points: g.points }, f))!;
    const ref = (await js[2]!.process((await js[1]!.process((await js[0]!.process(cloud, f))!, f))!, f))!;
    t.true(maxDifference(c.clusters, ref.clusters) <= 1e-4, `frame ${seq}: clusters agree`);
    const snap = counters.snapshot();
    const cloudBytes = readCloud(cloud.points as PointCloud2).points.byteLength;
    // Uploads: the cloud's points (once) and ground's 3 x iterations sample indices; nothing else.
    t.is(snap['device.upload_bytes.voxel'], cloudBytes, 'voxel uploads the cloud once');
    t.is(snap['device.upload_bytes.ground'], 60 * 3 * 4, 'ground uploads only its sample indices');
    t.is(snap['device.upload_bytes.cluster'] ?? 0, 0, 'cluster reads the points where ground left them');
    t.is(snap['device.download_bytes.voxel'], 4, 'the voxel output stays on the device (only its row count is read back)');
    t.is(snap['device.download_bytes.ground'], 4, 'the ground output stays on the device (only its row count is read back)');
  }
  for (const s of [...dev, ...js]) await s.close?.();
});

test.serial('ring rule: a held tensor is never overwritten (the ring grows); an unheld one past the ring is stale', (t) => {
  const d = new Device();
  const ring = new TensorRing(d, 'producer', 2);
  const a = ring.take(64, [4], 'f32');
  a.buffer.write(Float32Array.of(1, 1, 1, 1));
  a.hold(); // consumers are reading frames 0 and 1
  const b = ring.take(64, [4], 'f32');
  b.hold();
  const c = ring.take(64, [4], 'f32'); // every slot is held: a third one is made
  t.is(ring.grew, 1, 'the ring grew instead of overwriting a held slot');
  t.not(c.buffer, a.buffer);
  t.not(c.buffer, b.buffer);
  t.deepEqual([...a.buffer.readFloat32(4)], [1, 1, 1, 1]);
  t.true(a.fresh && b.fresh);
  a.release();
  const d2 = ring.take(64, [4], 'f32');
  t.is(d2.buffer, a.buffer, 'a released slot is reused');
  t.false(a.fresh);
  b.release();
  // Frame c was never held: after the producer goes round the ring it is stale.
  for (let i = 0; i < ring.size; i++) ring.take(64, [4], 'f32');
  t.false(c.fresh);
  t.throws(() => c.hold(), { instanceOf: StaleTensorError });
  t.throws(() => c.toHost(), { instanceOf: StaleTensorError });
  ring.close();
  d.close();
});

test.serial('a device consumer drops (and counts) a frame whose tensor went stale; a host consumer reads the points', async (t) => {
  const inputs = await samples;
  const vdef = xnodeDef('lidar/voxel');
  const voxel = await instantiate(vdef.impls.find((i) => i.name === 'device')!, context(vdef, 'device'));
  const gdef = xnodeDef('lidar/ground');
  const log = { counts: {} as Record<string, number>, logs: [] as string[], sections: {} };
  const ground = await instantiate(gdef.impls.find((i) => i.name === 'device')!, context(gdef, 'device', {}, log));
  const first = (await voxel.process(inputs[0]!['lidar/voxel'] as PortValues, { seq: 0, t0: 0 }))!;
  for (let seq = 1; seq <= 3; seq++) await voxel.process(inputs[seq % FRAMES]!['lidar/voxel'] as PortValues, { seq, t0: 0 });
  t.is(await ground.process({ points: first.points }, { seq: 0, t0: 0 }), null);
  t.is(log.counts['device.stale_frames'], 1);
  const fresh = (await voxel.process(inputs[0]!['lidar/voxel'] as PortValues, { seq: 4, t0: 0 }))!;
  const host = (fresh.points as { points: Float32Array }).points;
  t.true(host instanceof Float32Array && host.length > 0 && host.length % 4 === 0, 'a host consumer gets the points');
  await voxel.close?.();
  await ground.close?.();
});

test.serial('a message emitted before its producer closed stays readable (the ring keeps a host copy at close)', async (t) => {
  const inputs = await samples;
  const vdef = xnodeDef('lidar/voxel');
  const dev = await instantiate(vdef.impls.find((i) => i.name === 'device')!, context(vdef, 'device'));
  const js = await instantiate(vdef.impls.find((i) => i.name === 'js')!, context(vdef, 'js'));
  const f = { seq: 0, t0: 0 };
  const out = (await dev.process(inputs[0]!['lidar/voxel'] as PortValues, f))!;
  await dev.close?.();
  const ref = (await js.process(inputs[0]!['lidar/voxel'] as PortValues, f))!;
  t.true(maxDifference(out.points, ref.points) <= 1e-4);
});
