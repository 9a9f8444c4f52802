// Resize (bilinear, half-pixel centres, as ONNX Resize `linear` computes it) and normalise an
// rgb8/bgr8 image into an NCHW float32 tensor: (value/255 - mean) / std per channel.
import type { Image } from '../perception-common/messages.js';

export interface PreprocessParams {
  width: number;
  height: number;
  mean: number[];
  std: number[];
  normalization?: string;
}

/** The mean and std in effect: `unit` normalisation is mean 0, std 1. */
export function effectiveNorm(p: PreprocessParams): { mean: number[]; std: number[] } {
  return p.normalization === 'unit' ? { mean: [0, 0, 0], std: [1, 1, 1] } : { mean: p.mean, std: p.std };
}

interface Axis {
  i0: Int32Array;
  i1: Int32Array;
  w1: Float32Array;
}

/** Source indices and weights along one axis, per ONNX Resize (half_pixel, clamped). */
function axis(inSize: number, outSize: number): Axis {
  const i0 = new Int32Array(outSize);
  const i1 = new Int32Array(outSize);
  const w1 = new Float32Array(outSize);
  const scale = outSize / inSize;
  for (let o = 0; o < outSize; o++) {
    let x = (o + 0.5) / scale - 0.5;
    x = Math.min(Math.max(x, 0), inSize - 1);
    const a = Math.floor(x);
    i0[o] = a;
    i1[o] = Math.min(a + 1, inSize - 1);
    w1[o] = x - a;
  }
  return { i0, i1, w1 };
}

/** The normalisation, checked (a user-caused error names the parameter). */
export function checkNorm(p: PreprocessParams): { mean: number[]; std: number[] } {
  const norm = effectiveNorm(p);
  for (const k of ['mean', 'std'] as const) {
    if (norm[k].length !== 3) throw new Error(`parameter '${k}': expected 3 values (R, G, B), got ${norm[k].length}`);
  }
  if (norm.std.some((s) => s === 0)) throw new Error(`parameter 'std': values must be non-zero`);
  return norm;
}

/** A preprocessor for one parameter set; axis tables are cached per input size. */
export class Preprocessor {
  private key = '';
  private ax?: Axis;
  private ay?: Axis;
  private readonly scale: Float32Array;
  private readonly offset: Float32Array;

  constructor(readonly p: PreprocessParams) {
    const { mean, std } = checkNorm(p);
    // (v/255 - mean)/std = v * scale + offset
    this.scale = Float32Array.from([0, 1, 2], (c) => 1 / (255 * std[c]!));
    this.offset = Float32Array.from([0, 1, 2], (c) => -mean[c]! / std[c]!);
  }

  run(img: Image): Float32Array {
    const { width: W, height: H } = this.p;
    const key = `${img.width}x${img.height}`;
    if (key !== this.key) {
      this.ax = axis(img.width, W);
      this.ay = axis(img.height, H);
      this.key = key;
    }
    const { i0: x0, i1: x1, w1: wx } = this.ax!;
    const { i0: y0, i1: y1, w1: wy } = this.ay!;
    const out = new Float32Array(3 * W * H);
    const src = img.data;
    const step = img.step;
    const bgr = img.encoding === 'bgr8';
    const plane = W * H;
    for (let c = 0; c < 3; c++) {
      const sc = bgr ? 2 - c : c;
      const k = this.scale[c]!;
      const b = this.offset[c]!;
      const base = c * plane;
      for (let y = 0; y < H; y++) {
        const r0 = y0[y]! * step + sc;
        const r1 = y1[y]! * step + sc;
        const fy = wy[y]!;
        const row = base + y * W;
        for (let x = 0; x < W; x++) {
          const a = x0[x]! * 3;
          const d = x1[x]! * 3;
          const fx = wx[x]!;
          const top = src[r0 + a]! + (src[r0 + d]! - src[r0 + a]!) * fx;
          const bot = src[r1 + a]! + (src[r1 + d]! - src[r1 + a]!) * fx;
          out[row + x] = (top + (bot - top) * fy) * k + b;
        }
      }
    }
    return out;
  }
}
