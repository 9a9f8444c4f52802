// Publishes a rotating sensor_msgs/msg/PointCloud2 (x, y, z, intensity as float32) on /points
// at 10 Hz with the sensor-data QoS, the way a lidar driver does; view it with RViz2 or
//   xauto topic hz /points      xauto topic echo /points --once
//
//   node --import=tsx examples/ros2-pointcloud.ts [points=20000] [seconds=10]
import { openRos2 } from '../runtime/ros2/index.js';

const points = Number(process.argv[2] ?? 20000);
const seconds = Number(process.argv[3] ?? 10);
const ros = await openRos2({ nodeName: 'pointcloud_demo' });
const pub = ros.publisher('/points', 'sensor_msgs/msg/PointCloud2', 'sensor_data');
const FLOAT32 = 7; // sensor_msgs/PointField.FLOAT32
const fields = ['x', 'y', 'z', 'intensity'].map((name, i) => ({ name, offset: i * 4, datatype: FLOAT32, count: 1 }));
// One buffer reused for every cloud: the publisher serializes it before publish() returns.
const xyz = new Float32Array(points * 4);
const msg = {
  header: { stamp: { sec: 0, nanosec: 0 }, frame_id: 'lidar' },
  height: 1, width: points, fields, is_bigendian: false, point_step: 16, row_step: 16 * points,
  data: new Uint8Array(xyz.buffer), is_dense: true,
};
let frame = 0;
const timer = setInterval(() => {
  const a = frame++ * 0.05;
  for (let i = 0; i < points; i++) {
    const t = (i / points) * Math.PI * 2;
    xyz.set([Math.cos(t + a) * 10, Math.sin(t + a) * 10, Math.sin(t * 8) * 0.5, i % 256], i * 4);
  }
  const now = Date.now();
  msg.header.stamp = { sec: Math.floor(now / 1000), nanosec: (now % 1000) * 1e6 };
  pub.publish(msg);
}, 100);
setTimeout(() => {
  clearInterval(timer);
  console.log(`published ${frame} clouds of ${points} points`, ros.stats());
  ros.close();
}, seconds * 1000);
