// Renders the scene through a pinhole camera into rgb8: textured road with lane markings, sky,
// and objects as shaded boxes in class colours (painter's order, far to near). It also keeps a
// per-pixel object index so ground truth reports each object's visible box and visibility.
import { CAMERA_HEIGHT, intrinsics } from '../perception-common/rig.js';
import { Rng } from '../perception-common/rng.js';
import type { GtObject } from '../perception-common/messages.js';
import { CAR, CYCLIST, PEDESTRIAN, Ground, corners, groundAt, type SceneObject } from './scene.js';

/** Base colours per class: saturated red, green and blue, so a colour tells the class. */
export const CLASS_RGB: Record<number, [number, number, number]> = {
  [CAR]: [205, 38, 36],
  [PEDESTRIAN]: [40, 196, 62],
  [CYCLIST]: [52, 72, 214],
};

const GROUND_RGB: Record<Ground, [number, number, number]> = {
  [Ground.Road]: [104, 104, 106],
  [Ground.Marking]: [228, 228, 226],
  [Ground.BikeLane]: [82, 84, 86],
  [Ground.Sidewalk]: [150, 148, 144],
  [Ground.Dirt]: [128, 118, 102],
};
const SKY_TOP: [number, number, number] = [160, 178, 204];
const SKY_HORIZON: [number, number, number] = [196, 202, 210];
const HAZE_START = 60;
const HAZE_END = 220;

// Box faces as corner indices (outward winding irrelevant: facing is tested by normal).
const FACES = [
  [0, 1, 2, 3], // bottom
  [4, 5, 6, 7], // top
  [0, 3, 7, 4], // front (+x)
  [1, 2, 6, 5], // back (-x)
  [0, 1, 5, 4], // left (+y)
  [3, 2, 6, 7], // right (-y)
];
// Light from above, front-left: each face keeps its own brightness, as under sunlight.
const FACE_SHADE = [0.55, 1.0, 0.86, 0.8, 0.72, 0.92];
const NOISE_SIZE = 1 << 16;
const OUTLINE = 3;
const RIM = 0.3;

export class CameraRenderer {
  readonly width: number;
  readonly height: number;
  readonly fx: number;
  readonly fy: number;
  readonly cx: number;
  readonly cy: number;
  /** Object index + 1 per pixel (0 = background) of the last frame. */
  private readonly ids: Uint16Array;
  private readonly rowDist: Float64Array;
  /** Lateral offset per metre of range, per column (y = colRay[u] * range on the ground). */
  private readonly colRay: Float64Array;
  private readonly noise: Int8Array;
  /** The noise table as words: the bytes it adds, and the bytes it subtracts. */
  private readonly up: Int32Array;
  private readonly down: Int32Array;
  private readonly order: number[] = [];
  private readonly c8 = new Float64Array(24);
  private readonly full: Int32Array;
  private readonly seen: Int32Array;
  private readonly px = new Float64Array(8);
  private readonly py = new Float64Array(8);

  constructor(width: number, height: number, maxObjects: number, seed: number) {
    this.width = width;
    this.height = height;
    ({ fx: this.fx, fy: this.fy, cx: this.cx, cy: this.cy } = intrinsics(width, height));
    this.ids = new Uint16Array(width * height);
    this.rowDist = new Float64Array(height);
    for (let v = 0; v < height; v++) {
      const dv = v + 0.5 - this.cy;
      this.rowDist[v] = dv > 0 ? (this.fy * CAMERA_HEIGHT) / dv : Infinity;
    }
    this.colRay = Float64Array.from({ length: width }, (_, u) => -(u + 0.5 - this.cx) / this.fx);
    this.noise = noiseTable(seed);
    const up = new Uint8Array(NOISE_SIZE);
    const down = new Uint8Array(NOISE_SIZE);
    this.noise.forEach((v, i) => (v > 0 ? (up[i] = v) : (down[i] = -v)));
    this.up = new Int32Array(up.buffer);
    this.down = new Int32Array(down.buffer);
    this.full = new Int32Array(maxObjects);
    this.seen = new Int32Array(maxObjects);
  }

