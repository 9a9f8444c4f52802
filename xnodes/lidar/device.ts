// Device implementations of the lidar stages: kernels of native/device (see
// kernels_perception_ops.h), each instance idempotent (separate buffers, no atomics).
// Points stay in device memory between device stages (DeviceTensor in a ring per output);
// a host consumer's first read of `points` downloads them.
import { StageDevice } from '../../runtime/gpu/stage.js';
import { attachDevice, deviceTensorOf, StaleTensorError, TensorRing, type DeviceTensor } from '../../runtime/gpu/tensor.js';
import type { DeviceBuffer } from '../../runtime/gpu/device.js';
import type { ImplContext, StageInstance, StageResult } from '../../runtime/xnode/types.js';
import type { Clusters, Header, PointCloud2, Points } from '../perception-common/messages.js';
import { CLUSTER_STRIDE } from '../perception-common/messages.js';
import { Rng } from '../perception-common/rng.js';
import type { ClusterParams, GroundParams } from './kernels.js';
import { cloudReader, pointsReader } from './stages.js';

/** Output buffers per port: frames in flight between a producer and its consumer, plus one. */
export const RING = 3;
export const STALE_FRAMES = 'device.stale_frames';

function devicePoints(header: Header, t: DeviceTensor): Points {
  return attachDevice({ header } as Points, 'points', t);
}

/** A stage's input points: the producer's device tensor (held), or host points uploaded. */
interface Input {
  n: number;
  buf: DeviceBuffer;
  held?: DeviceTensor;
}

function inputOf(ctx: ImplContext, dev: StageDevice, read: (p: Points) => Float32Array | null, msg: Points): Input | null {
  const t = deviceTensorOf(msg, dev.device);
  if (t) {
    try {
      t.hold();
    } catch (e) {
      if (!(e instanceof StaleTensorError)) throw e;
      ctx.count(STALE_FRAMES);
      ctx.log(`dropped a frame: ${e.message}`);
      return null;
    }
    return { n: t.dims[0]!, buf: t.buffer, held: t };
  }
  const pts = read(msg);
  if (!pts) return null;
  return { n: pts.length >> 2, buf: dev.upload('in', pts) };
}

function finishing(ctx: ImplContext, dev: StageDevice, ring?: TensorRing, extra: () => Record<string, unknown> = () => ({})) {
  return {
    finish() {
      ctx.summary('device', { [ctx.name]: { ...dev.summary(), ring: ring?.size, ring_grew: ring?.grew, ...extra() } });
    },
    close() {
      ring?.close();
      dev.close();
    },
  };
}

export function createVoxelDevice(ctx: ImplContext): StageInstance {
  const leaf = ctx.params.leaf as number;
  const read = cloudReader(ctx);
  const dev = new StageDevice(ctx.name, ctx.priority);
  const ring = new TensorRing(dev.device, ctx.name, RING);
  return {
    async process(inputs): Promise<StageResult> {
      const c = inputs.points as PointCloud2;
      const pts = read(c);
      if (!pts) return null;
      const n = pts.length >> 2;
      const out = ring.take(n * 16, [n, 4], 'f32');
      if (n === 0) return { points: devicePoints(c.header, ring.settle(out, [0, 4])) };
      const p = dev.upload('in', pts);
      const keys = dev.buf('keys', n * 8), idx = dev.buf('idx', n * 4);
      dev.launch('voxel_keys', { n, leaf, pts: p, keys, idx });
      const s = dev.sortPairs(n, keys, idx);
      const head = dev.buf('head', n * 4), first = dev.buf('first', n * 4), pos = dev.buf('pos', n * 4);
      dev.launch('segment_heads', { n, keys: s.keys, head });
      // Is point i the first of its voxel? Then its rank among first points is the voxel's row.
      dev.launch('scatter_u32', { n, idx: s.idx, src: head, dst: first });
      const total = dev.scan(n, first, pos);
      dev.launch('voxel_mean', { n, keys: s.keys, idx: s.idx, head, pos, pts: p, out: out.buffer });
      await dev.flush();
      return { points: devicePoints(c.header, ring.settle(out, [dev.readCount(total), 4])) };
    },
    ...finishing(ctx, dev, ring),
  };
}

