// Preprocess on the device: one `preprocess` kernel (resize + normalise, idempotent: it reads
// the image buffer and writes the tensor buffer). The image is uploaded (the device's edge);
// the tensor stays on the device until a host consumer (the detector's session) reads `data`.
import { StageDevice } from '../../runtime/gpu/stage.js';
import { attachDevice, TensorRing } from '../../runtime/gpu/tensor.js';
import type { ImplContext, StageInstance, StageResult } from '../../runtime/xnode/types.js';
import { dropper } from '../perception-common/check.js';
import type { Image, StampedTensor } from '../perception-common/messages.js';
import { checkImage } from './image-check.js';
import { checkNorm, type PreprocessParams } from './resize-kernel.js';

export function createPreprocessDevice(ctx: ImplContext): StageInstance {
  const p = ctx.params as unknown as PreprocessParams;
  const { mean, std } = checkNorm(p);
  // (v/255 - mean)/std = v * k + b, with k and b rounded to float32 as the JS stage keeps them.
  const k = [0, 1, 2].map((c) => Math.fround(1 / (255 * std[c]!)));
  const b = [0, 1, 2].map((c) => Math.fround(-mean[c]! / std[c]!));
  const drop = dropper(ctx);
  const dev = new StageDevice(ctx.name, ctx.priority);
  const ring = new TensorRing(dev.device, ctx.name, 3);
  const { width: dw, height: dh } = p;
  return {
    async process(inputs): Promise<StageResult> {
      const img = inputs.image as Image;
      const bad = checkImage(img);
      if (bad) return drop('on image', bad);
      const bytes = img.step * img.height;
      const src = dev.upload('image', bytes === img.data.byteLength ? img.data : img.data.subarray(0, bytes));
      const out = ring.take(3 * dw * dh * 4, [1, 3, dh, dw], 'f32');
      dev.launch('preprocess', {
        sw: img.width, sh: img.height, step: img.step, c0: img.encoding === 'bgr8' ? 2 : 0, dw, dh, src, dst: out.buffer,
        k0: k[0]!, k1: k[1]!, k2: k[2]!, b0: b[0]!, b1: b[1]!, b2: b[2]!,
      });
      await dev.flush();
      const tensor = attachDevice({ dims: [1, 3, dh, dw], header: img.header } as unknown as StampedTensor, 'data', out);
      return { tensor };
    },
    finish() {
      ctx.summary('device', { [ctx.name]: { ...dev.summary(), ring: ring.size, ring_grew: ring.grew } });
    },
    close() {
      ring.close();
      dev.close();
    },
  };
}