  /** Renders one frame into a new rgb8 buffer; fills `gt` with each object's visible box. */
  render(objects: SceneObject[], odometer: number, frame: number, gt: GtObject[]): Uint8Array {
    const { width: W, height: H } = this;
    const rgb = new Uint8Array(W * H * 3);
    this.ids.fill(0);
    this.drawBackground(rgb, odometer);
    this.full.fill(0);
    for (const i of painterOrder(objects, this.order)) this.drawObject(rgb, objects[i]!, i);
    this.outline(rgb, objects);
    this.addNoise(rgb, frame);
    this.groundTruth(objects, gt);
    return rgb;
  }

  private drawBackground(rgb: Uint8Array, odometer: number): void {
    const { width: W, height: H } = this;
    const row = W * 3;
    for (let v = 0; v < H; v++) {
      const d = this.rowDist[v]!;
      const p0 = v * row;
      if (!Number.isFinite(d) || d > HAZE_END) {
        const a = Math.min(1, Math.max(0, (this.cy - v) / this.cy));
        rgb[p0] = SKY_HORIZON[0] + (SKY_TOP[0] - SKY_HORIZON[0]) * a;
        rgb[p0 + 1] = SKY_HORIZON[1] + (SKY_TOP[1] - SKY_HORIZON[1]) * a;
        rgb[p0 + 2] = SKY_HORIZON[2] + (SKY_TOP[2] - SKY_HORIZON[2]) * a;
        // One pixel, then doubling copies: a row of one colour at memcpy speed.
        for (let n = 3; n < row; n *= 2) rgb.copyWithin(p0 + n, p0, p0 + Math.min(n, row - n));
        continue;
      }
      const haze = Math.min(1, Math.max(0, (d - HAZE_START) / (HAZE_END - HAZE_START)));
      const x = d + odometer;
      // Coarse texture (asphalt patches) that scrolls with the road: a hash of the 0.5 m cell,
      // recomputed only where the cell or the surface changes along the row.
      const hx = (Math.floor(x * 2) * 73856093) | 0;
      const col = this.colRay;
      let cell = NaN;
      let kind = -1;
      let r = 0;
      let g = 0;
      let b = 0;
      for (let u = 0, p = p0; u < W; u++, p += 3) {
        const y = col[u]! * d;
        const c = Math.floor(y * 2);
        const k = groundAt(x, y);
        if (c !== cell || k !== kind) {
          cell = c;
          kind = k;
          const tex = ((hx ^ (c * 19349663)) >>> 0) % 17 - 8;
          const base = GROUND_RGB[k];
          if (haze === 0) {
            r = base[0] + tex;
            g = base[1] + tex;
            b = base[2] + tex;
          } else {
            r = base[0] + tex + (SKY_HORIZON[0] - base[0] - tex) * haze;
            g = base[1] + tex + (SKY_HORIZON[1] - base[1] - tex) * haze;
            b = base[2] + tex + (SKY_HORIZON[2] - base[2] - tex) * haze;
          }
        }
        rgb[p] = r;
        rgb[p + 1] = g;
        rgb[p + 2] = b;
      }
    }
  }

  private drawObject(rgb: Uint8Array, o: SceneObject, index: number): void {
    const c = corners(o, this.c8);
    for (let k = 0; k < 8; k++) if (c[k * 3]! < 0.3) return; // behind the near plane: not drawn
    const { fx, fy, cx, cy, px, py } = this;
    for (let k = 0; k < 8; k++) {
      const X = c[k * 3]!;
      px[k] = cx - (fx * c[k * 3 + 1]!) / X;
      py[k] = cy - (fy * (c[k * 3 + 2]! - CAMERA_HEIGHT)) / X;
    }
    const base = CLASS_RGB[o.cls]!;
    for (let f = 0; f < 6; f++) {
      const face = FACES[f]!;
      // Facing test: camera position relative to the face plane.
      const [a, b, d] = [face[0]!, face[1]!, face[3]!];
      const ux = c[b * 3]! - c[a * 3]!, uy = c[b * 3 + 1]! - c[a * 3 + 1]!, uz = c[b * 3 + 2]! - c[a * 3 + 2]!;
      const vx = c[d * 3]! - c[a * 3]!, vy = c[d * 3 + 1]! - c[a * 3 + 1]!, vz = c[d * 3 + 2]! - c[a * 3 + 2]!;
      let nx = uy * vz - uz * vy, ny = uz * vx - ux * vz, nz = ux * vy - uy * vx;
      // Orient the normal outwards (away from the box centre).
      const fcx = (c[a * 3]! + c[face[2]! * 3]!) / 2 - o.x, fcy = (c[a * 3 + 1]! + c[face[2]! * 3 + 1]!) / 2 - o.y, fcz = (c[a * 3 + 2]! + c[face[2]! * 3 + 2]!) / 2 - o.z;
      if (nx * fcx + ny * fcy + nz * fcz < 0) (nx = -nx), (ny = -ny), (nz = -nz);
      const tox = -c[a * 3]!, toy = -c[a * 3 + 1]!, toz = CAMERA_HEIGHT - c[a * 3 + 2]!;
      if (nx * tox + ny * toy + nz * toz <= 0) continue;
      const s = FACE_SHADE[f]!;
      this.fillQuad(rgb, face, base[0] * s, base[1] * s, base[2] * s, index);
    }
  }

