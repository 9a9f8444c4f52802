// Stage bodies of decode and NMS, shared by the main-thread and worker implementations.
import type { ImplContext, StageFn } from '../../runtime/xnode/types.js';
import { dropper } from '../perception-common/check.js';
import type { Detections2D } from '../perception-common/messages.js';
import { perceptionAddon } from '../perception-common/native.js';
import { Decoder, decodeInput, type DecodeParams } from './decode-kernel.js';
import { checkDetections, nms, type NmsParams } from './nms-kernel.js';

export function createDecode(ctx: Pick<ImplContext, 'params' | 'count' | 'log'>, native = false): StageFn {
  const p = ctx.params as unknown as DecodeParams;
  const decoder = new Decoder(p);
  const drop = dropper(ctx);
  const addon = native ? perceptionAddon() : undefined;
  const map = Int32Array.from(p.class_map);
  return (inputs) => {
    const d = decodeInput(inputs, p);
    if (typeof d === 'string') return drop('on head', d);
    if (addon) return Decoder.native(addon, p, map, d.dims, d.data, d.header, d.imageWidth, d.imageHeight).then((detections) => ({ detections }));
    return { detections: decoder.decode(d.dims, d.data, d.header, d.imageWidth, d.imageHeight) };
  };
}

export function createNms(ctx: Pick<ImplContext, 'params' | 'count' | 'log'>): StageFn {
  const p = ctx.params as unknown as NmsParams;
  const drop = dropper(ctx);
  return (inputs) => {
    const d = inputs.detections as Detections2D;
    const bad = checkDetections(d);
    if (bad) return drop('on detections', bad);
    return { detections: nms(d, p) };
  };
}
