// The generated synthetic-scene detector computed in JS (same weights as the ONNX model, read
// from its generator): colour-contrast 1x1 conv, clip to [0, 1], 2x2 opening. A reference and a
// CPU fallback; it runs only that model (`model` must be '').
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ImplContext, StageFn } from '../../runtime/xnode/types.js';
import { packageRoot } from '../../runtime/util/paths.js';
import { dropper } from '../perception-common/check.js';
import type { StampedTensor } from '../perception-common/messages.js';

type Generator = typeof import('../../models/detector.gen.mjs');

export async function createDetectorJs(ctx: Pick<ImplContext, 'params' | 'count' | 'log' | 'name'>): Promise<StageFn> {
  if (ctx.params.model) {
    throw new Error(`parameter 'model' of '${ctx.name}': the js implementation runs only the generated detector; use impl 'onnx' for '${ctx.params.model}'`);
  }
  const gen = (await import(pathToFileURL(join(packageRoot(), 'models', 'detector.gen.mjs')).href)) as Generator;
  const { w, b } = gen.detectorWeights();
  const { width: W, height: H } = gen.INPUT;
  const plane = W * H;
  const mask = new Float32Array(plane);
  const eroded = new Float32Array(plane);
  const drop = dropper(ctx);
  return (inputs) => {
    const t = inputs.tensor as StampedTensor;
    if (!t || !Array.isArray(t.dims) || !(t.data instanceof Float32Array)) return drop('on tensor', 'expected an xauto/Tensor {dims, data: Float32Array}');
    const n = t.dims.reduce((a, b) => a * b, 1);
    if (n !== t.data.length) return drop('on tensor', `dims [${t.dims.join(', ')}] hold ${n} values, data has ${t.data.length}`);
    if (t.dims.join() !== `1,3,${H},${W}`) {
      return drop('on tensor', `dims [${t.dims.join(', ')}]: the generated detector takes [1, 3, ${H}, ${W}]`);
    }
    const x = t.data;
    const out = new Float32Array(3 * plane);
    for (let c = 0; c < 3; c++) {
      const w0 = w[c * 3]!, w1 = w[c * 3 + 1]!, w2 = w[c * 3 + 2]!, bc = b[c]!;
      for (let i = 0; i < plane; i++) {
        const v = w0 * x[i]! + w1 * x[plane + i]! + w2 * x[2 * plane + i]! + bc;
        mask[i] = v < 0 ? 0 : v > 1 ? 1 : v;
      }
      // Erosion: min over the 2x2 window at (y..y+1, x..x+1) (outside the image does not count).
      for (let y = 0; y < H; y++) {
        for (let q = 0; q < W; q++) {
          let m = mask[y * W + q]!;
          if (q + 1 < W) m = Math.min(m, mask[y * W + q + 1]!);
          if (y + 1 < H) {
            m = Math.min(m, mask[(y + 1) * W + q]!);
            if (q + 1 < W) m = Math.min(m, mask[(y + 1) * W + q + 1]!);
          }
          eroded[y * W + q] = m;
        }
      }
      // Dilation: max over the 2x2 window at (y-1..y, x-1..x).
      const o = c * plane;
      for (let y = 0; y < H; y++) {
        for (let q = 0; q < W; q++) {
          let m = eroded[y * W + q]!;
          if (q > 0) m = Math.max(m, eroded[y * W + q - 1]!);
          if (y > 0) {
            m = Math.max(m, eroded[(y - 1) * W + q]!);
            if (q > 0) m = Math.max(m, eroded[(y - 1) * W + q - 1]!);
          }
          out[o + y * W + q] = m;
        }
      }
    }
    const head: StampedTensor = { dims: [1, 3, H, W], data: out, header: t.header };
    return { head };
  };
}