  /** Fills the convex quad (projected corners `face`) with one colour, pixel centres inside. */
  private fillQuad(rgb: Uint8Array, face: number[], r: number, g: number, b: number, index: number): void {
    const { width: W, height: H, px, py } = this;
    let y0 = Infinity, y1 = -Infinity;
    for (const k of face) (y0 = Math.min(y0, py[k]!)), (y1 = Math.max(y1, py[k]!));
    const vStart = Math.max(0, Math.ceil(y0 - 0.5));
    const vEnd = Math.min(H - 1, Math.floor(y1 - 0.5));
    const id = index + 1;
    let count = 0;
    for (let v = vStart; v <= vEnd; v++) {
      const yc = v + 0.5;
      let xl = Infinity, xr = -Infinity;
      for (let e = 0; e < 4; e++) {
        const k0 = face[e]!, k1 = face[(e + 1) & 3]!;
        const ya = py[k0]!, yb = py[k1]!;
        if ((yc < ya && yc < yb) || (yc > ya && yc > yb) || ya === yb) continue;
        const x = px[k0]! + ((yc - ya) / (yb - ya)) * (px[k1]! - px[k0]!);
        if (x < xl) xl = x;
        if (x > xr) xr = x;
      }
      const uStart = Math.max(0, Math.ceil(xl - 0.5));
      const uEnd = Math.min(W - 1, Math.floor(xr - 0.5));
      let p = (v * W + uStart) * 3;
      for (let u = uStart; u <= uEnd; u++, p += 3) {
        rgb[p] = r;
        rgb[p + 1] = g;
        rgb[p + 2] = b;
        this.ids[v * W + u] = id;
      }
      if (uEnd >= uStart) count += uEnd - uStart + 1;
    }
    this.full[index] = (this.full[index] ?? 0) + count;
  }

  /**
   * Darkens the rim of a far object where a nearer one occludes it (contact shadow and
   * silhouette edge), OUTLINE px wide: adjacent objects never blend into one blob.
   */
  private outline(rgb: Uint8Array, objects: SceneObject[]): void {
    const { width: W, height: H, ids } = this;
    const nearer = (j: number, x: number, id: number) => j !== 0 && j !== id && objects[j - 1]!.x < x;
    for (let v = 0, p = 0; v < H; v++) {
      for (let u = 0; u < W; u++, p++) {
        const id = ids[p]!;
        if (id === 0) continue;
        const x = objects[id - 1]!.x;
        let rim = false;
        for (let d = 1; d <= OUTLINE && !rim; d++) {
          rim =
            (u + d < W && nearer(ids[p + d]!, x, id)) ||
            (u - d >= 0 && nearer(ids[p - d]!, x, id)) ||
            (v + d < H && nearer(ids[p + d * W]!, x, id)) ||
            (v - d >= 0 && nearer(ids[p - d * W]!, x, id));
        }
        if (rim) (rgb[p * 3] *= RIM), (rgb[p * 3 + 1] *= RIM), (rgb[p * 3 + 2] *= RIM);
      }
    }
  }

