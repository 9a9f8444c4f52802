// Two stages sharing the device at different priorities: a best-effort `heavy` stage (a long
// idempotent GEMM split into many blocks, then a short non-idempotent accumulation) and a
// safety-critical `brake` stage (a short kernel). With the brake at a higher launch priority,
// its kernels preempt the heavy GEMM instead of waiting for it (see launch/preempt.launch.yaml).
import { acquireDevice, type DeviceBuffer, type DeviceLease, type PreemptPolicy } from '../../runtime/gpu/index.js';
import { defineXNode, type StageInstance, type Tensor } from '../../runtime/xnode/index.js';
import { activations, gemmBeta0, weights } from './math.js';

/** Obstacle distances (m) in front of the vehicle: deterministic per frame. */
export const obstacles = defineXNode({
  type: 'gpudemo/obstacles',
  description: 'Emits `count` obstacle distances in metres (float32), deterministic per frame, at `rate` Hz.',
  outputs: { out: { type: 'xauto/Tensor' } },
  params: {
    rate: { type: 'float', default: 50, min: 0 },
    count: { type: 'int', default: 64, min: 1 },
  },
  impls: [
    {
      name: 'js',
      xpu: 'cpu',
      backend: 'main',
      create: (ctx) => {
        const n = ctx.params.count as number;
        return (_in, frame) => {
          const d = new Float32Array(n);
          for (let i = 0; i < n; i++) {
            const h = Math.sin(frame.seq * 12.9898 + i * 78.233) * 43758.5453;
            d[i] = 2 + 48 * (h - Math.floor(h));
          }
          return { out: { dims: [n], data: d } satisfies Tensor };
        };
      },
    },
  ],
});

const heavyParams = {
  rows: { type: 'int', default: 2048, min: 1, description: 'GEMM rows (one block each): the length of the best-effort kernel' },
  k: { type: 'int', default: 128, min: 1 },
  n: { type: 'int', default: 128, min: 1, description: 'output features' },
  seed: { type: 'int', default: 1, min: 1 },
  policy: {
    type: 'string',
    default: 'wait',
    choices: ['wait', 'save'],
    description: "non-idempotent launches: 'wait' (never killed) or 'save' (saved before launch, so they can be killed and relaunched)",
  },
} as const;

interface HeavyParams {
  rows: number;
  k: number;
  n: number;
  seed: number;
  policy: PreemptPolicy;
}

/**
 * Best-effort feature extraction: F = W(rows x k) * X(k x n) with beta = 0 (idempotent, `rows`
 * blocks), then a running sum acc += F[0, :] (in place: not idempotent). Output: acc.
 */
export const heavy = defineXNode({
  type: 'gpudemo/heavy',
  description: 'Best-effort device work: a long idempotent GEMM and a non-idempotent running sum; outputs the sum.',
  inputs: { in: { type: 'xauto/Tensor' } },
  outputs: { out: { type: 'xauto/Tensor' } },
  params: heavyParams,
  stateful: true,
  impls: [
    {
      name: 'device',
      xpu: '*',
      backend: 'device',
      tolerance: 1e-3,
      create: (ctx): StageInstance => {
        const p = ctx.params as unknown as HeavyParams;
        const lease: DeviceLease = acquireDevice();
        const d = lease.device;
        const W = d.upload(weights(p.rows * p.k, p.seed));
        const X = d.alloc(p.k * p.n * 4);
        const F = d.alloc(p.rows * p.n * 4);
        const acc = d.alloc(p.n * 4);
        const xs = new Float32Array(p.k * p.n);
        const stream = lease.stream(ctx.priority, p.policy);
        const bufs: DeviceBuffer[] = [W, X, F, acc];
        return {
          async process(inputs) {
            X.write(activations((inputs.in as Tensor).data, p.k, p.n, xs));
            const gemm = stream.launch('gemm', { M: p.rows, N: p.n, K: p.k, alpha: 1, beta: 0, A: W, B: X, C: F });
            const sum = stream.launch('add_inplace', { n: p.n, a: acc, b: F });
            await gemm.done;
            await sum.done;
            return { out: { dims: [p.n], data: acc.readFloat32(p.n) } satisfies Tensor };
          },
          finish() {
            const s = d.stats();
            ctx.summary('gpu', {
              backend: d.backend,
              launches: s.launches,
              preemptions: s.preemptions,
              relaunches: s.relaunches,
              saved_bytes: s.savedBytes,
              blocks_discarded: s.blocksDiscarded,
              waited_unpreemptible: s.waitedUnpreemptible,
              validate_us_p50: s.validateP50Us,
              validate_us_p99: s.validateP99Us,
            });
          },
          close() {
            if (!d.isClosed) for (const b of bufs) b.free();
            lease.release();
          },
        };
      },
    },
    {
      name: 'js',
      xpu: 'cpu',
      backend: 'main',
      create: (ctx) => {
        const p = ctx.params as unknown as HeavyParams;
        const W = weights(p.rows * p.k, p.seed);
        const xs = new Float32Array(p.k * p.n);
        const F = new Float32Array(p.rows * p.n);
        const acc = new Float32Array(p.n);
        return (inputs) => {
          gemmBeta0(p.rows, p.n, p.k, 1, W, activations((inputs.in as Tensor).data, p.k, p.n, xs), F);
          for (let j = 0; j < p.n; j++) acc[j] = Math.fround(acc[j]! + F[j]!);
          return { out: { dims: [p.n], data: acc.slice() } satisfies Tensor };
        };
      },
    },
  ],
});

