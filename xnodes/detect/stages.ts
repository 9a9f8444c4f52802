// Stage bodies of decode and NMS, shared by the main-thread and worker implementations.
import type { ImplContext, StageFn } from '../../runtime/xnode/types.js';
import { dropper } from '../perception-common/check.js';
import type { CameraInfo, Detections2D, StampedTensor } from '../perception-common/messages.js';
import { perceptionAddon } from '../perception-common/native.js';
import { Decoder, checkHead, type DecodeParams } from './decode-kernel.js';
import { checkDetections, nms, type NmsParams } from './nms-kernel.js';

const NO_STAMP = { stamp: { sec: 0, nanosec: 0 }, frame_id: '' };

export function createDecode(ctx: Pick<ImplContext, 'params' | 'count' | 'log'>, native = false): StageFn {
  const p = ctx.params as unknown as DecodeParams;
  const decoder = new Decoder(p);
  const drop = dropper(ctx);
  const addon = native ? perceptionAddon() : undefined;
  const map = Int32Array.from(p.class_map);
  return (inputs) => {
    const t = inputs.head as StampedTensor;
    const info = inputs.camera_info as CameraInfo | undefined;
    const bad = checkHead(t?.dims, t?.data);
    if (bad) return drop('on head', bad);
    // The image size comes from CameraInfo; without it boxes stay in tensor pixels.
    const iw = info && info.width > 0 ? info.width : p.input_width;
    const ih = info && info.height > 0 ? info.height : p.input_height;
    const header = t.header ?? NO_STAMP;
    const h = { ...header, frame_id: info?.header.frame_id ?? header.frame_id };
    if (addon) return Decoder.native(addon, p, map, t.dims, t.data, h, iw, ih).then((detections) => ({ detections }));
    return { detections: decoder.decode(t.dims, t.data, h, iw, ih) };
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
