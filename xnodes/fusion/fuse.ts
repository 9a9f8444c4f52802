// Camera-lidar fusion: lidar clusters are projected into the image (rig extrinsics + the
// CameraInfo intrinsics) and matched to 2D detections by box overlap, best pairs first. A
// matched detection takes its 3D position from the cluster, completed to the class's typical
// size on the sides the lidar could not see; an unmatched one is placed from where its box
// touches the ground (flat-ground monocular estimate). Clusters with no detection are left out:
// the camera gives the class.
import { iou } from '../perception-common/boxes.js';
import type { CameraInfo, Clusters, Detections2D, FusedObject, Objects } from '../perception-common/messages.js';
import { CLUSTER_STRIDE } from '../perception-common/messages.js';
import { CAMERA_HEIGHT } from '../perception-common/rig.js';

/** Typical [length, width, height] per class (car, pedestrian, cyclist). */
export const CLASS_SIZE: Array<[number, number, number]> = [
  [4.45, 1.85, 1.52],
  [0.6, 0.6, 1.72],
  [1.8, 0.62, 1.7],
];

export interface FusionParams {
  min_iou: number;
  camera_height: number;
}

export function checkCameraInfo(info: CameraInfo | undefined): string | undefined {
  if (!info || !info.k || info.k.length !== 9) return 'camera_info: expected a sensor_msgs/msg/CameraInfo with k[9]';
  if (!(info.k[0]! > 0) || !(info.k[4]! > 0)) return `camera_info.k: focal lengths ${info.k[0]}, ${info.k[4]} must be positive`;
  return undefined;
}

export class Fuser {
  private proj = new Float32Array(64 * 4);

  constructor(readonly p: FusionParams) {}

  fuse(det: Detections2D, clusters: Clusters, info: CameraInfo): Objects {
    const k = info.k;
    const fx = k[0]!, cx = k[2]!, fy = k[4]!, cy = k[5]!;
    const camH = this.p.camera_height;
    const nc = clusters.count;
    if (this.proj.length < nc * 4) this.proj = new Float32Array(nc * 8);
    const proj = this.proj;
    const usable = new Uint8Array(nc);
    for (let j = 0; j < nc; j++) {
      const b = j * CLUSTER_STRIDE;
      const c = clusters.boxes;
      const x0 = c[b + 3]!, y0 = c[b + 4]!, x1 = c[b + 6]!, y1 = c[b + 7]!, z1 = c[b + 8]!;
      if (x0 < 0.5) continue; // behind or beside the camera
      // The image rectangle of the box from the ground to the cluster top: extremes over its corners.
      let u0 = Infinity, u1 = -Infinity, v0 = Infinity, v1 = -Infinity;
      for (const x of [x0, x1]) {
        for (const y of [y0, y1]) {
          const u = cx - (fx * y) / x;
          if (u < u0) u0 = u;
          if (u > u1) u1 = u;
        }
        for (const z of [0, z1]) {
          const v = cy - (fy * (z - camH)) / x;
          if (v < v0) v0 = v;
          if (v > v1) v1 = v;
        }
      }
      // Clipped to the image, as the detector sees a truncated object.
      proj[j * 4] = Math.max(0, u0);
      proj[j * 4 + 1] = Math.max(0, v0);
      proj[j * 4 + 2] = Math.min(info.width, u1);
      proj[j * 4 + 3] = Math.min(info.height, v1);
      usable[j] = 1;
    }
    const pairs: Array<[number, number, number]> = [];
    for (let i = 0; i < det.count; i++) {
      for (let j = 0; j < nc; j++) {
        if (!usable[j]) continue;
        const v = iou(det.boxes, i * 4, proj, j * 4);
        if (v >= this.p.min_iou) pairs.push([v, i, j]);
      }
    }
    pairs.sort((a, b) => b[0] - a[0] || a[1] - b[1] || a[2] - b[2]);
    const clusterOf = new Int32Array(det.count).fill(-1);
    const taken = new Uint8Array(nc);
    for (const [, i, j] of pairs) {
      if (clusterOf[i] !== -1 || taken[j]) continue;
      clusterOf[i] = j;
      taken[j] = 1;
    }
    const objects: FusedObject[] = [];
    for (let i = 0; i < det.count; i++) {
      const cls = det.classes[i]!;
      const prior = CLASS_SIZE[cls] ?? CLASS_SIZE[0]!;
      const box2d: [number, number, number, number] = [det.boxes[i * 4]!, det.boxes[i * 4 + 1]!, det.boxes[i * 4 + 2]!, det.boxes[i * 4 + 3]!];
      const j = clusterOf[i]!;
      if (j >= 0) {
        objects.push({ cls, score: det.scores[i]!, box2d, ...complete(clusters.boxes, j * CLUSTER_STRIDE, prior), lidar: true });
        continue;
      }
      // Monocular: the box bottom is where the object meets the ground.
      const vb = box2d[3] - cy;
      if (vb < 1) continue; // touches the horizon: no range from the ground
      const d = (fy * camH) / vb;
      const uc = (box2d[0] + box2d[2]) / 2;
      objects.push({
        cls,
        score: det.scores[i]!,
        box2d,
        center: [d + prior[0] / 2, (-(uc - cx) * d) / fx, prior[2] / 2],
        size: [...prior],
        lidar: false,
      });
    }
    return { header: det.header, objects };
  }
}

/**
 * Completes a partial lidar view to a full box: along each ground axis, a visible extent that
 * is clearly shorter than the class's typical size means only the near face was seen, so the
 * box extends away from the sensor from that face; otherwise the extent is the box.
 */
function complete(c: Float32Array, b: number, prior: [number, number, number]): Pick<FusedObject, 'center' | 'size'> {
  const x0 = c[b + 3]!, y0 = c[b + 4]!, x1 = c[b + 6]!, y1 = c[b + 7]!, z1 = c[b + 8]!;
  const axis = (lo: number, hi: number, typical: number): [number, number] => {
    const ext = hi - lo;
    if (ext >= 0.8 * typical) return [(lo + hi) / 2, ext];
    const size = Math.max(ext, typical);
    // The sensor is at 0: the near face is the one closer to it.
    return lo >= 0 ? [lo + size / 2, size] : hi <= 0 ? [hi - size / 2, size] : [(lo + hi) / 2, size];
  };
  const [x, l] = axis(x0, x1, prior[0]);
  const [y, w] = axis(y0, y1, prior[1]);
  const h = z1 > 0.5 * prior[2] ? z1 : prior[2];
  return { center: [x, y, h / 2], size: [l, w, h] };
}
