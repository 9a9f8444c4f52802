// The camera renderer in C++ (native/perception), on a libuv pool thread: the same image, byte
// for byte, as camera-render.ts. The scene, the box corners and the painter's order come from
// here, so the native side does no trigonometry of its own; the look and the road layout are
// the JS definitions, packed.
import type { GtObject } from '../perception-common/messages.js';
import { CAMERA_HEIGHT, intrinsics } from '../perception-common/rig.js';
import { perceptionAddon, type NativeCameraRenderer } from '../perception-common/native.js';
import { groundTruthOf, noiseTable, packedLook, painterOrder } from './camera-render.js';
import { BIKE_LANE, MARKINGS, ROAD, SIDEWALKS, corners, type SceneObject } from './scene.js';

/** Per object: index, class, centre (3), corners (8 x 3); as native/perception/src/camera.h kObjectStride. */
const STRIDE = 29;

function packedRoad(): Float64Array {
  const m = MARKINGS;
  return Float64Array.from([...ROAD, ...BIKE_LANE, ...SIDEWALKS[0], ...SIDEWALKS[1], ...m.solid, ...m.dashed, m.halfWidth, m.dashPeriod, m.dashLength]);
}

export class CameraRendererNative {
  readonly fx: number;
  readonly fy: number;
  readonly cx: number;
  readonly cy: number;
  private readonly r: NativeCameraRenderer;
  private readonly order: number[] = [];
  private readonly c8 = new Float64Array(24);
  private readonly packed: Float64Array;

  constructor(
    readonly width: number,
    readonly height: number,
    private readonly maxObjects: number,
    seed: number,
  ) {
    ({ fx: this.fx, fy: this.fy, cx: this.cx, cy: this.cy } = intrinsics(width, height));
    this.r = new (perceptionAddon().CameraRenderer)({
      width, height, fx: this.fx, fy: this.fy, cx: this.cx, cy: this.cy, cameraHeight: CAMERA_HEIGHT, maxObjects,
      noise: noiseTable(seed), look: packedLook(), road: packedRoad(),
    });
    this.packed = new Float64Array(maxObjects * STRIDE);
  }

  /** Renders one frame into a new rgb8 buffer; fills `gt` with each object's visible box. */
  async render(objects: SceneObject[], odometer: number, frame: number, gt: GtObject[]): Promise<Uint8Array> {
    if (objects.length > this.maxObjects) throw new Error(`camera: ${objects.length} objects, room for ${this.maxObjects}`);
    let k = 0;
    for (const i of painterOrder(objects, this.order)) {
      const o = objects[i]!;
      const p = this.packed;
      (p[k] = i), (p[k + 1] = o.cls), (p[k + 2] = o.x), (p[k + 3] = o.y), (p[k + 4] = o.z);
      p.set(corners(o, this.c8), k + 5);
      k += STRIDE;
    }
    const out = await this.r.render(this.packed.subarray(0, k), objects.length, odometer, frame);
    groundTruthOf(objects, out.boxes, out.seen, out.full, gt);
    return out.image;
  }
}
