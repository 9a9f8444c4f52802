// Real Cyclone DDS on loopback: every shipped message type through a separate xauto process,
// malformed samples from the network, incompatible QoS, deadlines, discovery.
import { join } from 'node:path';
import test from 'ava';
import { firstValueFrom, take, toArray } from 'rxjs';
import { openRos2, type DdsTransport, type Ros2Context, type Ros2Event } from '../runtime/ros2/index.js';
import { resolveQos } from '../runtime/ros2/qos.js';
import { childEnv, ddsUnavailable, repoRoot, sampleMessage, shippedTypes, spawnChild } from './fixtures/ros2/env.js';

const missing = ddsUnavailable();
// In CI the DDS tests must run: a missing Cyclone fails them instead of skipping.
const ddsTest = missing && !process.env.CI ? test.skip : test;
const requireDds = (t: { fail(m: string): void }): boolean => {
  if (missing) t.fail(`DDS tests cannot run: ${missing}`);
  return !missing;
};

async function withContexts(domain: number, n: number, fn: (ctxs: Ros2Context[]) => Promise<void>): Promise<void> {
  const ctxs: Ros2Context[] = [];
  try {
    for (let i = 0; i < n; i++) ctxs.push(await openRos2({ domainId: domain, transport: 'dds' }));
    await fn(ctxs);
  } finally {
    for (const c of ctxs) c.close();
  }
}

ddsTest('every shipped message type round-trips through another process over DDS', async (t) => {
  if (!requireDds(t)) return;
  const domain = 61;
  const { messageRegistry } = await import('../runtime/ros2/index.js');
  const types = shippedTypes(messageRegistry());
  const relay = spawnChild(process.execPath, ['--import=tsx', join(repoRoot, 'test/fixtures/ros2/relay.ts'), 'rt', JSON.stringify(types)], childEnv(domain));
  try {
    await relay.waitLine(/^ready$/);
    await withContexts(domain, 1, async ([ctx]) => {
      const pubs = types.map((type, i) => ctx!.publisher(`/rt_in_${i}`, type, 'reliable,keep_last:20'));
      const results = types.map((type, i) => firstValueFrom(ctx!.subscribe(`/rt_out_${i}`, type, 'reliable,keep_last:20').pipe(take(1))));
      // Both directions must be discovered before sending (volatile durability).
      for (const p of pubs) t.true(await p.waitForSubscribers(1, 20000), `${p.type}: relay subscriber matched`);
      await relay.waitLine(/^matched$/);
      const sent = types.map((type, i) => sampleMessage(ctx!.registry, type, i + 11));
      pubs.forEach((p, i) => p.publish(sent[i]));
      const got = await Promise.all(results);
      types.forEach((type, i) => t.deepEqual(got[i], sent[i], type));
      t.is(ctx!.stats().dropped_malformed, 0);
      t.is(ctx!.stats().received, types.length);
    });
  } finally {
    relay.kill();
    await relay.exited;
  }
});

ddsTest('large messages (8 MiB PointCloud2) arrive intact', async (t) => {
  if (!requireDds(t)) return;
  await withContexts(62, 2, async ([a, b]) => {
    const data = new Uint8Array(8 << 20);
    for (let i = 0; i < data.length; i++) data[i] = (i * 2654435761) >>> 24;
    const msg = { header: { stamp: { sec: 1, nanosec: 2 }, frame_id: 'lidar' }, height: 1, width: data.length / 16, fields: [{ name: 'x', offset: 0, datatype: 7, count: 1 }], is_bigendian: false, point_step: 16, row_step: data.length, data, is_dense: true };
    const got = firstValueFrom(b!.subscribe<typeof msg>('/big', 'sensor_msgs/msg/PointCloud2').pipe(take(2), toArray()));
    const p = a!.publisher('/big', 'sensor_msgs/msg/PointCloud2');
    t.true(await p.waitForSubscribers(1, 10000));
    p.publish(msg);
    p.publish({ ...msg, data: data.subarray(0, 1001), header: { ...msg.header, frame_id: 'small' } });
    const [big, small] = await got;
    // Compare the 8 MiB payload as bytes (a structural diff of it would dominate the test).
    t.true(Buffer.from(big!.data.buffer, big!.data.byteOffset, big!.data.byteLength).equals(Buffer.from(data.buffer)));
    t.deepEqual({ ...big, data: null }, { ...msg, data: null });
    t.is(small!.header.frame_id, 'small');
    t.deepEqual(small!.data, data.subarray(0, 1001));
  });
});

