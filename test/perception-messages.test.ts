// The ROS2-typed payloads of the perception pipeline have ROS2 layouts: they serialize to CDR
// with the project's message registry and read back unchanged, so they can go out over DDS.
import test from 'ava';
import { messageRegistry } from '../runtime/ros2/index.js';
import { maxDifference, sampleInputs } from '../xnodes/perception-common/fixtures.js';

const samples = sampleInputs(1, { objects: 8, seed: 4 });

const cases: Array<[string, string, string]> = [
  ['sensor_msgs/msg/Image', 'camera/preprocess', 'image'],
  ['sensor_msgs/msg/CameraInfo', 'detect/decode', 'camera_info'],
  ['sensor_msgs/msg/PointCloud2', 'lidar/voxel', 'points'],
  ['vision_msgs/msg/Detection3DArray', 'tracking/evaluate', 'tracks'],
  ['vision_msgs/msg/Detection2DArray', 'tracking/evaluate', 'tracks_2d'],
];

for (const [type, stage, port] of cases) {
  test(`${type} from the pipeline round-trips through CDR`, async (t) => {
    const msg = (await samples)[0]![stage]![port];
    const reg = messageRegistry();
    const bytes = reg.serialize(type, msg);
    t.true(bytes.byteLength > 0);
    const back = reg.deserialize(type, bytes);
    t.is(maxDifference(normalize(msg), normalize(back)), 0);
  });
}

/** Typed arrays and plain arrays of numbers compare as lists; bigint-free values only. */
function normalize(v: unknown): unknown {
  if (ArrayBuffer.isView(v)) return Array.from(v as unknown as ArrayLike<number>);
  if (Array.isArray(v)) return v.map(normalize);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, normalize(x)]));
  if (typeof v === 'boolean') return v ? 1 : 0;
  return v;
}
