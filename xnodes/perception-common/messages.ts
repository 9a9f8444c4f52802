// Payload shapes of the perception pipeline. ROS2 types keep ROS2 field names exactly (as
// @foxglove/rosmsg2-serialization reads and writes them) so they can go out over DDS unchanged;
// `xauto/<Name>` types are in-process intermediates built from typed arrays (cheap to move to
// workers, no per-object allocation on hot paths).
import type { Tensor } from '../../runtime/xnode/types.js';

export interface Time {
  sec: number;
  nanosec: number;
}

export interface Header {
  stamp: Time;
  frame_id: string;
}

/** sensor_msgs/msg/Image */
export interface Image {
  header: Header;
  height: number;
  width: number;
  encoding: string;
  is_bigendian: number;
  step: number;
  data: Uint8Array;
}

export interface RegionOfInterest {
  x_offset: number;
  y_offset: number;
  height: number;
  width: number;
  do_rectify: boolean;
}

/** sensor_msgs/msg/CameraInfo */
export interface CameraInfo {
  header: Header;
  height: number;
  width: number;
  distortion_model: string;
  d: Float64Array;
  k: Float64Array;
  r: Float64Array;
  p: Float64Array;
  binning_x: number;
  binning_y: number;
  roi: RegionOfInterest;
}

/** sensor_msgs/msg/PointField */
export interface PointField {
  name: string;
  offset: number;
  datatype: number;
  count: number;
}

/** sensor_msgs/msg/PointCloud2 */
export interface PointCloud2 {
  header: Header;
  height: number;
  width: number;
  fields: PointField[];
  is_bigendian: boolean;
  point_step: number;
  row_step: number;
  data: Uint8Array;
  is_dense: boolean;
}

/** An `xauto/Tensor` that remembers the stamp of the frame it came from. */
export interface StampedTensor extends Tensor {
  header?: Header;
}

/** `xauto/Points`: points as [x, y, z, intensity] float32 quadruples, in `header.frame_id`. */
export interface Points {
  header: Header;
  points: Float32Array;
}

/** Floats per cluster in `xauto/Clusters`. */
export const CLUSTER_STRIDE = 10;
/**
 * `xauto/Clusters`: per cluster [cx, cy, cz (centroid), minx, miny, minz, maxx, maxy, maxz,
 * point count], ordered by the index of each cluster's first point in the input.
 */
export interface Clusters {
  header: Header;
  count: number;
  boxes: Float32Array;
}

/** `xauto/Detections2D`: boxes [x1, y1, x2, y2] in image pixels, with scores and class ids. */
export interface Detections2D {
  header: Header;
  count: number;
  boxes: Float32Array;
  scores: Float32Array;
  classes: Int32Array;
}

/** One fused object (base_link frame: x forward, y left, z up; ground at z = 0). */
export interface FusedObject {
  cls: number;
  score: number;
  /** Image box [x1, y1, x2, y2] of the detection it came from. */
  box2d: [number, number, number, number];
  center: [number, number, number];
  /** [length (x), width (y), height (z)] */
  size: [number, number, number];
  /** True when a lidar cluster gave its position; false: estimated from the ground contact. */
  lidar: boolean;
}

/** `xauto/Objects` */
export interface Objects {
  header: Header;
  objects: FusedObject[];
}

/** One object of the synthetic scene as the sensors see it at a frame. */
export interface GtObject {
  id: number;
  cls: number;
  center: [number, number, number];
  size: [number, number, number];
  yaw: number;
  /** Visible image box [x1, y1, x2, y2] (pixels of the camera image), or null when unseen. */
  box2d: [number, number, number, number] | null;
  /** Visible pixels / pixels the object would cover unoccluded (0..1). */
  visible: number;
}

/** `xauto/GroundTruth` */
export interface GroundTruth {
  header: Header;
  objects: GtObject[];
}

export const CLASS_NAMES = ['car', 'pedestrian', 'cyclist'] as const;
export const NUM_CLASSES = CLASS_NAMES.length;

export function stampOf(seconds: number): Time {
  const sec = Math.floor(seconds);
  return { sec, nanosec: Math.round((seconds - sec) * 1e9) };
}

// ROS time at scene time 0: the wall clock when the first thread of this launch loaded the
// sensors. Kept in the environment so that worker threads and child processes (which inherit
// it) stamp the same frame alike, and camera and lidar frames of one instant stay in sync.
const EPOCH_VAR = 'XAUTO_ROS_EPOCH_NS';
process.env[EPOCH_VAR] ??= String(BigInt(Date.now()) * 1_000_000n);
const epochNs = BigInt(process.env[EPOCH_VAR]!);
const WALL_EPOCH: Time = { sec: Number(epochNs / 1_000_000_000n), nanosec: Number(epochNs % 1_000_000_000n) };

/**
 * The header stamp of scene time `seconds`: ROS time (wall clock from the start of the run on),
 * or with `use_sim_time` the scene time itself, as a simulator's /clock gives it.
 */
export function rosStamp(seconds: number, useSimTime: boolean): Time {
  const s = stampOf(seconds);
  if (useSimTime) return s;
  const nanosec = WALL_EPOCH.nanosec + s.nanosec;
  return { sec: WALL_EPOCH.sec + s.sec + Math.floor(nanosec / 1e9), nanosec: nanosec % 1e9 };
}

/** A stamp as one number of nanoseconds (to a few hundred ns for ROS time; frames are ms apart). */
export const stampKey = (t: Time): number => t.sec * 1e9 + t.nanosec;

export const header = (stamp: Time, frame_id: string): Header => ({ stamp: { sec: stamp.sec, nanosec: stamp.nanosec }, frame_id });
