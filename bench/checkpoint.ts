// Concurrent checkpoint/restore against its baselines, on one device holding a large state
// (default 256 MiB: a tiled map, `--mib N`) while a frame loop keeps updating it: each frame
// rewrites 2 random 1 MiB tiles and a small work buffer, then awaits its launches.
// Checkpoints are full epochs taken at a frame boundary; the measured one is each round's second.
//  - stall: the time the application was held by a checkpoint taken at a frame boundary:
//    concurrent (begin's metadata + copy-on-write on the launch path) vs stop-the-world (the
//    whole copy before frames go on). Rounds alternate between the modes.
//  - incremental: chunk-data + manifest bytes of an incremental epoch vs the bytes the frames
//    since the last epoch wrote (union of their write sets).
//  - first output: restore into a fresh device and run one frame; all chunks loaded first vs
//    metadata first with on-demand loads.
//  - slowdown: the perception launch with its device map, e2e p50 with a checkpoint every
//    second vs without (checkpoint-pipeline.ts; `--map-cells N`, `--pipeline-only`).
//  - start: a new process's time to first output, cold, from an image with its warm models
//    (onnxruntime's optimized models kept in the image), and from the same image with the
//    source models (--warm-models always / never; what `auto` picks for each model is printed)
//    (checkpoint-pipeline.ts; `--start-only`).
//  - migrate pause: the tracker (host state; on the main thread, and on a worker thread) and
//    the map (its device grid too) moved live to another process (--migrate), the first forwarded frame's wait from the hand-over to its
//    start there (checkpoint-pipeline.ts).
// The image goes to the OS temp directory (real files, fsync). Figures are noisy on a shared machine.
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Checkpointer, type CheckpointMode } from '../runtime/gpu/checkpoint.js';
import { epochDir } from '../runtime/gpu/checkpoint-image.js';
import { prng } from '../runtime/gpu/corpus.js';
import { Device, type DeviceBuffer, type Stream } from '../runtime/gpu/index.js';
import { migratePause, pipelineSlowdown, startFromImage } from './checkpoint-pipeline.js';

const TILE = 1 << 20;
const now = () => performance.now();
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

interface World {
  device: Device;
  stream: Stream;
  tiles: DeviceBuffer[];  // 32 MiB each
  work: DeviceBuffer;
}

function world(device: Device, mib: number, buffers?: Map<number, DeviceBuffer>, handles?: number[]): World {
  const perBuf = Math.min(32, mib);
  const tiles: DeviceBuffer[] = [];
  if (buffers && handles) {
    for (const h of handles.slice(0, -1)) tiles.push(buffers.get(h)!);
    return { device, stream: device.stream(), tiles, work: buffers.get(handles.at(-1)!)! };
  }
  const fill = new Float32Array(TILE / 4).map((_, i) => (i % 977) / 977);
  for (let left = mib; left > 0; left -= perBuf) {
    const b = device.alloc(Math.min(perBuf, left) * TILE);
    for (let o = 0; o < b.bytes; o += TILE) b.write(fill, o);
    tiles.push(b);
  }
  const work = device.upload(new Float32Array(1024).fill(1));
  return { device, stream: device.stream(), tiles, work };
}

const handlesOf = (w: World) => [...w.tiles.map((t) => t.handle), w.work.handle];

/** One frame: 2 tiles and the work buffer rewritten; returns the bytes it wrote, per buffer. */
async function frame(w: World, r: () => number, dirty?: Map<number, Set<number>>): Promise<void> {
  const ls = [];
  for (let i = 0; i < 2; i++) {
    const b = w.tiles[Math.floor(r() * w.tiles.length)]!;
    const t = Math.floor(r() * (b.bytes / TILE));
    ls.push(w.stream.launch('scale_inplace', { n: TILE / 4, s: 0.999, x: b.at(t * TILE) }));
  }
  ls.push(w.stream.launch('add_inplace', { n: 1024, a: w.work, b: w.work }));
  for (const l of ls)
    for (const wr of l.writes) {
      let s = dirty?.get(wr.buffer);
      if (dirty && !s) dirty.set(wr.buffer, (s = new Set()));
      // writes here are whole tiles or the whole work buffer: record [offset, bytes]
      s?.add(wr.offset * 1e9 + wr.bytes);
    }
  await Promise.all(ls.map((l) => l.done));
}