ddsTest('malformed CDR from the network is dropped and counted, later samples still arrive', async (t) => {
  if (!requireDds(t)) return;
  await withContexts(63, 2, async ([a, b]) => {
    const malformed: string[] = [];
    const got = firstValueFrom(
      b!.subscribe<{ data: string }>('/bad', 'std_msgs/msg/String', undefined, { onMalformed: (e) => malformed.push(e.message) }).pipe(take(2), toArray()),
    );
    const p = a!.publisher('/bad', 'std_msgs/msg/String');
    t.true(await p.waitForSubscribers(1, 10000));
    p.publish({ data: 'before' });
    p.publishRaw(new Uint8Array([0, 1, 0, 0, 0xff, 0xff, 0xff, 0x7f, 1, 2])); // string length far past the end
    p.publishRaw(new Uint8Array([0, 1, 0, 0])); // header only
    p.publishRaw(new Uint8Array([0, 1, 0, 0, 3, 0, 0, 0, 104])); // truncated string
    p.publish({ data: 'after' });
    t.deepEqual((await got).map((m) => m.data), ['before', 'after']);
    t.is(malformed.length, 3);
    t.regex(malformed[0]!, /^\/bad \(std_msgs\/msg\/String\): CDR payload of \d+ bytes does not decode/);
    t.is(b!.stats().dropped_malformed, 3);
    t.is(b!.stats().received, 2);
    // Bytes that are not CDR at all are refused before they leave this process.
    t.throws(() => p.publishRaw(new Uint8Array([7, 7, 7, 7, 7])), { message: /CDR encapsulation header/ });
  });
});

ddsTest('incompatible QoS is reported on both sides and nothing is delivered', async (t) => {
  if (!requireDds(t)) return;
  await withContexts(64, 2, async ([a, b]) => {
    const events: Ros2Event[] = [];
    a!.events.subscribe((e) => events.push(e));
    b!.events.subscribe((e) => events.push(e));
    let received = 0;
    const sub = b!.subscribe('/qos', 'std_msgs/msg/String', 'reliable').subscribe(() => received++);
    const p = a!.publisher('/qos', 'std_msgs/msg/String', 'sensor_data');
    const deadline = Date.now() + 10000;
    while (Date.now() < deadline && (a!.stats().qos_incompatible === 0 || b!.stats().qos_incompatible === 0)) await new Promise((r) => setTimeout(r, 20));
    p.publish({ data: 'x' });
    await new Promise((r) => setTimeout(r, 200));
    sub.unsubscribe();
    t.true(a!.stats().qos_incompatible >= 1);
    t.true(b!.stats().qos_incompatible >= 1);
    t.is(received, 0);
    const e = events.find((x) => x.event.kind === 'incompatible_qos' && x.endpoint === 'subscriber');
    t.truthy(e);
    t.regex(e!.message, /\/qos: subscriber QoS incompatible .*policy: reliability/);
  });
});

ddsTest('missed deadlines are reported', async (t) => {
  if (!requireDds(t)) return;
  await withContexts(65, 2, async ([a, b]) => {
    const messages: string[] = [];
    b!.events.subscribe((e) => messages.push(e.message));
    const sub = b!.subscribe('/dl', 'std_msgs/msg/Empty', { deadlineMs: 50 }).subscribe();
    const p = a!.publisher('/dl', 'std_msgs/msg/Empty', { deadlineMs: 50 });
    t.true(await p.waitForSubscribers(1, 10000));
    p.publish({}); // then silence: the 50 ms deadline passes
    const deadline = Date.now() + 5000;
    while (Date.now() < deadline && b!.stats().deadline_missed === 0) await new Promise((r) => setTimeout(r, 20));
    sub.unsubscribe();
    t.true(b!.stats().deadline_missed >= 1);
    t.true(messages.some((m) => /^\/dl: subscriber missed its deadline/.test(m)), messages.join('; '));
  });
});

ddsTest('discovery lists remote topics with their ROS2 types and endpoint counts', async (t) => {
  if (!requireDds(t)) return;
  await withContexts(66, 2, async ([a, b]) => {
    const p = a!.publisher('/disc/one', 'geometry_msgs/msg/Twist');
    const sub = b!.subscribe('/disc/one', 'geometry_msgs/msg/Twist').subscribe();
    b!.publisher('/disc/two', 'vision_msgs/msg/Detection2DArray', 'sensor_data');
    t.true(await p.waitForSubscribers(1, 10000));
    let topics = await a!.topics();
    const deadline = Date.now() + 10000;
    while (Date.now() < deadline && !topics.some((x) => x.name === '/disc/two')) {
      await new Promise((r) => setTimeout(r, 50));
      topics = await a!.topics();
    }
    t.deepEqual(topics.find((x) => x.name === '/disc/one'), { name: '/disc/one', types: ['geometry_msgs/msg/Twist'], publishers: 1, subscribers: 1 });
    t.deepEqual(topics.find((x) => x.name === '/disc/two'), { name: '/disc/two', types: ['vision_msgs/msg/Detection2DArray'], publishers: 1, subscribers: 0 });
    const ep = (await a!.endpoints()).find((e) => e.topic === '/disc/two');
    t.is(ep?.qos.reliability, 'best_effort');
    sub.unsubscribe();
  });
});

