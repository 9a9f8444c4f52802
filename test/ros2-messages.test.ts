// Message registry, ROS2 naming, QoS resolution and YAML values: no DDS involved.
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import {
  MessageRegistry, MessageTypeError, MessageValueError, QosError, Ros2NameError, canonicalType, ddsToTopic, ddsToType,
  domainFromEnv, messageRegistry, messageToYaml, normalizeTopic, resolveQos, toMessage, topicToDds, typeToDds,
} from '../runtime/ros2/index.js';
import { SHIPPED_PACKAGES, sampleMessage, shippedTypes } from './fixtures/ros2/env.js';

test('every shipped package is present and every type round-trips through CDR', (t) => {
  const reg = messageRegistry();
  const types = shippedTypes(reg);
  for (const pkg of SHIPPED_PACKAGES) t.true(types.some((x) => x.startsWith(`${pkg}/msg/`)), pkg);
  t.true(types.length > 90);
  for (const type of types) {
    const msg = sampleMessage(reg, type, types.indexOf(type) + 1);
    const bytes = reg.serialize(type, msg);
    t.deepEqual(bytes.subarray(0, 2), new Uint8Array([0, 1]), `${type}: CDR_LE encapsulation`);
    t.deepEqual(reg.deserialize(type, bytes), msg, type);
  }
});

test('messages use the ROS2 layouts (typed arrays, {sec, nanosec})', (t) => {
  const reg = messageRegistry();
  const img = reg.deserialize<{ data: Uint8Array; header: { stamp: { sec: number; nanosec: number } } }>(
    'sensor_msgs/msg/Image',
    reg.serialize('sensor_msgs/msg/Image', { header: { stamp: { sec: 5, nanosec: 6 }, frame_id: 'cam' }, height: 1, width: 2, encoding: 'mono8', step: 2, data: new Uint8Array([1, 2]) }),
  );
  t.true(img.data instanceof Uint8Array);
  t.deepEqual(img.header.stamp, { sec: 5, nanosec: 6 });
  const pc = sampleMessage(reg, 'sensor_msgs/msg/ChannelFloat32');
  t.true(reg.deserialize<{ values: Float32Array }>('sensor_msgs/msg/ChannelFloat32', reg.serialize('sensor_msgs/msg/ChannelFloat32', pc)).values instanceof Float32Array);
});

test('vision_msgs come from the shipped msg/ tree', (t) => {
  const reg = messageRegistry();
  t.regex(reg.compile('vision_msgs/msg/Detection2DArray').source, /msg\/vision_msgs\/msg\/Detection2DArray\.msg$/);
  t.deepEqual(reg.fields('vision_msgs/msg/BoundingBox2D').map((f) => `${f.type} ${f.name}`), ['vision_msgs/Pose2D center', 'float64 size_x', 'float64 size_y']);
});

test('user .msg files, search paths and AMENT_PREFIX_PATH share trees', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'xauto-msg-'));
  mkdirSync(join(dir, 'share', 'my_pkg', 'msg'), { recursive: true });
  writeFileSync(join(dir, 'share', 'my_pkg', 'msg', 'Inner.msg'), 'int32 a\nstring b\n');
  writeFileSync(join(dir, 'share', 'my_pkg', 'msg', 'Outer.msg'), '# comment\nstd_msgs/Header header\nInner[] items\nInner one\nuint8 K=7\nfloat64[2] pair\n');
  const saved = process.env.AMENT_PREFIX_PATH;
  process.env.AMENT_PREFIX_PATH = `/nonexistent:${dir}`;
  try {
    const reg = new MessageRegistry();
    const msg = { header: { stamp: { sec: 1, nanosec: 2 }, frame_id: 'f' }, items: [{ a: 1, b: 'x' }], one: { a: -3, b: 'y' }, pair: new Float64Array([0.5, 1.5]) };
    t.deepEqual(reg.deserialize('my_pkg/msg/Outer', reg.serialize('my_pkg/msg/Outer', msg)), msg);
    t.is(reg.compile('my_pkg/msg/Outer').source, join(dir, 'share', 'my_pkg', 'msg', 'Outer.msg'));
  } finally {
    if (saved === undefined) delete process.env.AMENT_PREFIX_PATH;
    else process.env.AMENT_PREFIX_PATH = saved;
  }
  const reg = new MessageRegistry({ ament: false });
  mkdirSync(join(dir, 'paths', 'other_pkg', 'msg'), { recursive: true });
  writeFileSync(join(dir, 'paths', 'other_pkg', 'msg', 'Thing.msg'), 'geometry_msgs/Point p\n');
  t.false(reg.has('other_pkg/msg/Thing'));
  reg.addSearchPath(join(dir, 'paths'));
  t.true(reg.has('other_pkg/msg/Thing'));
  writeFileSync(join(dir, 'Solo.msg'), 'uint16 x\n');
  t.is(reg.addMsgFile(join(dir, 'Solo.msg'), 'solo_pkg/msg/Solo'), 'solo_pkg/msg/Solo');
  t.deepEqual(reg.deserialize('solo_pkg/msg/Solo', reg.serialize('solo_pkg/msg/Solo', { x: 513 })), { x: 513 });
  reg.addDefinition('std_msgs/msg/String', 'string data\nint32 extra\n');
  t.is(reg.fields('std_msgs/msg/String').length, 2, 'run-time definitions override the shipped ones');
});

