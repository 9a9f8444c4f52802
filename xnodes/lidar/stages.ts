// Stage bodies of the lidar XNODEs: JS (main thread and worker) and native (addon threads).
import type { ImplContext, StageFn } from '../../runtime/xnode/types.js';
import { dropper } from '../perception-common/check.js';
import type { Clusters, Points, PointCloud2 } from '../perception-common/messages.js';
import { CLUSTER_STRIDE } from '../perception-common/messages.js';
import { checkCloud, readCloud } from '../perception-common/pointcloud.js';
import { euclideanClusters, removeGround, voxelGrid, type ClusterParams, type GroundParams } from './kernels.js';
import { perceptionAddon } from '../perception-common/native.js';

type Ctx = Pick<ImplContext, 'params' | 'count' | 'log'>;
export const INVALID_POINTS = 'perception.invalid_points';

/** Reads the cloud (dropping it when malformed; NaN/Inf points are left out and counted). */
export function cloudReader(ctx: Ctx): (c: PointCloud2) => Float32Array | null {
  const drop = dropper(ctx);
  return (c) => {
    const bad = checkCloud(c);
    if (bad) return drop('on points', bad);
    const { points, invalid } = readCloud(c);
    if (invalid > 0) ctx.count(INVALID_POINTS, invalid);
    return points;
  };
}

export function pointsReader(ctx: Ctx): (p: Points) => Float32Array | null {
  const drop = dropper(ctx);
  return (p) => {
    if (!p || !(p.points instanceof Float32Array) || p.points.length % 4 !== 0) {
      return drop('on points', 'expected xauto/Points {header, points: Float32Array of [x, y, z, intensity]}');
    }
    return p.points;
  };
}

export function createVoxel(ctx: Ctx, native = false): StageFn {
  const leaf = ctx.params.leaf as number;
  const read = cloudReader(ctx);
  const addon = native ? perceptionAddon() : undefined;
  return async (inputs) => {
    const c = inputs.points as PointCloud2;
    const pts = read(c);
    if (!pts) return null;
    const out: Points = { header: c.header, points: addon ? await addon.voxelGrid(pts, leaf) : voxelGrid(pts, leaf) };
    return { points: out };
  };
}

export function createGround(ctx: Ctx, native = false): StageFn {
  const p = ctx.params as unknown as GroundParams;
  const read = pointsReader(ctx);
  const addon = native ? perceptionAddon() : undefined;
  return async (inputs) => {
    const msg = inputs.points as Points;
    const pts = read(msg);
    if (!pts) return null;
    const r = addon ? await addon.removeGround(pts, p.distance, p.iterations, p.max_slope_deg, p.seed) : removeGround(pts, p);
    return { points: { header: msg.header, points: r.points } satisfies Points };
  };
}

export function createCluster(ctx: Ctx, native = false): StageFn {
  const p = ctx.params as unknown as ClusterParams;
  const read = pointsReader(ctx);
  const addon = native ? perceptionAddon() : undefined;
  return async (inputs) => {
    const msg = inputs.points as Points;
    const pts = read(msg);
    if (!pts) return null;
    const boxes = addon ? await addon.euclideanClusters(pts, p.tolerance, p.min_points, p.max_points) : euclideanClusters(pts, p);
    const clusters: Clusters = { header: msg.header, count: boxes.length / CLUSTER_STRIDE, boxes };
    return { clusters };
  };
}
