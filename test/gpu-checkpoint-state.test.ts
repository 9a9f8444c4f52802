// XNODE state: the tracker's host state and the occupancy map's device grid, checkpointed at a
// frame boundary and restored into new instances, go on exactly as an uninterrupted run.
import test from 'ava';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Checkpointer } from '../runtime/gpu/checkpoint.js';
import { acquireDevice } from '../runtime/gpu/index.js';
import { decodeState, encodeState, stateOf, type StageInstance } from '../runtime/xnode/index.js';
import { occupancy } from '../xnodes/mapping/index.js';
import { stampOf, type FusedObject, type Objects, type Points } from '../xnodes/perception-common/messages.js';
import { Rng } from '../xnodes/perception-common/rng.js';
import { track } from '../xnodes/tracking/index.js';
import { instantiate } from './fixtures/instantiate.js';

const frame = (seq: number) => ({ seq, t0: 0 });
/** JSON round trip, as the image stores it. */
const throughImage = (v: unknown) => decodeState(JSON.parse(JSON.stringify(v)));

function objectsAt(k: number, rng: Rng): Objects {
  const objects: FusedObject[] = [];
  for (let i = 0; i < 6; i++) {
    if (rng.next() < 0.1) continue; // missed detections
    const x = 10 + i * 4 + k * 0.3 * (i % 3) + (rng.next() - 0.5) * 0.2;
    const y = -6 + i * 2 + k * 0.1 + (rng.next() - 0.5) * 0.2;
    objects.push({ cls: i % 2, score: 0.9, box2d: [i, i, i + 10, i + 10], center: [x, y, 0.8], size: [4, 2, 1.6], lidar: i % 2 === 0 });
  }
  return { header: { stamp: stampOf(k * 0.1), frame_id: 'base_link' }, objects };
}

test('tracker: restored from a snapshot mid-run, its tracks equal the uninterrupted run field for field', async (t) => {
  const a = await instantiate(track, 'js');
  const rng = new Rng(5);
  const inputs = Array.from({ length: 60 }, (_, k) => objectsAt(k, rng));
  const cut = 25;
  const outA: unknown[] = [];
  let snap;
  for (let k = 0; k < inputs.length; k++) {
    outA.push(await a.process({ objects: inputs[k] }, frame(k)));
    if (k === cut) snap = encodeState(stateOf(a)!.snapshot());
  }
  const b = await instantiate(track, 'js');
  stateOf(b)!.restore(throughImage(snap));
  for (let k = cut + 1; k < inputs.length; k++) t.deepEqual(await b.process({ objects: inputs[k] }, frame(k)), outA[k], `frame ${k}`);
  const ids = (outA.at(-1) as { tracks: { detections: Array<{ id: string }> } }).tracks.detections.map((d) => d.id);
  t.true(ids.length > 0, 'tracks were reported');
});

test('tracker: a snapshot is a copy, and a snapshot of other parameters is refused without change', async (t) => {
  const a = await instantiate(track, 'js');
  const rng = new Rng(6);
  for (let k = 0; k < 5; k++) await a.process({ objects: objectsAt(k, rng) }, frame(k));
  const s = stateOf(a)!.snapshot();
  const before = encodeState(s);
  await a.process({ objects: objectsAt(5, rng) }, frame(5));
  t.deepEqual(encodeState(s), before, 'later frames do not change a snapshot');
  const small = await instantiate(track, 'js', { max_tracks: 8 });
  const mine = encodeState(stateOf(small)!.snapshot());
  t.throws(() => stateOf(small)!.restore(s), { message: /array 'x' is Float64Array\[512\] in the snapshot, Float64Array\[32\] here/ });
  t.deepEqual(encodeState(stateOf(small)!.snapshot()), mine);
});

function cloud(k: number, rng: Rng): Points {
  const n = 500 + (k % 7) * 50;
  const pts = new Float32Array(n * 4);
  for (let i = 0; i < n; i++) {
    pts[i * 4] = (rng.next() - 0.5) * 30 + k * 0.05;
    pts[i * 4 + 1] = (rng.next() - 0.5) * 30;
    pts[i * 4 + 2] = rng.next() * 3 - 1;
    pts[i * 4 + 3] = 1;
  }
  return { header: { stamp: stampOf(k * 0.1), frame_id: 'map' }, points: pts };
}

const small = { nx: 160, ny: 160, nz: 8, voxel: 0.2, ox: -16, oy: -16, oz: -1.5 };
type Map = StageInstance & { read(): Uint32Array };

test.serial('occupancy map: the device grid equals the JS grid, and survives a device checkpoint with its XNODE state', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'xauto-map-'));
  const rng = new Rng(9);
  const clouds = Array.from({ length: 30 }, (_, k) => cloud(k, rng));
  const ref = (await instantiate(occupancy, 'js', small)) as Map;
  for (const c of clouds) await ref.process({ points: c }, frame(0));

  // Run 1: 12 frames, then a device checkpoint at the frame boundary, with the map's host state.
  const lease = acquireDevice();
  const dev = (await instantiate(occupancy, 'device', small)) as Map;
  const ck = new Checkpointer(lease.device, { dir, chunkBytes: 4096 });
  for (let k = 0; k < 12; k++) await dev.process({ points: clouds[k] }, frame(k));
  const e = ck.begin({ xnodes: { map: encodeState(stateOf(dev)!.snapshot()) } });
  await dev.process({ points: clouds[12] }, frame(12)); // races the checkpoint; not in the image
  await e.committed;
  await dev.close?.();
  lease.release();

  // Run 2: a new device restored from the image; a new map instance takes its grid over.
  const lease2 = acquireDevice();
  t.not(lease2.device, lease.device);
  const { image } = Checkpointer.restore(lease2.device, dir);
  const dev2 = (await instantiate(occupancy, 'device', small)) as Map;
  stateOf(dev2)!.restore(throughImage(image.manifest.xnodes.map));
  let last;
  for (let k = 12; k < clouds.length; k++) last = await dev2.process({ points: clouds[k] }, frame(k));
  t.deepEqual(dev2.read(), ref.read(), 'restored grid + later frames = uninterrupted grid');
  t.like(last as object, { map: { frames: clouds.length, points: clouds.reduce((n, c) => n + c.points.length / 4, 0) } });
  await image.loaded;
  await dev2.close?.();
  lease2.release();
  rmSync(dir, { recursive: true, force: true });
});
