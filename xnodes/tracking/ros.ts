// Tracks as vision_msgs 4.x messages (ROS2 field names), ready to go out over DDS.
import type { Header } from '../perception-common/messages.js';
import { CLASS_NAMES } from '../perception-common/messages.js';
import type { TrackOut } from './tracker.js';

const point = (x: number, y: number, z: number) => ({ x, y, z });
const IDENTITY = { x: 0, y: 0, z: 0, w: 1 };

function hypothesis(t: TrackOut) {
  return {
    hypothesis: { class_id: CLASS_NAMES[t.cls] ?? String(t.cls), score: t.score },
    pose: { pose: { position: point(t.center[0], t.center[1], t.center[2]), orientation: { ...IDENTITY } }, covariance: new Float64Array(36) },
  };
}

/** vision_msgs/msg/Detection3DArray */
export function detection3DArray(header: Header, tracks: TrackOut[]) {
  return {
    header,
    detections: tracks.map((t) => ({
      header,
      results: [hypothesis(t)],
      bbox: { center: { position: point(t.center[0], t.center[1], t.center[2]), orientation: { ...IDENTITY } }, size: point(t.size[0], t.size[1], t.size[2]) },
      id: String(t.id),
    })),
  };
}

/** vision_msgs/msg/Detection2DArray (boxes in camera image pixels). */
export function detection2DArray(header: Header, tracks: TrackOut[]) {
  return {
    header,
    detections: tracks.map((t) => ({
      header,
      results: [hypothesis(t)],
      bbox: {
        center: { position: { x: (t.box2d[0] + t.box2d[2]) / 2, y: (t.box2d[1] + t.box2d[3]) / 2 }, theta: 0 },
        size_x: t.box2d[2] - t.box2d[0],
        size_y: t.box2d[3] - t.box2d[1],
      },
      id: String(t.id),
    })),
  };
}

export type Detection3DArray = ReturnType<typeof detection3DArray>;
export type Detection2DArray = ReturnType<typeof detection2DArray>;
