// Samples a keep_last reader history pushes out before they are taken are lost without any DDS
// status; the native reader counts them and the ROS2 bridge of a run reports them
// (`lost.ros2.history`). Real Cyclone DDS (two participants of this process, domain 146).
import test from 'ava';
import { ros2Bridge } from '../runtime/exec/bridge.js';
import { openRos2 } from '../runtime/ros2/index.js';
import { counters } from '../runtime/trace/counters.js';
import { ddsUnavailable } from './fixtures/ros2/env.js';

const missing = ddsUnavailable();
if (missing) console.log(process.env.CI ? `DDS missing in CI: failing (${missing})` : `skipped: ${missing}`);
const ddsTest = missing && !process.env.CI ? test.skip : test.serial;

ddsTest('a burst larger than the keep_last depth: every sample is either delivered or counted as pushed out of the history', async (t) => {
  const a = await openRos2({ domainId: 146, transport: 'dds' });
  const b = await openRos2({ domainId: 146, transport: 'dds' });
  const lines: string[] = [];
  const bridge = ros2Bridge(b, (l) => lines.push(l));
  counters.reset();
  try {
    let delivered = 0;
    bridge.subscribe('/burst', 'std_msgs/msg/String', 'default', () => delivered++);
    const pub = a.publisher<{ data: string }>('/burst', 'std_msgs/msg/String', 'default');
    t.true(await pub.waitForSubscribers(1, 10000));
    // Written in one go from this thread: the reader's JS side takes them only afterwards.
    for (let i = 0; i < 100; i++) pub.publish({ data: `m${i}` });
    t.true(await pub.flush(5000));
    await new Promise((r) => setTimeout(r, 300));
    bridge.close();
    t.is(delivered, 10, 'the depth of the default profile');
    t.is(counters.get('lost.ros2.history'), 90);
    t.is(b.stats().history_overwritten, 90);
    t.regex(lines.join('\n'), /90 sample\(s\) of \/burst were pushed out of its keep_last history/);
  } finally {
    bridge.close();
    a.close();
    b.close();
  }
});
