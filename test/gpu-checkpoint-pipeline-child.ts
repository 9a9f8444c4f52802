// A small stateful pipeline in its own process for the crash-recovery test: per source frame
// k, deterministic objects go through the tracker (host state) and a deterministic lidar
// cloud into the occupancy map (device state); the tracks of each frame are printed. With
// --every S it checkpoints at frame boundaries; with --restore it resumes from the image.
// Run: node --import=tsx test/gpu-checkpoint-pipeline-child.ts DIR FRAMES [--every S] [--restore]
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { crc32 } from 'node:zlib';
import { CheckpointDriver } from '../runtime/gpu/checkpoint-driver.js';
import { acquireDevice } from '../runtime/gpu/index.js';
import { stateOf, type StageInstance } from '../runtime/xnode/index.js';
import { occupancy } from '../xnodes/mapping/index.js';
import { stampOf, type FusedObject, type Objects, type Points } from '../xnodes/perception-common/messages.js';
import { Rng } from '../xnodes/perception-common/rng.js';
import { track } from '../xnodes/tracking/index.js';
import { instantiate } from './fixtures/instantiate.js';

export const MAP = { nx: 128, ny: 128, nz: 8, voxel: 0.25, ox: -16, oy: -16, oz: -1.5 };

/** Source frame k's objects and cloud: a function of k alone, as a synthetic sensor's are. */
export function sources(k: number): { objects: Objects; points: Points } {
  const rng = new Rng(1000 + k);
  const objects: FusedObject[] = [];
  for (let i = 0; i < 8; i++) {
    if (rng.next() < 0.1) continue;
    const x = 8 + i * 3 + k * 0.05 * (i % 4) + (rng.next() - 0.5) * 0.2;
    const y = -8 + i * 2 + k * 0.02 + (rng.next() - 0.5) * 0.2;
    objects.push({ cls: i % 3, score: 0.8, box2d: [i, i, i + 9, i + 9], center: [x, y, 0.8], size: [4, 2, 1.6], lidar: i % 2 === 0 });
  }
  const n = 400;
  const pts = new Float32Array(n * 4);
  for (let i = 0; i < n; i++) {
    pts[i * 4] = (rng.next() - 0.5) * 30;
    pts[i * 4 + 1] = (rng.next() - 0.5) * 30;
    pts[i * 4 + 2] = rng.next() * 2 - 1;
  }
  const header = { stamp: stampOf(k * 0.1), frame_id: 'map' };
  return { objects: { header, objects }, points: { header, points: pts } };
}

async function main(argv: string[]): Promise<void> {
  const [dir, framesArg] = argv;
  const frames = Number(framesArg);
  const every = argv.includes('--every') ? Number(argv[argv.indexOf('--every') + 1]) : 0;
  const lease = acquireDevice();
  let start = 0;
  let driver: CheckpointDriver | undefined;
  let resumed;
  const opts = { everyS: every, chunkBytes: 16384, onCommit: (e: number, f: number) => console.log(`committed ${e} frame ${f}`) };
  if (argv.includes('--restore')) {
    resumed = CheckpointDriver.resume(lease.device, dir!, opts);
    driver = resumed.driver;
    start = resumed.frame + 1;
  }
  const tracker = await instantiate(track, 'js');
  const map = (await instantiate(occupancy, 'device', MAP)) as StageInstance & { read(): Uint32Array };
  if (resumed) {
    stateOf(tracker)!.restore(resumed.states.tracker!);
    stateOf(map)!.restore(resumed.states.map!);
  } else if (every > 0) {
    driver = CheckpointDriver.start(lease.device, dir!, opts);
  }
  console.log(`start ${start}`);
  for (let k = start; k < frames; k++) {
    const src = sources(k);
    const [tr, mp] = await Promise.all([tracker.process({ objects: src.objects }, { seq: k, t0: 0 }), map.process({ points: src.points }, { seq: k, t0: 0 })]);
    console.log(`frame ${k} ${JSON.stringify({ tracks: (tr as { tracks: unknown }).tracks, map: (mp as { map: unknown }).map })}`);
    driver?.frameDone(k, { tracker: stateOf(tracker)!, map: stateOf(map)! });
    if (every > 0) await sleep(5);
  }
  await driver?.drain();
  console.log(`grid ${crc32(map.read())}`);
  await map.close?.();
  lease.release();
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main(process.argv.slice(2));
