// Topics bound to ROS2 in a launch file (`ros2: in|out`) go through a Ros2Context.
import type { Subscription } from 'rxjs';
import type { Ros2Context } from '../ros2/index.js';
import type { TopicBridge } from './executor.js';

export function ros2Bridge(ros: Ros2Context): TopicBridge & { close(): void } {
  const closers: Array<() => void> = [];
  return {
    publisher(topic, type, qos) {
      const pub = ros.publisher(topic, type, qos);
      closers.push(() => pub.close());
      return (msg) => pub.publish(msg);
    },
    subscribe(topic, type, qos, onMessage) {
      const sub: Subscription = ros.subscribe(topic, type, qos).subscribe({ next: onMessage });
      const stop = () => sub.unsubscribe();
      closers.push(stop);
      return stop;
    },
    close() {
      for (const c of closers.splice(0)) c();
    },
  };
}
