// ROS2 chatter with xauto: a talker and a listener on /chatter (std_msgs/msg/String).
//
//   node --import=tsx examples/ros2-chatter.ts            # talker + listener in this process
//   node --import=tsx examples/ros2-chatter.ts talker     # only the talker
//   node --import=tsx examples/ros2-chatter.ts listener   # only the listener
//
// It interoperates with ROS2 itself (`ros2 run demo_nodes_cpp listener` hears the talker) and
// with `xauto topic echo /chatter`. Set ROS_DOMAIN_ID to pick the domain; on a machine without
// a network, CYCLONEDDS_URI=file://$PWD/test/fixtures/ros2/cyclonedds-loopback.xml keeps DDS
// on loopback.
import { interval, map, take } from 'rxjs';
import { openRos2 } from '../runtime/ros2/index.js';

const role = process.argv[2] ?? 'both';
const count = Number(process.argv[3] ?? 10);
const ros = await openRos2({ nodeName: 'chatter' });
console.log(`transport: ${ros.transport.name}, domain ${ros.transport.domainId}`);

const done: Promise<void>[] = [];
if (role === 'listener' || role === 'both') {
  done.push(new Promise((resolve) => {
    ros.subscribe<{ data: string }>('/chatter', 'std_msgs/msg/String')
      .pipe(take(count))
      .subscribe({ next: (m) => console.log(`I heard: [${m.data}]`), complete: resolve });
  }));
}
if (role === 'talker' || role === 'both') {
  const talker = ros.publisher<{ data: string }>('/chatter', 'std_msgs/msg/String');
  await talker.waitForSubscribers(1, 5000);
  done.push(new Promise((resolve) => {
    interval(200)
      .pipe(take(count), map((i) => ({ data: `Hello World: ${i + 1}` })))
      .subscribe({ next: (m) => (talker.publish(m), console.log(`Publishing: '${m.data}'`)), complete: resolve });
  }));
}
await Promise.all(done);
await new Promise((r) => setTimeout(r, 200));
console.log(ros.stats());
ros.close();
