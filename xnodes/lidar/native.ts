// The native lidar kernels (native/perception), run on libuv pool threads.
import { loadAddon } from '../../runtime/util/native.js';

export interface PerceptionAddon {
  voxelGrid(points: Float32Array, leaf: number): Promise<Float32Array>;
  removeGround(points: Float32Array, distance: number, iterations: number, maxSlopeDeg: number, seed: number): Promise<{ points: Float32Array; plane: Float64Array }>;
  euclideanClusters(points: Float32Array, tolerance: number, minPoints: number, maxPoints: number): Promise<Float32Array>;
}

export const perceptionAddon = (): PerceptionAddon => loadAddon<PerceptionAddon>('perception');
