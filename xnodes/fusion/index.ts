// Camera-lidar fusion: 2D detections + lidar clusters -> objects with class, 3D box, confidence.
import { defineXNode } from '../../runtime/xnode/index.js';
import { CAMERA_HEIGHT } from '../perception-common/rig.js';
import { createFusion } from './stages.js';

export const fusion = defineXNode({
  type: 'fusion/fuse',
  description:
    'Projects lidar clusters into the image and associates them with 2D detections (IoU, best first); ' +
    'runs when both a detection set and a cluster set are fresh (camera and lidar at the same rate pair frame by frame).',
  inputs: {
    detections: { type: 'xauto/Detections2D' },
    clusters: { type: 'xauto/Clusters' },
    camera_info: { type: 'sensor_msgs/msg/CameraInfo', latched: true },
  },
  outputs: { objects: { type: 'xauto/Objects' } },
  params: {
    min_iou: { type: 'float', default: 0.2, min: 0, max: 1, description: 'overlap a projected cluster needs with a detection' },
    camera_height: { type: 'float', default: CAMERA_HEIGHT, min: 0, description: 'camera height above base_link ground (m)' },
  },
  impls: [
    { name: 'js', xpu: 'cpu', backend: 'main', create: (ctx) => createFusion(ctx) },
    { name: 'worker', xpu: 'cpu', backend: 'worker', module: new URL('./fusion.worker.js', import.meta.url).href },
  ],
});

export const xnodes = [fusion];
