// The perception addon (native/perception): the lidar kernels, the detector-output decoders and
// the camera renderer, whose
// work runs on libuv pool threads.
import { loadAddon } from '../../runtime/util/native.js';

export interface NativeCameraRenderer {
  render(objects: Float64Array, total: number, odometer: number, frame: number): Promise<{ image: Uint8Array; boxes: Float64Array; seen: Int32Array; full: Int32Array }>;
}

export interface NativeBoxes {
  boxes: Float32Array;
  scores: Float32Array;
  classes: Int32Array;
}

export interface PerceptionAddon {
  voxelGrid(points: Float32Array, leaf: number): Promise<Float32Array>;
  removeGround(points: Float32Array, distance: number, iterations: number, maxSlopeDeg: number, seed: number): Promise<{ points: Float32Array; plane: Float64Array }>;
  euclideanClusters(points: Float32Array, tolerance: number, minPoints: number, maxPoints: number): Promise<Float32Array>;
  /** Detector heatmaps [1, C, h, w] into boxes, as xnodes/detect/decode-kernel.ts (bit for bit). */
  decodeHeatmap(head: Float32Array, C: number, h: number, w: number, threshold: number, minCells: number, strideX: number, strideY: number): Promise<NativeBoxes>;
  /** YOLOv8 heads [1, rows, N] into boxes, as xnodes/detect/decode-kernel.ts. */
  decodeYolo(head: Float32Array, rows: number, N: number, scoreThreshold: number, classMap: Int32Array, sx: number, sy: number): Promise<NativeBoxes>;
  /** See native/perception/src/addon.cc for the config layout. */
  CameraRenderer: new (config: {
    width: number; height: number; fx: number; fy: number; cx: number; cy: number; cameraHeight: number; maxObjects: number;
    noise: Int8Array; look: Float64Array; road: Float64Array;
  }) => NativeCameraRenderer;
}

export const perceptionAddon = (): PerceptionAddon => loadAddon<PerceptionAddon>('perception');
