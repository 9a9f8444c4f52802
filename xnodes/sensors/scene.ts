// A deterministic synthetic driving scene: the ego vehicle drives along a straight road with
// four lanes (three with its direction, one oncoming), a bike lane and two sidewalks; cars
// follow lanes, cyclists the bike lane, pedestrians walk the sidewalks with a slight sway.
// Everything is a closed-form function of (seed, time), so every sensor renders the same world
// at its own sample times. Coordinates are base_link: x forward, y left, z up, ground at z = 0.
import { Rng } from '../perception-common/rng.js';

export const CAR = 0;
export const PEDESTRIAN = 1;
export const CYCLIST = 2;

/** Objects live between these distances ahead; one that leaves re-enters at the other end as a new object. */
export const X_MIN = 6;
export const X_MAX = 80;

export const LANES = [-3.5, 0, 3.5, 7] as const;
const ONCOMING_LANE = 3;
export const ROAD = [-5.25, 8.75] as const;
export const BIKE_LANE = [-6.25, -5.25] as const;
export const SIDEWALKS = [
  [-9.25, -6.25],
  [8.75, 11.75],
] as const;

export interface SceneObject {
  id: number;
  cls: number;
  x: number;
  y: number;
  z: number;
  l: number;
  w: number;
  h: number;
  yaw: number;
}

interface Actor {
  index: number;
  cls: number;
  x0: number;
  y0: number;
  v: number; // speed relative to the ego vehicle (m/s, along x)
  sway: number;
  phase: number;
  l: number;
  w: number;
  h: number;
}

const CLASS_PATTERN = [CAR, PEDESTRIAN, CAR, CYCLIST, CAR, PEDESTRIAN, CAR, PEDESTRIAN, CAR, CYCLIST];

export interface SceneOptions {
  seed: number;
  objects: number;
  /** Ego speed (m/s): the ground scrolls past and relative speeds follow from it. */
  egoSpeed: number;
}

export class Scene {
  readonly actors: Actor[] = [];
  readonly egoSpeed: number;

  constructor(opts: SceneOptions) {
    const rng = new Rng(opts.seed * 2654435761 + 12345);
    this.egoSpeed = opts.egoSpeed;
    const v = opts.egoSpeed;
    const laneSpeed = LANES.map((_, i) => (i === ONCOMING_LANE ? -(v + rng.range(8, 11)) : rng.range(-1.5, 2)));
    const sideSpeed = SIDEWALKS.map(() => -v + rng.range(-1.4, 1.4));
    const bikeSpeed = -v + rng.range(3.5, 5);
    // Group actors into "tracks" (a lane, the bike lane, a sidewalk) that move together: members
    // keep their spacing, so no two objects ever overlap.
    const groups = new Map<string, Actor[]>();
    for (let i = 0; i < opts.objects; i++) {
      const cls = CLASS_PATTERN[i % CLASS_PATTERN.length]!;
      let key: string;
      let y0: number;
      let speed: number;
      let dims: [number, number, number];
      if (cls === CAR) {
        const lane = (i >> 1) % LANES.length;
        key = `lane${lane}`;
        y0 = LANES[lane]! + rng.range(-0.2, 0.2);
        speed = laneSpeed[lane]!;
        dims = [rng.range(4.1, 4.8), rng.range(1.75, 1.95), rng.range(1.4, 1.65)];
      } else if (cls === PEDESTRIAN) {
        const side = (i >> 2) % 2;
        key = `side${side}`;
        const [a, b] = SIDEWALKS[side]!;
        y0 = rng.range(a + 0.8, b - 0.8);
        speed = sideSpeed[side]!;
        dims = [rng.range(0.5, 0.7), rng.range(0.5, 0.7), rng.range(1.6, 1.85)];
      } else {
        key = 'bike';
        y0 = (BIKE_LANE[0] + BIKE_LANE[1]) / 2;
        speed = bikeSpeed;
        dims = [rng.range(1.7, 1.9), rng.range(0.55, 0.7), rng.range(1.6, 1.8)];
      }
      const a: Actor = { index: i, cls, x0: 0, y0, v: speed, sway: cls === PEDESTRIAN ? 0.3 : 0, phase: rng.range(0, 6.28), l: dims[0], w: dims[1], h: dims[2] };
      this.actors.push(a);
      const g = groups.get(key) ?? [];
      g.push(a);
      groups.set(key, g);
    }
    for (const g of groups.values()) {
      const gap = (X_MAX - X_MIN) / g.length;
      const offset = rng.range(0, gap);
      g.forEach((a, k) => (a.x0 = X_MIN + offset + k * gap + rng.range(-0.15, 0.15) * gap));
    }
  }