const dirtyBytes = (d: Map<number, Set<number>>) => {
  let n = 0;
  for (const s of d.values()) for (const k of s) n += k % 1e9;
  return n;
};

interface Checkpointed {
  w: World;
  ck: Checkpointer;
  r: () => number;
  dir: string;
}

async function checkpointed(mib: number, mode: CheckpointMode, seed: number): Promise<Checkpointed> {
  const dir = mkdtempSync(join(tmpdir(), 'xauto-bench-ckpt-'));
  const d = new Device();
  const w = world(d, mib);
  const ck = new Checkpointer(d, { dir });
  const r = prng(seed);
  for (let i = 0; i < 5; i++) await frame(w, r);
  // Periodic checkpointing: measured epochs come after a first one (host staging mapped).
  await ck.begin({ mode }).committed;
  return { w, ck, r, dir };
}

/** One full epoch at a frame boundary while frames go on; what held the application. */
async function stallRound(x: Checkpointed, mode: CheckpointMode, hz: number) {
  const { w, ck, r } = x;
  for (let i = 0; i < 3; i++) await frame(w, r);
  const t0 = now();
  const e = ck.begin({ mode, incremental: false });
  let frames = 0;
  let done = false;
  const c = e.committed.then((v) => ((done = true), v));
  while (!done) {
    const f0 = now();
    await frame(w, r);
    frames++;
    if (hz > 0) await sleep(Math.max(0, 1000 / hz - (now() - f0)));
  }
  const res = (await c).result;
  const totalMs = now() - t0;
  return { pauseMs: (e.pauseUs + res.cowUs) / 1000, beginMs: e.pauseUs / 1000, cowMs: res.cowUs / 1000, cow: res.cowChunks, copyMs: res.copyUs / 1000, writeMs: res.writeUs / 1000, frames, totalMs };
}