  /**
   * Sensor noise: each byte gets the table's value (clamped to 0..255), from a start that moves
   * with the frame. Four bytes at a time: the table is split into what it adds and what it
   * subtracts, applied as saturating byte-wise add and subtract on 32-bit words.
   */
  private addNoise(rgb: Uint8Array, frame: number): void {
    const words = rgb.length >>> 2;
    // Int32 words: every value stays a small integer to the JIT (Uint32 would box above 2^31).
    const img = new Int32Array(rgb.buffer, rgb.byteOffset, words);
    const { up, down } = this;
    const mask = up.length - 1;
    let k = ((frame * 7919) >>> 2) & mask;
    for (let i = 0; i < words; i++, k = (k + 1) & mask) {
      let x = img[i]!;
      const a = up[k]!;
      if (a !== 0) {
        const s = (((x & 0x7f7f7f7f) + (a & 0x7f7f7f7f)) | 0) ^ ((x ^ a) & 0x80808080);
        const carry = ((x & a) | ((x | a) & ~s)) & 0x80808080;
        x = s | Math.imul(carry >>> 7, 0xff);
      }
      const b = down[k]!;
      if (b !== 0) {
        const d = (((x | 0x80808080) - (b & 0x7f7f7f7f)) | 0) ^ ((x ^ ~b) & 0x80808080);
        const borrow = ((~x & b) | ((~x | b) & d)) & 0x80808080;
        x = d & ~Math.imul(borrow >>> 7, 0xff);
      }
      img[i] = x;
    }
    // A tail shorter than a word (widths that make W * H * 3 odd), byte by byte.
    const n = this.noise;
    for (let p = words << 2; p < rgb.length; p++) rgb[p] = Math.max(0, Math.min(255, rgb[p]! + n[p & (NOISE_SIZE - 1)]!));
  }

  private groundTruth(objects: SceneObject[], gt: GtObject[]): void {
    const { width: W, height: H, ids } = this;
    const n = objects.length;
    const box = new Float64Array(n * 4);
    for (let i = 0; i < n; i++) box.set([Infinity, Infinity, -Infinity, -Infinity], i * 4);
    this.seen.fill(0);
    for (let v = 0, p = 0; v < H; v++) {
      for (let u = 0; u < W; u++, p++) {
        const id = ids[p]!;
        if (id === 0) continue;
        const i = (id - 1) * 4;
        this.seen[id - 1]!++;
        if (u < box[i]!) box[i] = u;
        if (v < box[i + 1]!) box[i + 1] = v;
        if (u + 1 > box[i + 2]!) box[i + 2] = u + 1;
        if (v + 1 > box[i + 3]!) box[i + 3] = v + 1;
      }
    }
    groundTruthOf(objects, box, this.seen, this.full, gt);
  }
}

/** Painter's algorithm: object indices far to near (boxes never interpenetrate in this scene). */
export function painterOrder(objects: SceneObject[], order: number[] = []): number[] {
  order.length = 0;
  for (let i = 0; i < objects.length; i++) order.push(i);
  return order.sort((a, b) => objects[b]!.x - objects[a]!.x);
}

/** The sensor noise table of a seed (both renderers add the same noise). */
export function noiseTable(seed: number): Int8Array {
  const rng = new Rng(seed ^ 0x5eed);
  const noise = new Int8Array(NOISE_SIZE);
  for (let i = 0; i < NOISE_SIZE; i++) noise[i] = Math.max(-12, Math.min(12, Math.round(rng.normal() * 3)));
  return noise;
}

/**
 * The look, packed for the native renderer (native/perception/src/camera.h, CameraLook): class
 * colours, ground colours, sky top and horizon, haze start and end, face shades, outline, rim.
 */
export function packedLook(): Float64Array {
  const classes = [CAR, PEDESTRIAN, CYCLIST].flatMap((c) => CLASS_RGB[c]!);
  const grounds = [Ground.Road, Ground.Marking, Ground.BikeLane, Ground.Sidewalk, Ground.Dirt].flatMap((g) => GROUND_RGB[g]);
  return Float64Array.from([...classes, ...grounds, ...SKY_TOP, ...SKY_HORIZON, HAZE_START, HAZE_END, ...FACE_SHADE, OUTLINE, RIM]);
}

/** Each object's visible 2D box and visibility, from per-object boxes, seen and full pixel counts. */
export function groundTruthOf(objects: SceneObject[], box: Float64Array, seen: Int32Array, full: Int32Array, gt: GtObject[]): void {
  gt.length = 0;
  for (let i = 0; i < objects.length; i++) {
    const o = objects[i]!;
    const s = seen[i]!;
    gt.push({
      id: o.id,
      cls: o.cls,
      center: [o.x, o.y, o.z],
      size: [o.l, o.w, o.h],
      yaw: o.yaw,
      box2d: s > 0 ? [box[i * 4]!, box[i * 4 + 1]!, box[i * 4 + 2]!, box[i * 4 + 3]!] : null,
      visible: full[i]! > 0 ? s / full[i]! : 0,
    });
  }
}
