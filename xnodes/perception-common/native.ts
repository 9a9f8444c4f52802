// The perception addon (native/perception): the lidar kernels and the camera renderer, whose
// work runs on libuv pool threads.
import { loadAddon } from '../../runtime/util/native.js';

export interface NativeCameraRenderer {
  render(objects: Float64Array, total: number, odometer: number, frame: number): Promise<{ image: Uint8Array; boxes: Float64Array; seen: Int32Array; full: Int32Array }>;
}

export interface PerceptionAddon {
  voxelGrid(points: Float32Array, leaf: number): Promise<Float32Array>;
  removeGround(points: Float32Array, distance: number, iterations: number, maxSlopeDeg: number, seed: number): Promise<{ points: Float32Array; plane: Float64Array }>;
  euclideanClusters(points: Float32Array, tolerance: number, minPoints: number, maxPoints: number): Promise<Float32Array>;
  /** See native/perception/src/addon.cc for the config layout. */
  CameraRenderer: new (config: {
    width: number; height: number; fx: number; fy: number; cx: number; cy: number; cameraHeight: number; maxObjects: number;
    noise: Int8Array; look: Float64Array; road: Float64Array;
  }) => NativeCameraRenderer;
}

export const perceptionAddon = (): PerceptionAddon => loadAddon<PerceptionAddon>('perception');