export default async function main(args: string[]): Promise<void> {
  const at = args.indexOf('--mib');
  const mib = at >= 0 ? Number(args[at + 1]) : 256;
  if (!(mib >= 1)) throw new Error('bench checkpoint: --mib expects a positive number');
  const rounds = 3;
  const hzAt = args.indexOf('--hz');
  const hz = hzAt >= 0 ? Number(args[hzAt + 1]) : 10; // the perception pipeline's sensor rate
  const cellsAt = args.indexOf('--map-cells');
  const mapCells = cellsAt >= 0 ? Number(args[cellsAt + 1]) : 1024;
  if (!(Number.isInteger(mapCells) && mapCells >= 16)) throw new Error('bench checkpoint: --map-cells expects an integer >= 16');
  if (args.includes('--start-only')) {
    const st = await startFromImage({ mapCells, rounds: 3, log: console.log });
    console.log(JSON.stringify({ map_mib: (mapCells * mapCells * 32) / 2 ** 20, ...startKeys(st) }));
    return;
  }
  if (args.includes('--pipeline-only')) {
    const p = await pipelineSlowdown({ mapCells, seconds: 6, rounds: 5, log: console.log });
    const st = await startFromImage({ mapCells, rounds: 3, log: console.log });
    const mg = await migratePause({ rounds: 3, mapCells, log: console.log });
    console.log(JSON.stringify({ map_mib: p.mapMib, ...pipelineKeys(p, st, mg) }));
    return;
  }
  console.log(`checkpoint: ${mib} MiB of device state (${Math.ceil(mib / 32)} buffers of <= 32 MiB, 1 MiB chunks), frames rewrite 2 tiles each; ${rounds} rounds per mode`);

  // 1. stall, at the pipeline's frame rate and with frames back to back (the worst case)
  const subjects = {
    concurrent: await checkpointed(mib, 'concurrent', 100),
    'stop-the-world': await checkpointed(mib, 'stop-the-world', 100),
  };
  const stall = async (hz: number) => {
    const st: Record<CheckpointMode, Array<Awaited<ReturnType<typeof stallRound>>>> = { concurrent: [], 'stop-the-world': [] };
    for (let i = 0; i < rounds; i++)
      for (const m of ['concurrent', 'stop-the-world'] as const) {
        process.stderr.write(`  stall ${hz ? `${hz} Hz` : 'back to back'} round ${i + 1}/${rounds} ${m}          \r`);
        st[m].push(await stallRound(subjects[m], m, hz));
      }
    console.log(`  frames ${hz ? `at ${hz} Hz` : 'back to back'}:`);
    console.log('  mode             pause ms  (begin ms  cow ms  cow chunks)  copy ms  write ms  frames during  epoch ms');
    for (const m of ['concurrent', 'stop-the-world'] as const) {
      const x = st[m];
      const pick = (f: (v: (typeof x)[0]) => number) => median(x.map(f)).toFixed(2).padStart(8);
      console.log(`  ${m.padEnd(15)} ${pick((v) => v.pauseMs)}  (${pick((v) => v.beginMs)} ${pick((v) => v.cowMs)}  ${pick((v) => v.cow)})  ${pick((v) => v.copyMs)}  ${pick((v) => v.writeMs)}  ${pick((v) => v.frames)}  ${pick((v) => v.totalMs)}`);
    }
    const c = median(st.concurrent.map((v) => v.pauseMs)), s = median(st['stop-the-world'].map((v) => v.pauseMs));
    return { ratio: c / s, c, s };
  };
  const paced = await stall(hz);
  const saturated = await stall(0);
  for (const x of Object.values(subjects)) {
    x.w.device.close();
    rmSync(x.dir, { recursive: true, force: true });
  }

  // 2. incremental bytes, 3. first output
  const dir = mkdtempSync(join(tmpdir(), 'xauto-bench-ckpt-'));
  const d = new Device();
  const w = world(d, mib);
  const handles = handlesOf(w);
  const ck = new Checkpointer(d, { dir });
  const r = prng(7);
  await ck.begin().committed;
  const ratios: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const dirty = new Map<number, Set<number>>();
    for (let f = 0; f < 40; f++) await frame(w, r, dirty);
    const e = ck.begin();
    const c = await e.committed;
    const manifestBytes = statSync(join(epochDir(dir, e.epoch), 'manifest.json')).size + statSync(join(epochDir(dir, e.epoch), 'COMMIT')).size;
    const written = c.bytesWritten + manifestBytes;
    ratios.push(written / dirtyBytes(dirty));
    console.log(`  incremental epoch ${e.epoch}: wrote ${(written / 2 ** 20).toFixed(2)} MiB (chunks ${(c.bytesWritten / 2 ** 20).toFixed(2)} + manifest ${(manifestBytes / 1024).toFixed(1)} KiB) for ${(dirtyBytes(dirty) / 2 ** 20).toFixed(2)} MiB dirtied`);
  }
  d.close();

  const first: Record<'full' | 'on-demand', number[]> = { full: [], 'on-demand': [] };
  const meta: Record<'full' | 'on-demand', number[]> = { full: [], 'on-demand': [] };
  for (let i = 0; i < rounds; i++)
    for (const m of ['full', 'on-demand'] as const) {
      const dev = new Device();
      const t0 = now();
      const { image } = Checkpointer.restore(dev, dir, { onDemand: m === 'on-demand' });
      const rw = world(dev, mib, image.buffers, handles);
      await frame(rw, prng(9));
      first[m].push(now() - t0);
      meta[m].push(image.metadataUs / 1000);
      await image.loaded;
      dev.close();
    }
  const allocMs: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const dev = new Device();
    const t0 = now();
    for (let left = mib; left > 0; left -= 32) dev.alloc(Math.min(32, left) * TILE);
    allocMs.push(now() - t0);
    dev.close();
  }
  console.log(`  restore (allocating the same buffers on a fresh device takes ${median(allocMs).toFixed(1)} ms of it: the host backend zero-fills every allocation)`);
  console.log('  restore          until launches ms  first output ms');
  for (const m of ['full', 'on-demand'] as const) console.log(`  ${m.padEnd(15)} ${median(meta[m]).toFixed(2).padStart(17)}  ${median(first[m]).toFixed(2).padStart(15)}`);
  rmSync(dir, { recursive: true, force: true });

  // 4. slowdown of the running pipeline
  const p = await pipelineSlowdown({ mapCells, seconds: 6, rounds: 5, log: console.log });
  const st = await startFromImage({ mapCells, rounds: 3, log: console.log });
  const mg = await migratePause({ rounds: 3, mapCells, log: console.log });

  const out = {
    state_mib: mib,
    frame_hz: hz,
    stall_ratio: Number(paced.ratio.toFixed(4)),
    concurrent_pause_ms: Number(paced.c.toFixed(3)),
    stw_pause_ms: Number(paced.s.toFixed(3)),
    stall_ratio_back_to_back: Number(saturated.ratio.toFixed(4)),
    incremental_bytes_ratio: Number(median(ratios).toFixed(4)),
    first_output_ratio: Number((median(first.full) / median(first['on-demand'])).toFixed(2)),
    map_mib: p.mapMib,
    ...pipelineKeys(p, st, mg),
  };
  console.log(JSON.stringify(out));
}