interface BrakeParams {
  speed: number;
  ttc_threshold: number;
}

/** [brake (1 or 0), smallest time to collision (s)] from obstacle distances. */
function command(ttc: Float32Array, n: number, threshold: number): Tensor {
  let min = Infinity;
  for (let i = 0; i < n; i++) if (ttc[i]! < min) min = ttc[i]!;
  return { dims: [2], data: Float32Array.of(min < threshold ? 1 : 0, min) };
}

/** Safety-critical: time to collision of every obstacle at the current speed; brake below a threshold. */
export const brake = defineXNode({
  type: 'gpudemo/brake',
  description: 'Safety-critical: time to collision per obstacle (a short device kernel) and a brake command [brake, min_ttc].',
  inputs: { obstacles: { type: 'xauto/Tensor' } },
  outputs: { cmd: { type: 'xauto/Tensor' } },
  params: {
    speed: { type: 'float', default: 15, min: 0.1, description: 'ego speed (m/s)' },
    ttc_threshold: { type: 'float', default: 1.5, min: 0, description: 'brake when some time to collision is below (s)' },
  },
  impls: [
    {
      name: 'device',
      xpu: '*',
      backend: 'device',
      create: (ctx): StageInstance => {
        const p = ctx.params as unknown as BrakeParams;
        const lease = acquireDevice();
        const d = lease.device;
        const stream = lease.stream(ctx.priority);
        const inv = Math.fround(1 / p.speed);
        let cap = 0;
        let dist: DeviceBuffer | undefined, ttc: DeviceBuffer | undefined;
        let host = new Float32Array(0);
        return {
          async process(inputs) {
            const t = inputs.obstacles as Tensor;
            const n = t.data.length;
            if (n > cap) {
              // Grow (rarely): buffers are reused frame to frame.
              dist?.free();
              ttc?.free();
              cap = n;
              dist = d.alloc(n * 4);
              ttc = d.alloc(n * 4);
              host = new Float32Array(n);
            }
            dist!.write(t.data);
            await stream.launch('scale', { n, s: inv, x: dist!, y: ttc! }).done;
            ttc!.read(host.subarray(0, n));
            return { cmd: command(host, n, p.ttc_threshold) };
          },
          close() {
            if (!d.isClosed) {
              dist?.free();
              ttc?.free();
            }
            lease.release();
          },
        };
      },
    },
    {
      name: 'js',
      xpu: 'cpu',
      backend: 'main',
      create: (ctx) => {
        const p = ctx.params as unknown as BrakeParams;
        const inv = Math.fround(1 / p.speed);
        return (inputs) => {
          const t = inputs.obstacles as Tensor;
          const ttc = new Float32Array(t.data.length);
          for (let i = 0; i < ttc.length; i++) ttc[i] = Math.fround(inv * t.data[i]!);
          return { cmd: command(ttc, ttc.length, p.ttc_threshold) };
        };
      },
    },
  ],
});

export const xnodes = [obstacles, heavy, brake];