export function createGroundDevice(ctx: ImplContext): StageInstance {
  const p = ctx.params as unknown as GroundParams;
  const read = pointsReader(ctx);
  const dev = new StageDevice(ctx.name, ctx.priority);
  const ring = new TensorRing(dev.device, ctx.name, RING);
  const minnz = Math.cos((p.max_slope_deg * Math.PI) / 180);
  const samples = new Uint32Array(p.iterations * 3);
  return {
    async process(inputs): Promise<StageResult> {
      const msg = inputs.points as Points;
      const inp = inputOf(ctx, dev, read, msg);
      if (!inp) return null;
      try {
        const { n, buf: pts } = inp;
        const out = ring.take(n * 16, [n, 4], 'f32');
        if (n < 3) {
          if (n > 0) dev.launch('copy', { bytes: n * 16, src: pts, dst: out.buffer });
          await dev.flush();
          return { points: devicePoints(msg.header, ring.settle(out, [n, 4])) };
        }
        // The same seeded samples as the JS and C++ implementations draw.
        const rng = new Rng(p.seed);
        for (let k = 0; k < samples.length; k++) samples[k] = rng.u32() % n;
        const iters = p.iterations;
        const smp = dev.upload('samples', samples);
        const planes = dev.buf('planes', iters * 32), valid = dev.buf('valid', iters * 4), counts = dev.buf('counts', iters * 4);
        const best = dev.buf('best', 32), keep = dev.buf('keep', n * 4), pos = dev.buf('pos', n * 4);
        dev.launch('ransac_planes', { n, iters, minnz, samples: smp, pts, planes, valid });
        dev.launch('ransac_count', { n, iters, distance: p.distance, planes, valid, pts, counts });
        dev.launch('ransac_best', { iters, planes, valid, counts, best });
        dev.launch('ground_keep', { n, distance: p.distance, plane: best, pts, keep });
        const total = dev.scan(n, keep, pos);
        dev.launch('compact_f32', { n, w: 4, keep, pos, src: pts, dst: out.buffer });
        await dev.flush();
        return { points: devicePoints(msg.header, ring.settle(out, [dev.readCount(total), 4])) };
      } finally {
        inp.held?.release();
      }
    },
    ...finishing(ctx, dev, ring),
  };
}

export function createClusterDevice(ctx: ImplContext): StageInstance {
  const p = ctx.params as unknown as ClusterParams;
  const read = pointsReader(ctx);
  const dev = new StageDevice(ctx.name, ctx.priority);
  let passes = 0;
  let frames = 0;
  return {
    async process(inputs): Promise<StageResult> {
      const msg = inputs.points as Points;
      const inp = inputOf(ctx, dev, read, msg);
      if (!inp) return null;
      try {
        const { n, buf: pts } = inp;
        frames++;
        if (n === 0) return { clusters: { header: msg.header, count: 0, boxes: new Float32Array(0) } satisfies Clusters };
        const tol = p.tolerance;
        const keys = dev.buf('keys', n * 8), idx = dev.buf('idx', n * 4);
        const la = dev.buf('lab.a', n * 4), lb = dev.buf('lab.b', n * 4);
        dev.launch('cell_keys', { n, tol, pts, keys, idx, lab: la });
        const cells = dev.sortPairs(n, keys, idx);
        // Label propagation until a round changes nothing: every point then carries the
        // smallest index of its cluster (the JS search's seed), so clusters keep its order.
        for (let round = 0; round < n; round++) {
          dev.launch('cc_pass', { n, tol, keys: cells.keys, idx: cells.idx, pts, lin: la, lout: lb });
          dev.launch('cc_pass', { n, tol, keys: cells.keys, idx: cells.idx, pts, lin: lb, lout: la });
          passes += 2;
          if ((await dev.differences(n, la, lb)) === 0) break;
        }
        const lk = dev.buf('lab.keys', n * 8), li = dev.buf('lab.idx', n * 4);
        dev.launch('label_keys', { n, lab: la, keys: lk, idx: li });
        const groups = dev.sortPairs(n, lk, li);
        const head = dev.buf('head', n * 4), stats = dev.buf('stats', n * 4 * CLUSTER_STRIDE);
        const keep = dev.buf('keep', n * 4), pos = dev.buf('pos', n * 4), rows = dev.buf('rows', n * 4 * CLUSTER_STRIDE);
        dev.launch('segment_heads', { n, keys: groups.keys, head });
        dev.launch('cluster_stats', { n, min_points: p.min_points, max_points: p.max_points, keys: groups.keys, idx: groups.idx, head, pts, stats, keep });
        const total = dev.scan(n, keep, pos);
        dev.launch('compact_f32', { n, w: CLUSTER_STRIDE, keep, pos, src: stats, dst: rows });
        await dev.flush();
        const m = dev.readCount(total);
        // The device's edge: fusion runs on the host.
        const boxes = dev.download(rows, new Float32Array(m * CLUSTER_STRIDE));
        return { clusters: { header: msg.header, count: m, boxes } satisfies Clusters };
      } finally {
        inp.held?.release();
      }
    },
    ...finishing(ctx, dev, undefined, () => ({ cc_passes_per_frame: frames ? Math.round((passes / frames) * 10) / 10 : 0 })),
  };
}