function startKeys(st: Awaited<ReturnType<typeof startFromImage>>) {
  return {
    cold_start_first_output_ms: Math.round(st.coldMs),
    image_start_first_output_ms: Math.round(st.imageMs),
    image_start_source_models_first_output_ms: Math.round(st.imageColdModelsMs),
    start_ratio: Number((st.coldMs / st.imageMs).toFixed(3)),
    // > 1: the image's warm models bring the first output sooner than opening the source models
    first_output_warm_models_ratio: Number((st.imageColdModelsMs / st.imageMs).toFixed(3)),
    models_ready_warm_ms: Number(st.modelsWarmMs.toFixed(1)),
    models_ready_source_ms: Number(st.modelsColdMs.toFixed(1)),
    models_ready_ratio: Number((st.modelsColdMs / st.modelsWarmMs).toFixed(3)),
    warm_sessions: st.warm.join(' '),
  };
}

function pipelineKeys(p: Awaited<ReturnType<typeof pipelineSlowdown>>, st: Awaited<ReturnType<typeof startFromImage>>, mg: Awaited<ReturnType<typeof migratePause>>) {
  return {
    slowdown: Number(p.slowdown.toFixed(4)),
    slowdown_paired: Number(p.slowdownPaired.toFixed(4)),
    slowdown_range: p.slowdownRange.map((v) => Number(v.toFixed(4))),
    e2e_p50_ms: Number(p.p50Off.toFixed(2)),
    e2e_p50_checkpointed_ms: Number(p.p50On.toFixed(2)),
    ...startKeys(st),
    migrate_pause_ms: Number(mg.pauseMs.toFixed(2)),
    migrate_queued: mg.queued,
    migrate_state_bytes: mg.stateBytes,
    migrate_worker_pause_ms: Number(mg.workerPauseMs.toFixed(2)),
    migrate_map_pause_ms: Number(mg.mapPauseMs.toFixed(2)),
    migrate_map_mib: Number((mg.mapDeviceBytes / 2 ** 20).toFixed(1)),
  };
}
