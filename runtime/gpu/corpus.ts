// A corpus of kernel instances over the whole library for checking the idempotency validator:
// separate buffers, in-place aliasing, interior pointers, views (alias handles), partially
// overlapping ranges, strides, beta != 0, atomics, index buffers. Seeded, so runs repeat.
import type { Device, DeviceBuffer } from './device.js';
import type { Kernel, KernelArgs, ParamDescriptor } from './kernels.js';
import { mulberry32 } from '../util/random.js';
import { appScalars } from './corpus-apps-scalars.js';

export interface CorpusInstance {
  /** Short unique label, e.g. `gemm#3 pool(A@0,B@48,C@16)`. */
  id: string;
  kernel: string;
  /** How the buffer arguments were laid out. */
  layout: string;
  /** The root allocations the instance touches (what a brute-force check snapshots). */
  roots: DeviceBuffer[];
  args: KernelArgs;
}

export interface CorpusOptions {
  seed?: number;
  /** Instances per kernel (default 18: 20 kernels -> 360 instances). */
  perKernel?: number;
}

/** Small, fast, seeded PRNG (mulberry32). */
export const prng = mulberry32;

type Rng = () => number;
const int = (r: Rng, lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
const pick = <T>(r: Rng, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;

// Scalar arguments per kernel. Values include the interesting corners: beta = 0 and != 0,
// factors 0 and 1 (dynamically harmless, so they show up as false negatives), strides.
const scalars: Record<string, (r: Rng) => Record<string, number>> = {
  saxpy: (r) => ({ n: int(r, 1, 300), a: pick(r, [2, -1.5, 0.5, 0]), incx: pick(r, [1, 1, 2, 3]), incy: pick(r, [1, 1, 2, 3]) }),
  add: (r) => ({ n: int(r, 1, 300) }),
  add_inplace: (r) => ({ n: int(r, 1, 300) }),
  scale: (r) => ({ n: int(r, 1, 300), s: pick(r, [2, 0.5, -3, 1]) }),
  scale_inplace: (r) => ({ n: int(r, 1, 300), s: pick(r, [2, 0.5, -3, 1]) }),
  clamp: (r) => ({ n: int(r, 1, 300), lo: -1, hi: 1 }),
  clamp_inplace: (r) => ({ n: int(r, 1, 300), lo: -1, hi: pick(r, [1, 2]) }),
  copy: (r) => ({ bytes: int(r, 1, 1500) }),
  resize_bilinear: (r) => ({ sw: int(r, 2, 12), sh: int(r, 2, 12), dw: int(r, 1, 10), dh: int(r, 1, 10), ch: pick(r, [1, 3]) }),
  normalize: (r) => ({ w: int(r, 1, 10), h: int(r, 1, 8), m0: 0.485, m1: 0.456, m2: 0.406, s0: 0.229, s1: 0.224, s2: 0.225 }),
  gemm: (r) => ({ M: int(r, 1, 8), N: int(r, 1, 12), K: int(r, 1, 10), alpha: pick(r, [1, 0.5, -2]), beta: pick(r, [0, 0, 1, 0.5]) }),
  reduce_sum: (r) => ({ n: int(r, 1, 300) }),
  histogram: (r) => ({ n: int(r, 1, 300), bins: int(r, 1, 16), lo: -4, hi: 4 }),
  voxel_scatter: (r) => ({ n: int(r, 1, 200), nx: int(r, 1, 4), ny: int(r, 1, 4), nz: int(r, 1, 3), vsize: 2, ox: -4, oy: -4, oz: -3 }),
  point_transform: (r) => ({ n: int(r, 1, 150) }),
  prefix_sum: (r) => ({ n: int(r, 1, 300) }),
  gather: (r) => ({ n: int(r, 1, 300), nsrc: int(r, 1, 200) }),
  scatter: (r) => ({ n: int(r, 1, 300), ndst: int(r, 1, 200) }),
  rng_uniform: (r) => ({ n: int(r, 1, 300) }),
  below_signal: (r) => ({ n: int(r, 1, 300), thr: pick(r, [-3.9, 0, -10]) }),
  // perception kernels (kernels_perception.cc)
  merge_pass: (r) => ({ n: int(r, 1, 600), width: pick(r, [1, 2, 7, 64, 256, 512]) }),
  segment_heads: (r) => ({ n: int(r, 1, 300) }),
  scatter_u32: (r) => ({ n: int(r, 1, 300) }),
  scan_blocks: (r) => scanShape(r),
  scan_sums: (r) => ({ nb: int(r, 1, 40) }),
  scan_apply: (r) => scanShape(r),
  compact_f32: (r) => ({ n: int(r, 1, 200), w: pick(r, [1, 4, 6, 10]) }),
  count_diff: (r) => scanShape(r),
  voxel_keys: (r) => ({ n: int(r, 1, 200), leaf: pick(r, [0.2, 0.5, 1e-6]) }),
  voxel_mean: (r) => ({ n: int(r, 1, 200) }),
  ransac_planes: (r) => ({ n: int(r, 1, 100), iters: int(r, 1, 80), minnz: pick(r, [0.96, 0, 0.5]) }),
  ransac_count: (r) => ({ n: int(r, 1, 150), iters: int(r, 1, 12), distance: pick(r, [0.2, 1, 4]) }),
  ransac_best: (r) => ({ iters: int(r, 1, 60) }),
  ground_keep: (r) => ({ n: int(r, 1, 300), distance: pick(r, [0.2, 0, -1]) }),
  cell_keys: (r) => ({ n: int(r, 1, 200), tol: pick(r, [0.6, 2, 0.05]) }),
  cc_pass: (r) => ({ n: int(r, 1, 150), tol: pick(r, [0.6, 2, 5]) }),
  label_keys: (r) => ({ n: int(r, 1, 300) }),
  cluster_stats: (r) => ({ n: int(r, 1, 200), min_points: pick(r, [1, 2, 4]), max_points: pick(r, [3, 100]) }),
  hm_init: (r) => ({ total: int(r, 1, 300), thr: pick(r, [0, 0.5, -1]) }),
  hm_pass: (r) => ({ C: int(r, 1, 3), h: int(r, 1, 9), w: int(r, 1, 11), thr: pick(r, [0, -1, 1]) }),
  hm_regions: (r) => ({ C: int(r, 1, 3), h: int(r, 1, 9), w: int(r, 1, 11), min_cells: int(r, 1, 3), stride_x: 4, stride_y: pick(r, [4, 2.5]) }),
  yolo_decode: (r) => ({ N: int(r, 1, 120), rows: int(r, 5, 9), nmap: pick(r, [0, 0, 2, 5]), thr: pick(r, [0, 1, -2]), sx: 2, sy: 0.5 }),
  preprocess: (r) => {
    const sw = int(r, 1, 12), sh = int(r, 1, 10);
    const s = { sw, sh, step: sw * 3 + pick(r, [0, 0, 5]), c0: pick(r, [0, 2]), dw: int(r, 1, 10), dh: int(r, 1, 8) };
    return { ...s, k0: 0.017, k1: 0.0175, k2: 0.0174, b0: -2.1, b1: -2.03, b2: -1.8 };
  },
  ...appScalars,
};

// A scan over n elements: nb covers them (sometimes exactly, sometimes with spare blocks).
function scanShape(r: Rng): Record<string, number> {
  const n = int(r, 1, 2000);
  return { n, nb: Math.ceil(n / 256) + pick(r, [0, 0, 1]) };
}

/** Bytes a buffer parameter touches for these scalars (its declared extent). */
export function extentBytes(p: ParamDescriptor, s: Readonly<Record<string, number>>): number {
  const term = (t: number | string | undefined) => (typeof t === 'number' ? t : t === undefined ? 1 : s[t]!);
  const count = (p.count ?? []).reduce<number>((a, t) => a * term(t), 1);
  return count === 0 ? 0 : ((count - 1) * term(p.stride) + 1) * p.elemBytes!;
}

const alignOf = (p: ParamDescriptor) => ((p.elemBytes! & (p.elemBytes! - 1)) === 0 ? p.elemBytes! : 4);

// Type-appropriate contents for a parameter's region, so instances do meaningful work.
function fill(p: ParamDescriptor, bytes: number, s: Record<string, number>, r: Rng): Uint8Array {
  const out = new Uint8Array(bytes);
  const dv = new DataView(out.buffer);
  const t = p.elemType;
  if (t === 'u8') {
    for (let i = 0; i < bytes; i++) out[i] = int(r, 0, 255);
  } else if (t === 'u64' && p.name === 'kin') {
    // merge_pass's contract: sorted runs of `width` keys (ties included).
    const w = s.width ?? 1;
    let run: number[] = [];
    for (let i = 0; i * 8 < bytes; i++) {
      if (i % w === 0) run = Array.from({ length: w }, () => int(r, 0, 20)).sort((a, b) => a - b);
      dv.setUint32(i * 8, run[i % w]!, true);
      dv.setUint32(i * 8 + 4, 0, true);
    }
  } else if (t === 'u32') {
    // Indices mostly in range (some past it); label-like buffers small, so they repeat.
    const range = s.nsrc ?? s.ndst ?? s.n ?? s.total ?? 1;
    const limit = p.name === 'idx' || p.name === 'lin' || p.name === 'lab' || p.name === 'pos' || p.name === 'samples' ? Math.ceil(range * 1.25) : p.name === 'flag' ? 1 : 10;
    for (let i = 0; i + 4 <= bytes; i += 4) dv.setUint32(i, int(r, 0, limit - 1), true);
  } else if (t === 'u64') {
    for (let i = 0; i + 8 <= bytes; i += 8) {
      dv.setUint32(i, int(r, 1, 0xffffffff), true);
      dv.setUint32(i + 4, int(r, 1, 0xffffffff), true);
    }
  } else {
    for (let i = 0; i + 4 <= bytes; i += 4) dv.setFloat32(i, (r() - 0.5) * 8, true);
  }
  return out;
}

function randomFloats(bytes: number, r: Rng): Uint8Array {
  const out = new Uint8Array(bytes);
  const dv = new DataView(out.buffer);
  for (let i = 0; i + 4 <= bytes; i += 4) dv.setFloat32(i, (r() - 0.5) * 8, true);
  return out;
}

type Layout = 'separate' | 'same' | 'pool' | 'pool-views';

function one(device: Device, k: Kernel, index: number, r: Rng): CorpusInstance {
  const s = scalars[k.name]!(r);
  // Index buffers last, so where regions coincide they hold indices, not float bits.
  const bufs = k.params.filter((p) => p.kind === 'buffer').sort((a, b) => Number(a.name === 'idx') - Number(b.name === 'idx'));
  const ext = new Map(bufs.map((p) => [p.name, Math.max(extentBytes(p, s), 1)]));
  const layouts: Layout[] = ['separate', 'same', 'pool', 'pool', 'pool-views', 'pool'];
  const layout = bufs.length === 1 ? pick(r, ['separate', 'pool', 'pool-views'] as const) : layouts[index % layouts.length]!;
  const args: Record<string, number | DeviceBuffer | { handle: number; offset: number }> = { ...s };
  const roots: DeviceBuffer[] = [];
  const where: string[] = [];
  if (layout === 'separate') {
    for (const p of bufs) {
      const b = device.alloc(ext.get(p.name)!);
      b.write(fill(p, ext.get(p.name)!, s, r));
      roots.push(b);
      args[p.name] = b;
    }
  } else {
    // One pool; every buffer argument points into it. `same`: all at byte 0 (in place);
    // `pool`: random aligned offsets, so ranges overlap partially, fully or not at all.
    const maxExt = Math.max(...ext.values());
    const poolBytes = layout === 'same' ? maxExt : Math.ceil(maxExt * (1 + r() * 1.5)) + 16;
    const pool = device.alloc(poolBytes);
    pool.write(randomFloats(poolBytes, r));
    roots.push(pool);
    for (const p of bufs) {
      const e = ext.get(p.name)!;
      const a = alignOf(p);
      const off = layout === 'same' ? 0 : a * Math.floor((r() * (poolBytes - e + 1)) / a);
      pool.write(fill(p, e, s, r), off);
      if (layout === 'pool-views' && r() < 0.7) {
        // An alias handle starting a little before the range, and an interior pointer into it.
        const back = Math.min(off, a * int(r, 0, 3));
        const v = pool.view(off - back, poolBytes - (off - back));
        args[p.name] = v.at(back);
        where.push(`${p.name}@view+${back}=${off}`);
      } else {
        args[p.name] = pool.at(off);
        where.push(`${p.name}@${off}`);
      }
    }
  }
  const shape = Object.entries(s)
    .filter(([n]) => k.params.some((p) => p.name === n && p.type === 'int'))
    .map(([n, v]) => `${n}=${v}`)
    .join(',');
  const desc = layout === 'separate' ? 'separate' : `${layout}(${where.join(',')})`;
  return { id: `${k.name}#${index} ${shape} ${desc}`, kernel: k.name, layout: desc, roots, args };
}

/** Builds the corpus on `device` (allocating its buffers there). */
export function buildCorpus(device: Device, opts: CorpusOptions = {}): CorpusInstance[] {
  const r = prng(opts.seed ?? 1);
  const per = opts.perKernel ?? 18;
  const out: CorpusInstance[] = [];
  for (const k of device.kernels.values()) {
    if (!scalars[k.name]) throw new Error(`corpus: no argument generator for kernel '${k.name}'`);
    for (let i = 0; i < per; i++) out.push(one(device, k, i, r));
  }
  return out;
}

/** Frees the corpus buffers (views die with their roots). */
export function freeCorpus(corpus: CorpusInstance[]): void {
  const seen = new Set<DeviceBuffer>();
  for (const c of corpus) for (const b of c.roots) if (!seen.has(b)) (seen.add(b), b.free());
}
