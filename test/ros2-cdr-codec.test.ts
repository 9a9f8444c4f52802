// The compiled CDR codec against @foxglove/rosmsg2-serialization, the reference it replaces on
// the hot path: the same bytes out and the same values back for every shipped message type,
// and the same verdict on truncated or inflated samples.
import test from 'ava';
import { isDeepStrictEqual } from 'node:util';
import { compileCodec } from '../runtime/ros2/cdr-codec.js';
import { decodeCdr, MessageRegistry } from '../runtime/ros2/messages.js';
import { sampleMessage, shippedTypes } from './fixtures/ros2/env.js';

const registry = new MessageRegistry({ ament: false });

function encode(type: string, msg: unknown): Uint8Array {
  const codec = compileCodec(registry.definition(type));
  const out = new Uint8Array(codec.maxSize(msg));
  return out.subarray(0, codec.encodeInto(msg, out));
}

test('every shipped type: compiled encoding is byte for byte the reference encoding, and decodes to the reference value', (t) => {
  const types = shippedTypes(registry);
  t.true(types.length > 50, `${types.length} types`);
  for (const type of types) {
    for (const seed of [1, 7]) {
      const msg = sampleMessage(registry, type, seed);
      const ref = registry.writer(type).writeMessage(msg);
      const mine = encode(type, msg);
      t.deepEqual(Buffer.from(mine).toString('hex'), Buffer.from(ref).toString('hex'), type);
      const codec = compileCodec(registry.definition(type));
      const back = codec.decode(ref);
      t.true(isDeepStrictEqual(back, decodeCdr(registry.reader(type), ref)), `${type}: decoded value`);
    }
  }
});

test('missing fields encode as their defaults, as the reference writer does', (t) => {
  for (const type of ['sensor_msgs/msg/PointCloud2', 'geometry_msgs/msg/PoseStamped', 'sensor_msgs/msg/Imu', 'std_msgs/msg/String']) {
    t.deepEqual(Buffer.from(encode(type, {})), Buffer.from(registry.writer(type).writeMessage({})), type);
  }
});

test('non-ASCII strings travel as UTF-8', (t) => {
  const bytes = encode('std_msgs/msg/String', { data: 'grüße ✓' });
  t.deepEqual(compileCodec(registry.definition('std_msgs/msg/String')).decode(bytes), { data: 'grüße ✓' });
});

test('truncated samples and lengths beyond the sample are refused, as by the reference reader', (t) => {
  const type = 'sensor_msgs/msg/Image';
  const codec = compileCodec(registry.definition(type));
  const full = registry.writer(type).writeMessage(sampleMessage(registry, type, 3));
  const verdict = (f: () => unknown): boolean => {
    try {
      f();
      return true;
    } catch {
      return false;
    }
  };
  let refused = 0;
  for (let n = 4; n <= full.byteLength; n++) {
    const cut = full.slice(0, n);
    const mine = verdict(() => codec.decode(cut));
    t.is(mine, verdict(() => decodeCdr(registry.reader(type), cut)), `cut at ${n}`);
    if (!mine) refused++;
  }
  t.true(refused > 0);
  const inflated = full.slice();
  new DataView(inflated.buffer).setUint32(4 + 8, 0xfffffff0, true); // header.frame_id length
  t.throws(() => codec.decode(inflated), { instanceOf: RangeError });
});