test('unknown types and broken definitions are reported with where it was looked for', (t) => {
  const reg = new MessageRegistry({ ament: false });
  const e = t.throws(() => reg.compile('nope_msgs/msg/Missing'), { instanceOf: MessageTypeError });
  t.regex(e.message, /unknown message type 'nope_msgs\/msg\/Missing'.*Missing\.msg/);
  reg.addDefinition('bad_pkg/msg/Bad', 'int32 a\nUnknownThing b\n', 'bad.msg');
  t.throws(() => reg.compile('bad_pkg/msg/Bad'), { instanceOf: MessageTypeError, message: /bad_pkg\/UnknownThing \(field 'b' of bad_pkg\/msg\/Bad\)/ });
  t.throws(() => reg.deserialize('std_msgs/msg/String', new Uint8Array([0, 1, 0, 0, 255, 255, 255, 127])), { message: /std_msgs\/msg\/String: CDR payload of 8 bytes does not decode/ });
});

test('ROS2 names map to DDS names and back', (t) => {
  t.is(topicToDds('/a/b'), 'rt/a/b');
  t.is(topicToDds('chatter'), 'rt/chatter');
  t.is(ddsToTopic('rt/a/b'), '/a/b');
  t.is(ddsToTopic('DCPSParticipant'), undefined);
  t.is(typeToDds('std_msgs/msg/String'), 'std_msgs::msg::dds_::String_');
  t.is(typeToDds('sensor_msgs/PointCloud2'), 'sensor_msgs::msg::dds_::PointCloud2_');
  t.is(ddsToType('sensor_msgs::msg::dds_::PointCloud2_'), 'sensor_msgs/msg/PointCloud2');
  t.is(canonicalType('std_msgs::msg::dds_::String_'), 'std_msgs/msg/String');
  t.is(normalizeTopic('x', '/ns'), '/ns/x');
  t.throws(() => normalizeTopic('/a//b'), { instanceOf: Ros2NameError });
  t.throws(() => normalizeTopic('/9a'), { instanceOf: Ros2NameError });
  t.throws(() => canonicalType('String'), { instanceOf: Ros2NameError, message: /expected 'package\/msg\/Type'/ });
  t.is(domainFromEnv({ ROS_DOMAIN_ID: '42' }), 42);
  t.is(domainFromEnv({}), 0);
  t.throws(() => domainFromEnv({ ROS_DOMAIN_ID: 'x' }), { message: /ROS_DOMAIN_ID='x'/ });
});

test('QoS profiles by name, partial and compact', (t) => {
  t.deepEqual(resolveQos('sensor_data'), { reliability: 'best_effort', durability: 'volatile', history: 'keep_last', depth: 5 });
  t.deepEqual(resolveQos(), { reliability: 'reliable', durability: 'volatile', history: 'keep_last', depth: 10 });
  t.is(resolveQos({ depth: 3 }).depth, 3);
  t.deepEqual(resolveQos('best_effort,transient_local,keep_last:4,deadline:0.5s'), {
    reliability: 'best_effort', durability: 'transient_local', history: 'keep_last', depth: 4, deadlineMs: 500,
  });
  t.throws(() => resolveQos('fast'), { instanceOf: QosError, message: /unknown item 'fast'/ });
  t.throws(() => resolveQos({ depth: 0 }), { instanceOf: QosError });
});

test('YAML values become complete messages, with errors naming the field', (t) => {
  const reg = messageRegistry();
  t.deepEqual(toMessage(reg, 'std_msgs/msg/String', { data: 'hi' }), { data: 'hi' });
  const tw = toMessage(reg, 'geometry_msgs/msg/Twist', { linear: { x: 1 } });
  t.deepEqual(tw, { linear: { x: 1, y: 0, z: 0 }, angular: { x: 0, y: 0, z: 0 } });
  const img = toMessage(reg, 'sensor_msgs/msg/Image', { data: [1, 2, 3], header: { stamp: { sec: 3 } } });
  t.true(img.data instanceof Uint8Array);
  t.deepEqual((img.header as { stamp: unknown }).stamp, { sec: 3, nanosec: 0 });
  t.is(toMessage(reg, 'std_msgs/msg/Int64', { data: '9007199254740993' }).data, 9007199254740993n);
  t.throws(() => toMessage(reg, 'std_msgs/msg/String', { dat: 'x' }), { instanceOf: MessageValueError, message: 'std_msgs/msg/String.dat: no such field (fields: data)' });
  t.throws(() => toMessage(reg, 'std_msgs/msg/UInt8', { data: 300 }), { message: /\.data: 300 is out of range for uint8/ });
  t.throws(() => toMessage(reg, 'geometry_msgs/msg/PoseWithCovariance', { covariance: [1, 2] }), { message: /\.covariance: expected exactly 36 elements, got 2/ });
  t.throws(() => toMessage(reg, 'std_msgs/msg/Bool', { data: 'maybe' }), { message: /\.data: expected bool/ });
  t.is(messageToYaml({ data: 'hi', n: 3n, arr: new Uint8Array(3) }), 'data: hi\nn: 3\narr:\n  - 0\n  - 0\n  - 0');
});
