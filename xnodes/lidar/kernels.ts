// Lidar kernels in JS. native/perception/src/lidar.cc implements the same algorithms with the
// same arithmetic (double accumulation, same visiting order, same PRNG), so both give the same
// results up to float rounding.
import { CLUSTER_STRIDE } from '../perception-common/messages.js';
import { Rng } from '../perception-common/rng.js';

/** Voxel index range accepted per axis (points farther out are dropped). */
const VOXEL_LIMIT = 32767;
const SHIFT = 65536;

/**
 * Voxel-grid downsample: one point per occupied voxel of edge `leaf`, the mean of its points
 * ([x, y, z, intensity]), in order of each voxel's first point.
 */
export function voxelGrid(points: Float32Array, leaf: number): Float32Array {
  const n = points.length >> 2;
  // Open-addressing hash from voxel key to slot (typed arrays: no per-point allocation).
  let cap = 16;
  while (cap < n * 2) cap <<= 1;
  const keys = new Float64Array(cap);
  const slots = new Int32Array(cap).fill(-1);
  const mask = cap - 1;
  const sums = new Float64Array(n * 4);
  const counts = new Uint32Array(n);
  let m = 0;
  for (let i = 0; i < n; i++) {
    const x = points[i * 4]!, y = points[i * 4 + 1]!, z = points[i * 4 + 2]!;
    const ix = Math.floor(x / leaf), iy = Math.floor(y / leaf), iz = Math.floor(z / leaf);
    if (!(Math.abs(ix) <= VOXEL_LIMIT && Math.abs(iy) <= VOXEL_LIMIT && Math.abs(iz) <= VOXEL_LIMIT)) continue;
    const key = ((ix + SHIFT / 2) * SHIFT + (iy + SHIFT / 2)) * SHIFT + (iz + SHIFT / 2);
    let h = (Math.imul(ix, 73856093) ^ Math.imul(iy, 19349663) ^ Math.imul(iz, 83492791)) & mask;
    while (slots[h] !== -1 && keys[h] !== key) h = (h + 1) & mask;
    let s = slots[h]!;
    if (s === -1) {
      s = m++;
      slots[h] = s;
      keys[h] = key;
    }
    sums[s * 4] += x;
    sums[s * 4 + 1] += y;
    sums[s * 4 + 2] += z;
    sums[s * 4 + 3] += points[i * 4 + 3]!;
    counts[s]!++;
  }
  const out = new Float32Array(m * 4);
  for (let s = 0; s < m; s++) {
    const c = counts[s]!;
    for (let k = 0; k < 4; k++) out[s * 4 + k] = sums[s * 4 + k]! / c;
  }
  return out;
}

export interface GroundParams {
  distance: number;
  iterations: number;
  max_slope_deg: number;
  seed: number;
}

/**
 * RANSAC ground plane: `iterations` planes through three random points (seeded: every frame and
 * every implementation draws the same samples), those tilted more than `max_slope_deg` ignored;
 * the plane with most points within `distance` is the ground. Returns the points more than
 * `distance` above it, and the plane [a, b, c, d] (a x + b y + c z + d = 0, c > 0).
 */
export function removeGround(points: Float32Array, p: GroundParams): { points: Float32Array; plane: Float64Array } {
  const n = points.length >> 2;
  const plane = new Float64Array([0, 0, 1, 0]);
  if (n < 3) return { points: points.slice(), plane };
  const rng = new Rng(p.seed);
  const minNz = Math.cos((p.max_slope_deg * Math.PI) / 180);
  let best = -1;
  for (let it = 0; it < p.iterations; it++) {
    const i = rng.u32() % n, j = rng.u32() % n, k = rng.u32() % n;
    const ax = points[i * 4]!, ay = points[i * 4 + 1]!, az = points[i * 4 + 2]!;
    const ux = points[j * 4]! - ax, uy = points[j * 4 + 1]! - ay, uz = points[j * 4 + 2]! - az;
    const vx = points[k * 4]! - ax, vy = points[k * 4 + 1]! - ay, vz = points[k * 4 + 2]! - az;
    let nx = uy * vz - uz * vy, ny = uz * vx - ux * vz, nz = ux * vy - uy * vx;
    const len = Math.sqrt(nx * nx + ny * ny + nz * nz);
    if (!(len > 1e-9)) continue;
    if (nz < 0) (nx = -nx), (ny = -ny), (nz = -nz);
    nx /= len;
    ny /= len;
    nz /= len;
    if (nz < minNz) continue;
    const d = -(nx * ax + ny * ay + nz * az);
    let count = 0;
    for (let q = 0; q < n; q++) {
      const dist = nx * points[q * 4]! + ny * points[q * 4 + 1]! + nz * points[q * 4 + 2]! + d;
      if (dist < p.distance && dist > -p.distance) count++;
    }
    if (count > best) {
      best = count;
      plane[0] = nx;
      plane[1] = ny;
      plane[2] = nz;
      plane[3] = d;
    }
  }
  const [a, b, c, d] = plane as unknown as [number, number, number, number];
  let m = 0;
  const keep = new Uint8Array(n);
  for (let q = 0; q < n; q++) {
    if (a * points[q * 4]! + b * points[q * 4 + 1]! + c * points[q * 4 + 2]! + d >= p.distance) (keep[q] = 1), m++;
  }
  const out = new Float32Array(m * 4);
  for (let q = 0, o = 0; q < n; q++) if (keep[q]) out.set(points.subarray(q * 4, q * 4 + 4), 4 * o++);
  return { points: out, plane };
}

