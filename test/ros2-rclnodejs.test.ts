// The rclnodejs transport. This machine has no ROS2 install, so beyond the "absent" path the
// transport is driven through MockRclnodejs, a stand-in for rclnodejs that records calls.
import test from 'ava';
import { firstValueFrom, take } from 'rxjs';
import { Ros2Context, RclnodejsTransport, RclnodejsUnavailable, messageRegistry, openRos2 } from '../runtime/ros2/index.js';
import { loadRclnodejs, type RclNodeLike, type RclnodejsLike } from '../runtime/ros2/rclnodejs-transport.js';

test.serial('without a sourced ROS2 the rclnodejs transport says so in one line', async (t) => {
  const saved = process.env.AMENT_PREFIX_PATH;
  delete process.env.AMENT_PREFIX_PATH;
  try {
    const e = await t.throwsAsync(loadRclnodejs(), { instanceOf: RclnodejsUnavailable });
    t.regex(e.message, /needs a sourced ROS2 distro/);
    t.false(e.message.includes('\n'));
    await t.throwsAsync(openRos2({ transport: 'rclnodejs' }), { instanceOf: RclnodejsUnavailable });
  } finally {
    if (saved !== undefined) process.env.AMENT_PREFIX_PATH = saved;
  }
});

/** MockRclnodejs: records publishers/subscriptions; `deliver` plays a raw sample to subscribers. */
function mockRclnodejs() {
  const published: Array<{ topic: string; type: string; bytes: Buffer }> = [];
  const subs: Array<{ topic: string; type: string; qos: unknown; isRaw: boolean; cb: (b: Buffer) => void }> = [];
  const qos: unknown[] = [];
  let shutdown = false;
  class QoS {
    constructor(readonly history: number, readonly depth: number, readonly reliability: number, readonly durability: number) {
      qos.push(this);
    }
  }
  const node: RclNodeLike = {
    createPublisher: (type, topic) => ({ publish: (bytes: Buffer) => void published.push({ topic, type, bytes }) }),
    createSubscription: (type, topic, options, cb) => {
      const s = { topic, type, qos: options.qos, isRaw: options.isRaw, cb };
      subs.push(s);
      return s;
    },
    destroyPublisher: () => {},
    destroySubscription: (s) => void subs.splice(subs.indexOf(s as (typeof subs)[number]), 1),
    getTopicNamesAndTypes: () => [{ name: '/chatter', types: ['std_msgs/msg/String'] }],
    countPublishers: () => 1,
    countSubscribers: () => 2,
    spin: () => {},
    destroy: () => {},
  };
  const rcl: RclnodejsLike = { init: async () => {}, createNode: () => node, QoS, shutdown: () => void (shutdown = true) };
  return { rcl, published, subs, qos, isShutdown: () => shutdown, deliver: (topic: string, b: Buffer) => subs.filter((s) => s.topic === topic).forEach((s) => s.cb(b)) };
}

test('the same context API runs over rclnodejs with CDR in both directions (MockRclnodejs)', async (t) => {
  const mock = mockRclnodejs();
  const transport = await RclnodejsTransport.open({ domainId: 7, nodeName: 'xauto_test', rclnodejs: mock.rcl });
  const ctx = new Ros2Context(transport);
  const reg = messageRegistry();

  const pub = ctx.publisher('/chatter', 'std_msgs/msg/String', 'sensor_data');
  pub.publish({ data: 'hi' });
  t.is(mock.published.length, 1);
  t.is(mock.published[0]!.type, 'std_msgs/msg/String');
  t.deepEqual(reg.deserialize('std_msgs/msg/String', mock.published[0]!.bytes), { data: 'hi' });
  t.like(mock.qos[0], { history: 1, depth: 5, reliability: 2, durability: 2 });

  const got = firstValueFrom(ctx.subscribe('/chatter', 'std_msgs/msg/String', 'latched').pipe(take(1)));
  t.true(mock.subs[0]!.isRaw);
  t.like(mock.qos[1], { history: 1, depth: 1, reliability: 1, durability: 1 });
  mock.deliver('/chatter', Buffer.from([0, 1, 0, 0, 0xff, 0xff, 0xff, 0x7f])); // malformed: dropped, counted
  mock.deliver('/chatter', Buffer.from(reg.serialize('std_msgs/msg/String', { data: 'from ros2' })));
  t.deepEqual(await got, { data: 'from ros2' });
  t.is(mock.subs.length, 0, 'unsubscribing destroyed the subscription');
  t.like(ctx.stats(), { sent: 1, received: 1, dropped_malformed: 1 });
  t.deepEqual(await ctx.topics(), [{ name: '/chatter', types: ['std_msgs/msg/String'], publishers: 1, subscribers: 2 }]);
  ctx.close();
  t.true(mock.isShutdown());
});
