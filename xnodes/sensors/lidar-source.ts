// The lidar source's stage body, shared by its main-thread and worker implementations.
import type { ImplContext, StageFn } from '../../runtime/xnode/types.js';
import { header, rosStamp } from '../perception-common/messages.js';
import { makeCloud } from '../perception-common/pointcloud.js';
import { LidarSimulator } from './lidar-sim.js';
import { Scene, type SceneObject } from './scene.js';

export interface LidarParams {
  rate: number;
  rings: number;
  steps: number;
  noise: number;
  dropout: number;
  objects: number;
  seed: number;
  ego_speed: number;
  frame_id: string;
  use_sim_time: boolean;
}

export function createLidar(ctx: Pick<ImplContext, 'params'>): StageFn {
  const p = ctx.params as unknown as LidarParams;
  const scene = new Scene({ seed: p.seed, objects: p.objects, egoSpeed: p.ego_speed });
  const sim = new LidarSimulator({ rings: p.rings, steps: p.steps, noise: p.noise, dropout: p.dropout, seed: p.seed });
  const objects: SceneObject[] = [];
  const period = 1 / (p.rate > 0 ? p.rate : 10);
  return (_in, frame) => {
    const t = frame.seq * period;
    scene.at(t, objects);
    const n = sim.scan(objects, scene.odometer(t), frame.seq);
    return { points: makeCloud(header(rosStamp(t, p.use_sim_time), p.frame_id), sim.xyzi, sim.rings, n) };
  };
}