export interface ClusterParams {
  tolerance: number;
  min_points: number;
  max_points: number;
}

/**
 * Euclidean clustering on the ground plane (x, y: the ground is already removed, and the gap
 * between lidar rings on a far object exceeds any useful 3D tolerance): points closer than
 * `tolerance` (chained) form a cluster; clusters with fewer than `min_points` or more than
 * `max_points` are dropped. A grid of cells of edge `tolerance` finds neighbours;
 * breadth-first search from each unvisited point in index order.
 * Returns CLUSTER_STRIDE floats per cluster (see xauto/Clusters).
 */
export function euclideanClusters(points: Float32Array, p: ClusterParams): Float32Array {
  const n = points.length >> 2;
  const tol = p.tolerance;
  const tol2 = tol * tol;
  const cellOf = new Float64Array(n);
  const cells = new Map<number, number[]>();
  for (let i = 0; i < n; i++) {
    const key = cellKey(Math.floor(points[i * 4]! / tol), Math.floor(points[i * 4 + 1]! / tol));
    cellOf[i] = key;
    const list = cells.get(key);
    if (list) list.push(i);
    else cells.set(key, [i]);
  }
  const visited = new Uint8Array(n);
  const queue = new Int32Array(n);
  const out: number[] = [];
  for (let seed = 0; seed < n; seed++) {
    if (visited[seed]) continue;
    let head = 0, tail = 0;
    queue[tail++] = seed;
    visited[seed] = 1;
    while (head < tail) {
      const i = queue[head++]!;
      const x = points[i * 4]!, y = points[i * 4 + 1]!;
      const cx = Math.floor(x / tol), cy = Math.floor(y / tol);
      for (let dx = -1; dx <= 1; dx++) {
        for (let dy = -1; dy <= 1; dy++) {
          const list = cells.get(cellKey(cx + dx, cy + dy));
          if (!list) continue;
          for (const j of list) {
            if (visited[j]) continue;
            const ex = points[j * 4]! - x, ey = points[j * 4 + 1]! - y;
            if (ex * ex + ey * ey <= tol2) {
              visited[j] = 1;
              queue[tail++] = j;
            }
          }
        }
      }
    }
    if (tail < p.min_points || tail > p.max_points) continue;
    let sx = 0, sy = 0, sz = 0;
    let x0 = Infinity, y0 = Infinity, z0 = Infinity, x1 = -Infinity, y1 = -Infinity, z1 = -Infinity;
    for (let q = 0; q < tail; q++) {
      const i = queue[q]!;
      const x = points[i * 4]!, y = points[i * 4 + 1]!, z = points[i * 4 + 2]!;
      sx += x;
      sy += y;
      sz += z;
      if (x < x0) x0 = x;
      if (y < y0) y0 = y;
      if (z < z0) z0 = z;
      if (x > x1) x1 = x;
      if (y > y1) y1 = y;
      if (z > z1) z1 = z;
    }
    out.push(sx / tail, sy / tail, sz / tail, x0, y0, z0, x1, y1, z1, tail);
  }
  return Float32Array.from(out);
}

// 26 bits per axis (|c| < 2^25 cells) keeps the key below 2^53: exact in a double.
const cellKey = (x: number, y: number): number => (x + 33554432) * 67108864 + (y + 33554432);

export { CLUSTER_STRIDE };
