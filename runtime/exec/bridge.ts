// Topics bound to ROS2 in a launch file (`ros2: in|out`) go through a Ros2Context. Input from
// ROS2 is network input: samples that do not decode are refused and counted
// (`refused.ros2.malformed`), samples DDS reports lost or rejected are counted
// (`lost.ros2.sample_lost`, `lost.ros2.sample_rejected`), samples pushed out of a keep_last
// history before they were taken are counted (`lost.ros2.history`), and nothing thrown downstream escapes
// into rxjs (where it would end the process).
import type { Subscription } from 'rxjs';
import { normalizeTopic, type Ros2Context } from '../ros2/index.js';
import { counters } from '../trace/counters.js';
import type { TopicBridge } from './executor.js';

export function ros2Bridge(ros: Ros2Context, log: (line: string) => void = (l) => process.stderr.write(`${l}\n`)): TopicBridge & { close(): void } {
  const closers: Array<() => void> = [];
  const inputs = new Set<string>();
  const told = new Set<string>();
  const once = (key: string, line: string): void => {
    if (told.has(key)) return;
    told.add(key);
    log(line);
  };
  const events = ros.events.subscribe((e) => {
    if (e.endpoint !== 'subscriber' || !inputs.has(e.topic)) return;
    if (e.event.kind === 'sample_lost' || e.event.kind === 'sample_rejected') {
      counters.add(`lost.ros2.${e.event.kind}`, Math.max(0, e.event.change));
      once(`${e.topic}\u0000${e.event.kind}`, `xauto: ${e.message}; further ones are counted (lost.ros2.${e.event.kind})`);
    }
  });
  closers.push(() => events.unsubscribe());
  return {
    publisher(topic, type, qos) {
      const pub = ros.publisher(topic, type, qos);
      closers.push(() => pub.close());
      return (msg) => pub.publish(msg);
    },
    subscribe(topic, type, qos, onMessage) {
      const sub: Subscription = ros
        .subscribe(topic, type, qos, {
          onMalformed: (err) => {
            counters.add('refused.ros2.malformed');
            once(`${topic}\u0000malformed`, `xauto: refused a sample: ${err.message}; further ones are counted (refused.ros2.malformed)`);
          },
          onRefused: (n) => counters.add('refused.ros2.malformed', n),
          // Pushed out of the reader's keep_last history before the run took them.
          onOverwritten: (n) => {
            counters.add('lost.ros2.history', n);
            log(`xauto: ${n} sample(s) of ${topic} were pushed out of its keep_last history before they were taken (counted as lost.ros2.history)`);
          },
        })
        .subscribe({
          next: (msg) => {
            try {
              onMessage(msg);
            } catch (err) {
              counters.add('errors.ros2_delivery');
              once(`${topic}\u0000delivery`, `xauto: delivering a sample of ${topic} failed: ${(err as Error).stack ?? String(err)}`);
            }
          },
        });
      inputs.add(normalizeTopic(topic));
      const stop = () => sub.unsubscribe();
      closers.push(stop);
      return stop;
    },
    close() {
      for (const c of closers.splice(0)) c();
    },
  };
}