ddsTest('a closed context refuses new endpoints with a clear error', async (t) => {
  if (!requireDds(t)) return;
  const ctx = await openRos2({ domainId: 67, transport: 'dds' });
  ctx.close();
  t.throws(() => ctx.publisher('/x', 'std_msgs/msg/String'), { message: /context is closed/ });
});

ddsTest('ROS_LOCALHOST_ONLY=1 without a config file applies a loopback-only Cyclone config (examples/ros2-chatter.ts runs on it)', async (t) => {
  if (!requireDds(t)) return;
  const env = childEnv(68, { ROS_LOCALHOST_ONLY: '1' });
  delete env.CYCLONEDDS_URI;
  const chatter = spawnChild(process.execPath, ['--import=tsx', join(repoRoot, 'examples/ros2-chatter.ts'), 'both', '3'], env);
  t.is(await chatter.exited, 0, chatter.stderr());
  t.deepEqual(chatter.lines.filter((l) => l.startsWith('I heard')), ['I heard: [Hello World: 1]', 'I heard: [Hello World: 2]', 'I heard: [Hello World: 3]']);
});

ddsTest('a worker thread with its own DDS participant exiting leaves this thread\'s topics running', async (t) => {
  if (!requireDds(t)) return;
  const { Worker } = await import('node:worker_threads');
  const addon = join(repoRoot, 'native/dds/build/Release/xauto_dds.node');
  await withContexts(69, 2, async ([a, b]) => {
    const got: string[] = [];
    const sub = b!.subscribe<{ data: string }>('/wk', 'std_msgs/msg/String').subscribe((m) => got.push(m.data));
    const p = a!.publisher('/wk', 'std_msgs/msg/String');
    t.true(await p.waitForSubscribers(1, 10000));
    // The worker loads the addon in its own environment, opens a participant and a reader, exits.
    const worker = new Worker(
      `const d = require(${JSON.stringify(addon)}); const pp = d.createParticipant(69);
       d.createReader(pp, d.createTopic(pp, 'rt/wk', 'std_msgs::msg::dds_::String_'), {}, () => {}, () => {});
       setTimeout(() => process.exit(0), 200);`,
      { eval: true },
    );
    await new Promise((r) => worker.once('exit', r));
    p.publish({ data: 'after worker' });
    const deadline = Date.now() + 5000;
    while (Date.now() < deadline && got.length === 0) await new Promise((r) => setTimeout(r, 20));
    sub.unsubscribe();
    t.deepEqual(got, ['after worker']);
  });
});

ddsTest('a native relay forwards every sample between topics unchanged, without JavaScript touching them', async (t) => {
  if (!requireDds(t)) return;
  await withContexts(70, 3, async ([src, mid, dst]) => {
    const type = 'std_msgs/msg/String';
    const qos = resolveQos('reliable,keep_all');
    const relay = (mid!.transport as DdsTransport).relay('/relay_in', '/relay_out', type, qos);
    try {
      const got = firstValueFrom(dst!.subscribe<{ data: string }>('/relay_out', type, qos).pipe(take(20), toArray()));
      const pub = src!.publisher<{ data: string }>('/relay_in', type, qos);
      t.true(await pub.waitForSubscribers(1, 10000));
      // Volatile samples reach only matched readers: the relay's writer must see the destination first.
      for (let i = 0; i < 1000 && relay.matched() === 0; i++) await new Promise((r) => setTimeout(r, 10));
      t.is(relay.matched(), 1);
      for (let i = 0; i < 20; i++) pub.publish({ data: `n${i} ${'é'.repeat(i)}` });
      const msgs = await got;
      t.deepEqual(msgs.map((m) => m.data), Array.from({ length: 20 }, (_, i) => `n${i} ${'é'.repeat(i)}`));
      t.is(relay.relayed(), 20);
      t.is(mid!.stats().received, 0, 'nothing reached JavaScript in the relaying process');
    } finally {
      relay.close();
    }
  });
});
