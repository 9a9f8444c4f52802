// Stage body of fusion (main thread and worker).
import type { ImplContext, StageFn } from '../../runtime/xnode/types.js';
import { dropper } from '../perception-common/check.js';
import type { CameraInfo, Clusters, Detections2D } from '../perception-common/messages.js';
import { CLUSTER_STRIDE, stampKey } from '../perception-common/messages.js';
import { checkDetections } from '../detect/nms-kernel.js';
import { Fuser, checkCameraInfo, type FusionParams } from './fuse.js';

export const UNSYNCED = 'perception.fusion_unsynced';

export function createFusion(ctx: Pick<ImplContext, 'params' | 'count' | 'log'>): StageFn {
  const fuser = new Fuser(ctx.params as unknown as FusionParams);
  const drop = dropper(ctx);
  return (inputs) => {
    const det = inputs.detections as Detections2D;
    const clusters = inputs.clusters as Clusters;
    const info = inputs.camera_info as CameraInfo | undefined;
    const bad = checkDetections(det);
    if (bad) return drop('on detections', bad);
    if (!clusters || !(clusters.boxes instanceof Float32Array) || clusters.boxes.length !== clusters.count * CLUSTER_STRIDE) {
      return drop('on clusters', `expected xauto/Clusters {count, boxes: Float32Array(count*${CLUSTER_STRIDE})}`);
    }
    const badInfo = checkCameraInfo(info);
    if (badInfo) return drop('on camera_info', badInfo);
    // Pairs from different instants still fuse (objects move little in one frame); counted.
    if (det.header && clusters.header && stampKey(det.header.stamp) !== stampKey(clusters.header.stamp)) ctx.count(UNSYNCED);
    return { objects: fuser.fuse(det, clusters, info!) };
  };
}
