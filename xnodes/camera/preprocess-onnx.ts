// The preprocess stage as an ONNX graph run by onnxruntime: the uint8 HWC image goes in as is;
// Transpose, Cast, Resize (linear, half-pixel), Sub (mean) and Div (std) run in the runtime.
import type { ImplContext, StageFn } from '../../runtime/xnode/types.js';
import { builder } from '../perception-common/onnx.js';
import { dropper } from '../perception-common/check.js';
import type { Image, StampedTensor } from '../perception-common/messages.js';
import { createSession, ort } from '../perception-common/ort.js';
import { checkImage } from './image-check.js';
import { checkNorm, type PreprocessParams } from './resize-kernel.js';

export async function preprocessGraph(p: PreprocessParams): Promise<Uint8Array> {
  const { mean, std } = checkNorm(p);
  const { GraphBuilder, DType } = await builder();
  const g = new GraphBuilder('xauto_preprocess');
  g.input('image', DType.uint8, [1, 'height', 'width', 3]);
  g.floats('mean', [1, 3, 1, 1], mean.map((m) => m * 255));
  g.floats('std', [1, 3, 1, 1], std.map((s) => s * 255));
  g.int64s('sizes', [4], [1, 3, p.height, p.width]);
  const nchw = g.node('Transpose', ['image'], { perm: [0, 3, 1, 2] });
  const f = g.node('Cast', [nchw], { to: DType.float });
  const resized = g.node('Resize', [f, '', '', 'sizes'], { mode: 'linear', coordinate_transformation_mode: 'half_pixel' });
  const centred = g.node('Sub', [resized, 'mean']);
  g.node('Div', [centred, 'std'], {}, ['tensor']);
  g.output('tensor', DType.float, [1, 3, p.height, p.width]);
  return g.toBytes();
}

export async function createPreprocessOnnx(ctx: ImplContext): Promise<StageFn> {
  const p = ctx.params as unknown as PreprocessParams;
  const o = await ort();
  const session = await createSession(await preprocessGraph(p), ctx.executionProvider, ctx.log, ctx);
  const drop = dropper(ctx);
  let packed: Uint8Array | undefined;
  return async (inputs) => {
    const img = inputs.image as Image;
    const bad = checkImage(img);
    if (bad) return drop('on image', bad);
    let rgb = img.data;
    const row = img.width * 3;
    if (img.encoding === 'bgr8' || img.step !== row || rgb.byteLength !== row * img.height) {
      // Padded rows or BGR: pack into contiguous RGB first (the graph takes dense HWC rgb).
      if (!packed || packed.length !== row * img.height) packed = new Uint8Array(row * img.height);
      const bgr = img.encoding === 'bgr8';
      for (let y = 0; y < img.height; y++) {
        const s = y * img.step;
        const d = y * row;
        if (!bgr) packed.set(rgb.subarray(s, s + row), d);
        else for (let x = 0; x < row; x += 3) (packed[d + x] = rgb[s + x + 2]!), (packed[d + x + 1] = rgb[s + x + 1]!), (packed[d + x + 2] = rgb[s + x]!);
      }
      rgb = packed;
    }
    const out = await session.run({ image: new o.Tensor('uint8', rgb, [1, img.height, img.width, 3]) });
    const t = out.tensor!;
    const tensor: StampedTensor = { dims: [...t.dims], data: t.data as Float32Array, header: img.header };
    return { tensor };
  };
}
