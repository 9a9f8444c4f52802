// A spinning lidar: `rings` beams between -25 and +3 degrees elevation, `steps` azimuth samples
// per turn, rays cast against the ground plane and every object box; range noise, random
// dropouts and no-returns beyond range. Points are written in base_link (ground at z = 0).
import { LIDAR_HEIGHT } from '../perception-common/rig.js';
import { Rng } from '../perception-common/rng.js';
import { Ground, groundAt, type SceneObject } from './scene.js';

const ELEV_MIN = (-25 * Math.PI) / 180;
const ELEV_MAX = (3 * Math.PI) / 180;
const MAX_RANGE = 100;
const GROUND_INTENSITY: Record<Ground, number> = {
  [Ground.Road]: 0.18,
  [Ground.Marking]: 0.75,
  [Ground.BikeLane]: 0.15,
  [Ground.Sidewalk]: 0.3,
  [Ground.Dirt]: 0.22,
};
const CLASS_INTENSITY = [0.55, 0.35, 0.45];

export interface LidarOptions {
  rings: number;
  steps: number;
  /** Range noise (m, one sigma). */
  noise: number;
  /** Fraction of returns lost. */
  dropout: number;
  seed: number;
}

export class LidarSimulator {
  private readonly sinEl: Float64Array;
  private readonly cosEl: Float64Array;
  private readonly sinAz: Float64Array;
  private readonly cosAz: Float64Array;
  /** Scratch for one scan, reused: [x, y, z, intensity] and ring per point. */
  readonly xyzi: Float32Array;
  readonly rings: Uint16Array;
  private readonly cand: Int32Array;

  constructor(readonly opts: LidarOptions) {
    const { rings, steps } = opts;
    this.sinEl = new Float64Array(rings);
    this.cosEl = new Float64Array(rings);
    for (let r = 0; r < rings; r++) {
      const el = rings === 1 ? ELEV_MIN : ELEV_MIN + ((ELEV_MAX - ELEV_MIN) * r) / (rings - 1);
      this.sinEl[r] = Math.sin(el);
      this.cosEl[r] = Math.cos(el);
    }
    this.sinAz = new Float64Array(steps);
    this.cosAz = new Float64Array(steps);
    for (let a = 0; a < steps; a++) {
      const az = -Math.PI + (2 * Math.PI * a) / steps;
      this.sinAz[a] = Math.sin(az);
      this.cosAz[a] = Math.cos(az);
    }
    this.xyzi = new Float32Array(rings * steps * 4);
    this.rings = new Uint16Array(rings * steps);
    this.cand = new Int32Array(256);
  }

  /** Casts one full turn; returns how many points of the scratch arrays are filled. */
  scan(objects: SceneObject[], odometer: number, frame: number): number {
    const { rings, steps, noise, dropout } = this.opts;
    const rng = new Rng(this.opts.seed * 31 + frame * 1000003);
    const o = LIDAR_HEIGHT;
    const n = Math.min(objects.length, this.cand.length);
    // Each object's azimuth window seen from the sensor, to test only likely hits per column.
    const azc = new Float64Array(n);
    const azw = new Float64Array(n);
    // Each box's orientation, once per turn rather than once per ray.
    const cos = new Float64Array(n);
    const sin = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const ob = objects[i]!;
      cos[i] = Math.cos(ob.yaw);
      sin[i] = Math.sin(ob.yaw);
      const d = Math.hypot(ob.x, ob.y);
      const rad = Math.hypot(ob.l, ob.w) / 2;
      azc[i] = Math.atan2(ob.y, ob.x);
      azw[i] = d > rad ? Math.asin(rad / d) + 1e-3 : Math.PI;
    }
    let m = 0;
    for (let a = 0; a < steps; a++) {
      const az = -Math.PI + (2 * Math.PI * a) / steps;
      let nc = 0;
      for (let i = 0; i < n; i++) {
        let dAz = az - azc[i]!;
        dAz -= 2 * Math.PI * Math.round(dAz / (2 * Math.PI));
        if (Math.abs(dAz) <= azw[i]!) this.cand[nc++] = i;
      }
      const ca = this.cosAz[a]!, sa = this.sinAz[a]!;
      for (let r = 0; r < rings; r++) {
        const dx = this.cosEl[r]! * ca, dy = this.cosEl[r]! * sa, dz = this.sinEl[r]!;
        let best = dz < 0 ? -o / dz : Infinity;
        let hit = -1;
        for (let c = 0; c < nc; c++) {
          const i = this.cand[c]!;
          const t = rayBox(dx, dy, dz, o, objects[i]!, cos[i]!, sin[i]!);
          if (t < best) (best = t), (hit = i);
        }
        // Always draw the random numbers, so noise does not depend on what was hit.
        const drop = rng.next() < dropout;
        const jitter = rng.normal() * noise;
        if (best > MAX_RANGE || drop) continue;
        const t = best + jitter;
        const x = dx * t, y = dy * t;
        const p = m * 4;
        this.xyzi[p] = x;
        this.xyzi[p + 1] = y;
        this.xyzi[p + 2] = o + dz * t;
        this.xyzi[p + 3] = hit >= 0 ? CLASS_INTENSITY[objects[hit]!.cls]! : GROUND_INTENSITY[groundAt(x + odometer, y)];
        this.rings[m] = r;
        m++;
      }
    }
    return m;
  }
}

/** Distance along the ray from (0, 0, oz) to a box turned by yaw (c = cos, s = sin), or Infinity (slab test). */
function rayBox(dx: number, dy: number, dz: number, oz: number, b: SceneObject, c: number, s: number): number {
  // Ray origin and direction in the box frame.
  const ox = -b.x, oy = -b.y;
  const o0 = c * ox + s * oy, o1 = -s * ox + c * oy, o2 = oz - b.z;
  const d0 = c * dx + s * dy, d1 = -s * dx + c * dy, d2 = dz;
  let t0 = 0, t1 = Infinity;
  for (let axis = 0; axis < 3; axis++) {
    const o = axis === 0 ? o0 : axis === 1 ? o1 : o2;
    const d = axis === 0 ? d0 : axis === 1 ? d1 : d2;
    const h = (axis === 0 ? b.l : axis === 1 ? b.w : b.h) / 2;
    if (Math.abs(d) < 1e-12) {
      if (Math.abs(o) > h) return Infinity;
      continue;
    }
    const ta = (-h - o) / d, tb = (h - o) / d;
    const near = ta < tb ? ta : tb, far = ta < tb ? tb : ta;
    if (near > t0) t0 = near;
    if (far < t1) t1 = far;
    if (t0 > t1) return Infinity;
  }
  return t0 > 0 ? t0 : Infinity;
}