  /** The objects at time t (seconds), into `out` (reused between calls). */
  at(t: number, out: SceneObject[] = []): SceneObject[] {
    const span = X_MAX - X_MIN;
    out.length = this.actors.length;
    for (const a of this.actors) {
      const travelled = a.x0 - X_MIN + a.v * t;
      const wraps = Math.floor(travelled / span);
      const o = (out[a.index] ??= { id: 0, cls: 0, x: 0, y: 0, z: 0, l: 0, w: 0, h: 0, yaw: 0 });
      // Each re-entry is a different object: a new ground-truth id.
      o.id = a.index + 1 + 1000 * Math.abs(wraps);
      o.cls = a.cls;
      o.x = X_MIN + (travelled - wraps * span);
      o.y = a.y0 + a.sway * Math.sin(0.8 * t + a.phase);
      o.z = a.h / 2;
      o.l = a.l;
      o.w = a.w;
      o.h = a.h;
      o.yaw = 0;
    }
    return out;
  }

  /** How far the ego vehicle has driven at time t (scrolls the road texture). */
  odometer(t: number): number {
    return this.egoSpeed * t;
  }
}

/** Ground surface kinds (camera colour and lidar intensity both follow from them). */
export const Ground = { Road: 0, Marking: 1, BikeLane: 2, Sidewalk: 3, Dirt: 4 } as const;
export type Ground = (typeof Ground)[keyof typeof Ground];

/** Lane markings (y across the road, m): solid lines, dashed lines (dashLength of every dashPeriod m). */
export const MARKINGS = { solid: [ROAD[0], ROAD[1], 5.25], dashed: [-1.75, 1.75], halfWidth: 0.075, dashPeriod: 9, dashLength: 3 } as const;

/** What the ground is at (x along the road, y across it). */
export function groundAt(x: number, y: number): Ground {
  if (y >= ROAD[0] && y <= ROAD[1]) {
    const { solid, dashed, halfWidth: h, dashPeriod: P } = MARKINGS;
    if (Math.abs(y - solid[0]) < h || Math.abs(y - solid[1]) < h || Math.abs(y - solid[2]) < h) return Ground.Marking;
    if ((Math.abs(y - dashed[0]) < h || Math.abs(y - dashed[1]) < h) && ((x % P) + P) % P < MARKINGS.dashLength) return Ground.Marking;
    return Ground.Road;
  }
  if (y >= BIKE_LANE[0] && y < BIKE_LANE[1]) return Ground.BikeLane;
  // Called per pixel and per lidar return: plain comparisons, no iterator.
  if ((y >= SIDEWALKS[0][0] && y <= SIDEWALKS[0][1]) || (y >= SIDEWALKS[1][0] && y <= SIDEWALKS[1][1])) return Ground.Sidewalk;
  return Ground.Dirt;
}

/** Corners of an object's box (8 x [x, y, z]), bottom four first, counter-clockwise from +x+y. */
export function corners(o: SceneObject, out: Float64Array = new Float64Array(24)): Float64Array {
  const c = Math.cos(o.yaw);
  const s = Math.sin(o.yaw);
  const hl = o.l / 2;
  const hw = o.w / 2;
  const sx = [hl, -hl, -hl, hl];
  const sy = [hw, hw, -hw, -hw];
  for (let k = 0; k < 8; k++) {
    const j = k & 3;
    out[k * 3] = o.x + c * sx[j]! - s * sy[j]!;
    out[k * 3 + 1] = o.y + s * sx[j]! + c * sy[j]!;
    out[k * 3 + 2] = k < 4 ? o.z - o.h / 2 : o.z + o.h / 2;
  }
  return out;
}
