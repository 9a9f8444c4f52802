// Lidar processing: voxel-grid downsample, ground removal (RANSAC plane), euclidean clustering
// into 3D boxes. Each in JS (main thread, worker) and native C++ (addon threads).
import { defineXNode } from '../../runtime/xnode/index.js';
import { createClusterDevice, createGroundDevice, createVoxelDevice } from './device.js';
import { createCluster, createGround, createVoxel } from './stages.js';

// Same algorithm and arithmetic in JS and C++: only float rounding may differ.
const TOL = 1e-4;

export const voxel = defineXNode({
  type: 'lidar/voxel',
  description: 'Voxel-grid downsample of a PointCloud2 (mean point per voxel); NaN/Inf points are left out and counted.',
  inputs: { points: { type: 'sensor_msgs/msg/PointCloud2' } },
  outputs: { points: { type: 'xauto/Points' } },
  params: { leaf: { type: 'float', default: 0.2, min: 0.01, description: 'voxel edge (m)' } },
  impls: [
    { name: 'js', xpu: 'cpu', backend: 'main', tolerance: TOL, create: (ctx) => createVoxel(ctx) },
    { name: 'worker', xpu: 'cpu', backend: 'worker', tolerance: TOL, module: new URL('./voxel.worker.js', import.meta.url).href },
    { name: 'native', xpu: 'cpu', backend: 'native', tolerance: TOL, create: (ctx) => createVoxel(ctx, true) },
    { name: 'device', xpu: '*', backend: 'device', tolerance: TOL, create: (ctx) => createVoxelDevice(ctx) },
  ],
});

export const ground = defineXNode({
  type: 'lidar/ground',
  description: 'RANSAC ground plane; keeps the points above it.',
  inputs: { points: { type: 'xauto/Points' } },
  outputs: { points: { type: 'xauto/Points' } },
  params: {
    distance: { type: 'float', default: 0.2, min: 0.001, description: 'inlier distance to the plane (m)' },
    iterations: { type: 'int', default: 60, min: 1, max: 10000 },
    max_slope_deg: { type: 'float', default: 15, min: 0, max: 90 },
    seed: { type: 'int', default: 1, min: 0 },
  },
  impls: [
    { name: 'js', xpu: 'cpu', backend: 'main', tolerance: TOL, create: (ctx) => createGround(ctx) },
    { name: 'worker', xpu: 'cpu', backend: 'worker', tolerance: TOL, module: new URL('./ground.worker.js', import.meta.url).href },
    { name: 'native', xpu: 'cpu', backend: 'native', tolerance: TOL, create: (ctx) => createGround(ctx, true) },
    { name: 'device', xpu: '*', backend: 'device', tolerance: TOL, create: (ctx) => createGroundDevice(ctx) },
  ],
});

export const cluster = defineXNode({
  type: 'lidar/cluster',
  description: 'Euclidean clustering into boxes [centroid, min, max, count].',
  inputs: { points: { type: 'xauto/Points' } },
  outputs: { clusters: { type: 'xauto/Clusters' } },
  params: {
    tolerance: { type: 'float', default: 0.6, min: 0.01, description: 'largest gap inside a cluster (m)' },
    min_points: { type: 'int', default: 4, min: 1 },
    max_points: { type: 'int', default: 20000, min: 1 },
  },
  impls: [
    { name: 'js', xpu: 'cpu', backend: 'main', tolerance: TOL, create: (ctx) => createCluster(ctx) },
    { name: 'worker', xpu: 'cpu', backend: 'worker', tolerance: TOL, module: new URL('./cluster.worker.js', import.meta.url).href },
    { name: 'native', xpu: 'cpu', backend: 'native', tolerance: TOL, create: (ctx) => createCluster(ctx, true) },
    { name: 'device', xpu: '*', backend: 'device', tolerance: TOL, create: (ctx) => createClusterDevice(ctx) },
  ],
});

export const xnodes = [voxel, ground, cluster];
