// The camera source's stage body, shared by its main-thread and worker implementations.
import type { ImplContext, StageFn } from '../../runtime/xnode/types.js';
import type { CameraInfo, GroundTruth, GtObject, Image } from '../perception-common/messages.js';
import { header, rosStamp } from '../perception-common/messages.js';
import { CameraRendererNative } from './camera-native.js';
import { CameraRenderer } from './camera-render.js';
import { Scene, type SceneObject } from './scene.js';

export interface CameraParams {
  rate: number;
  width: number;
  height: number;
  objects: number;
  seed: number;
  ego_speed: number;
  frame_id: string;
  use_sim_time: boolean;
}

export function cameraInfo(width: number, height: number, fx: number, fy: number, cx: number, cy: number, frameId: string): CameraInfo {
  return {
    header: header({ sec: 0, nanosec: 0 }, frameId),
    height,
    width,
    distortion_model: 'plumb_bob',
    d: new Float64Array(5),
    k: Float64Array.of(fx, 0, cx, 0, fy, cy, 0, 0, 1),
    r: Float64Array.of(1, 0, 0, 0, 1, 0, 0, 0, 1),
    p: Float64Array.of(fx, 0, cx, 0, 0, fy, cy, 0, 0, 0, 1, 0),
    binning_x: 0,
    binning_y: 0,
    roi: { x_offset: 0, y_offset: 0, height: 0, width: 0, do_rectify: false },
  };
}

export function createCamera(ctx: Pick<ImplContext, 'params'>, native = false): StageFn {
  const p = ctx.params as unknown as CameraParams;
  const scene = new Scene({ seed: p.seed, objects: p.objects, egoSpeed: p.ego_speed });
  const objects: SceneObject[] = [];
  // Scene time runs at the nominal rate whatever the wall clock does (a simulated clock).
  const period = 1 / (p.rate > 0 ? p.rate : 30);
  const r = native ? new CameraRendererNative(p.width, p.height, p.objects, p.seed) : new CameraRenderer(p.width, p.height, p.objects, p.seed);
  const messages = (t: number, data: Uint8Array, gt: GtObject[]) => {
    const stamp = rosStamp(t, p.use_sim_time);
    const image: Image = {
      header: header(stamp, p.frame_id),
      height: p.height,
      width: p.width,
      encoding: 'rgb8',
      is_bigendian: 0,
      step: p.width * 3,
      data,
    };
    const info = cameraInfo(p.width, p.height, r.fx, r.fy, r.cx, r.cy, p.frame_id);
    info.header.stamp = { ...stamp };
    const truth: GroundTruth = { header: header(stamp, 'base_link'), objects: gt };
    return { image, camera_info: info, ground_truth: truth };
  };
  if (r instanceof CameraRendererNative) {
    return async (_in, frame) => {
      const t = frame.seq * period;
      scene.at(t, objects);
      const gt: GtObject[] = [];
      return messages(t, await r.render(objects, scene.odometer(t), frame.seq, gt), gt);
    };
  }
  return (_in, frame) => {
    const t = frame.seq * period;
    scene.at(t, objects);
    const gt: GtObject[] = [];
    return messages(t, r.render(objects, scene.odometer(t), frame.seq, gt), gt);
  };
}
