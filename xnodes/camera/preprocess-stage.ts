// The JS preprocess stage body (main thread and worker implementations).
import type { ImplContext, StageFn } from '../../runtime/xnode/types.js';
import { dropper } from '../perception-common/check.js';
import type { Image, StampedTensor } from '../perception-common/messages.js';
import { checkImage } from './image-check.js';
import { Preprocessor, type PreprocessParams } from './resize-kernel.js';

export function createPreprocess(ctx: Pick<ImplContext, 'params' | 'count' | 'log'>): StageFn {
  const p = ctx.params as unknown as PreprocessParams;
  const pre = new Preprocessor(p);
  const drop = dropper(ctx);
  return (inputs) => {
    const img = inputs.image as Image;
    const bad = checkImage(img);
    if (bad) return drop('on image', bad);
    const tensor: StampedTensor = { dims: [1, 3, p.height, p.width], data: pre.run(img), header: img.header };
    return { tensor };
  };
}
