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
    // Source channel of each output channel (bgr8 swaps R and B).
    const c0 = img.encoding === 'bgr8' ? 2 : 0;
    const c2 = 2 - c0;
    const plane = W * H;
    const k0 = this.scale[0]!, k1 = this.scale[1]!, k2 = this.scale[2]!;
    const b0 = this.offset[0]!, b1 = this.offset[1]!, b2 = this.offset[2]!;
    for (let y = 0; y < H; y++) {
      const r0 = y0[y]! * step;
      const r1 = y1[y]! * step;
      const fy = wy[y]!;
      const row = y * W;
      for (let x = 0; x < W; x++) {
        const a = x0[x]! * 3;
        const d = x1[x]! * 3;
        const fx = wx[x]!;
        // Four source pixels, bilinear weights; one pass writes all three planes.
        const ta = r0 + a, tb = r0 + d, ba = r1 + a, bb = r1 + d;
        let top = src[ta + c0]! + (src[tb + c0]! - src[ta + c0]!) * fx;
        let bot = src[ba + c0]! + (src[bb + c0]! - src[ba + c0]!) * fx;
        out[row + x] = (top + (bot - top) * fy) * k0 + b0;
        top = src[ta + 1]! + (src[tb + 1]! - src[ta + 1]!) * fx;
        bot = src[ba + 1]! + (src[bb + 1]! - src[ba + 1]!) * fx;
        out[plane + row + x] = (top + (bot - top) * fy) * k1 + b1;
        top = src[ta + c2]! + (src[tb + c2]! - src[ta + c2]!) * fx;
        bot = src[ba + c2]! + (src[bb + c2]! - src[ba + c2]!) * fx;
        out[2 * plane + row + x] = (top + (bot - top) * fy) * k2 + b2;
      }
    }
    return out;
  }
}
