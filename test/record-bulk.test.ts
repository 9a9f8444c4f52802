// xauto-bulk, the recorded form of xauto's own types: every value comes back as it was
// published, typed arrays bit for bit, whatever their kind, offset or nesting; and the
// recorder's shared ring, full or not, loses nothing.
import test from 'ava';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serialize } from 'node:v8';
import { Recording } from '../runtime/record/reader.js';
import { Recorder } from '../runtime/record/recorder.js';
import { decodeBulk, encodeBulk } from '../runtime/record/bulk.js';
import { decode, V8 } from '../runtime/record/schema.js';
import { mulberry32 } from '../runtime/util/random.js';

test('values with typed arrays of every kind, views at odd offsets and nesting come back equal', (t) => {
  const backing = new ArrayBuffer(64);
  new Uint8Array(backing).forEach((_, i, a) => (a[i] = i * 7));
  const value = {
    header: { stamp: { sec: 3, nanosec: 7 }, frame_id: 'cam' },
    dims: [1, 3, 4],
    data: Float32Array.from({ length: 12 }, (_, i) => i / 3),
    views: [new Uint8Array(backing, 3, 5), new Int16Array(backing, 6, 4), new Float64Array([Math.PI, -0, NaN]), new BigInt64Array([-1n, 2n ** 62n])],
    misc: { empty: new Uint32Array(0), clamped: new Uint8ClampedArray([0, 255]), dv: new DataView(backing, 8, 8), list: [1, 'a', null, true], nested: [[new Int8Array([-1, 2])]] },
    when: new Date(0),
    none: undefined,
  };
  const back = decodeBulk(encodeBulk(value)) as typeof value;
  t.deepEqual(back, value);
  t.true(back.data instanceof Float32Array);
  t.true(Object.is(back.views[2]![1], -0));
  t.true(back.misc.dv instanceof DataView);
  t.deepEqual(new Uint8Array(back.misc.dv.buffer), new Uint8Array(backing, 8, 8));
  // Each decoded view owns its buffer: nothing aliases the message bytes or another view.
  t.is(back.views[0]!.byteOffset, 0);
  t.is(back.views[0]!.buffer.byteLength, 5);
});

test('large views (copied by the core addon when built) of every kind and offset land bit for bit in shared memory at any offset', (t) => {
  const backing = new ArrayBuffer(9000);
  const bytes = new Uint8Array(backing);
  bytes.forEach((_, i) => (bytes[i] = (i * 31 + 7) & 0xff));
  // NaNs with a payload: a copy that went through a float register could canonicalize them.
  new DataView(backing).setUint32(1024, 0x7fc12345, true);
  const value = {
    f32: new Float32Array(backing, 1024, 1500),
    f64: new Float64Array(backing, 8, 700),
    u8: new Uint8Array(backing, 3, 4097),
    i16: new Int16Array(backing, 6, 1100),
    big: new BigUint64Array(backing, 16, 300),
    dv: new DataView(backing, 1, 2048),
    small: new Uint8Array(backing, 5, 9),
  };
  const room = new Uint8Array(new SharedArrayBuffer(1 << 16));
  for (const at of [0, 8, 4096 + 8]) {
    room.fill(0xee);
    const out = encodeBulk(value, { room: (n) => room.subarray(at, at + n) });
    const back = decodeBulk(out) as typeof value;
    t.deepEqual(back, value);
    t.deepEqual(new Uint8Array(back.f32.buffer), new Uint8Array(backing, 1024, 6000));
    t.deepEqual(new Uint8Array(back.dv.buffer), new Uint8Array(backing, 1, 2048));
    t.is(room[at - 1] ?? 0xee, 0xee, 'nothing written before the room');
    t.is(room[at + out.byteLength], 0xee, 'nothing written past the room');
  }
});

test('random values round-trip; the encoding does not touch the value it was given', (t) => {
  const rnd = mulberry32(5);
  for (let k = 0; k < 200; k++) {
    const n = Math.floor(rnd() * 3000);
    const value = { seq: k, data: Float32Array.from({ length: n }, () => rnd() * 1e6 - 5e5), ids: Int32Array.from({ length: n % 17 }, () => (rnd() * 2 ** 31) | 0), tags: ['x', k] };
    const before = serialize(value);
    const bytes = encodeBulk(value);
    t.deepEqual(serialize(value), before);
    t.deepEqual(decodeBulk(bytes), value);
  }
});

test('the skeleton is the JSON of the value with its views marked, byte for byte, whatever its strings and numbers', (t) => {
  const kinds = [Uint8Array, Int8Array, Uint8ClampedArray, Uint16Array, Int16Array, Uint32Array, Int32Array, Float32Array, Float64Array, BigUint64Array, BigInt64Array, DataView];
  const skeletonOf = (bytes: Uint8Array) => {
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    t.is(dv.getUint16(6, true), 1, 'JSON form');
    const at = 16 + ((4 * dv.getUint32(12, true) + 7) & ~7);
    return Buffer.from(bytes.buffer, bytes.byteOffset + at, dv.getUint32(8, true)).toString('utf8');
  };
  const values: unknown[] = [
    { dims: [4096], data: new Float32Array(3) },
    { s: 'quote " backslash \\ tab \t nl \n nul \u0000 del \u007f', u: 'héllo ✓ 😀', lone: 'a\ud800b', rev: '\udc00', ['k"ey\\']: 1 },
    { n: [0, 1, -1, 42, -987654321, 2 ** 53 - 1, 1e15, 1e21, 1.5, -0.25, 1e-7, 123456789.125, Number.MAX_VALUE, Number.MIN_VALUE] },
    { nested: [[[]], {}, [{ a: null, b: true, c: false }]], views: [new Uint8Array(2), new Int16Array(1), { x: new DataView(new ArrayBuffer(4)) }] },
    [],
    'top-level string',
    7,
    null,
  ];
  for (const v of values) {
    let n = 0;
    const want = JSON.stringify(v, (_k, x) => (ArrayBuffer.isView(x) ? { $xauto_view: n++, t: Math.max(0, kinds.findIndex((k) => x instanceof k)) } : x));
    t.is(skeletonOf(encodeBulk(v)), want);
    t.deepEqual(decodeBulk(encodeBulk(v)), v);
  }
  // Padding is zeros, so equal values give equal bytes whatever memory they were written into.
  const dirty = new Uint8Array(1 << 12).fill(0xee);
  const v = { label: 'abc', data: new Uint8Array([1, 2, 3]) };
  t.deepEqual(encodeBulk(v, { room: (n) => dirty.subarray(0, n) }), encodeBulk(v, { room: (n) => new Uint8Array(n) }));
});

test('a damaged or foreign message is refused with the reason, never half-read', (t) => {
  const bytes = encodeBulk({ data: new Float32Array(100) });
  t.throws(() => decodeBulk(bytes.subarray(0, bytes.byteLength - 8)), { message: /truncated/ });
  t.throws(() => decodeBulk(new Uint8Array(32)), { message: /bad magic/ });
  const newer = Uint8Array.from(bytes);
  newer[4] = 9;
  t.throws(() => decodeBulk(newer), { message: /version 9: this xauto reads version 1/ });
});

test('recordings made before xauto-bulk (xauto-v8) are still read', (t) => {
  const value = { dims: [2], data: new Float32Array([1, 2]) };
  t.deepEqual(decode(V8, 'xauto/Tensor', serialize(value)), value);
});

test('the recorder writes through its shared ring and, when the ring is full, through buffers of their own: every message, in order', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'xauto-ring-'));
  try {
    const file = join(dir, 'ring.mcap');
    const lines: string[] = [];
    // A ring of 40 KB for 16 KB tensors: most messages wrap it or find it full.
    const rec = new Recorder(file, [{ name: '/t', type: 'xauto/Tensor' }, { name: '/img', type: 'sensor_msgs/msg/Image' }], { ringBytes: 40 << 10, log: (l) => lines.push(l) });
    const sent: unknown[] = [];
    for (let k = 0; k < 300; k++) {
      const v = { dims: [4096], data: Float32Array.from({ length: 4096 }, (_, i) => k * 4096 + i) };
      rec.record('/t', v, k, 1000 + k);
      sent.push(v);
      if (k % 50 === 0) {
        const img = { header: { stamp: { sec: k, nanosec: 0 }, frame_id: 'c' }, height: 2, width: 2, encoding: 'mono8', is_bigendian: 0, step: 2, data: Uint8Array.from([k, 1, 2, 3]) };
        rec.record('/img', img, k);
      }
      if (k % 7 === 0) await new Promise((r) => setImmediate(r));
    }
    const stats = await rec.close();
    t.is(stats.messages, 306);
    t.true(lines.some((l) => /found the recording's shared ring full/.test(l)), 'the overflow path was taken');
    const r = await Recording.open(file);
    try {
      const got: unknown[] = [];
      const seqs: number[] = [];
      let images = 0;
      for await (const m of r.messages()) {
        if (m.topic === '/img') images++;
        else {
          got.push(Recording.value(m));
          seqs.push(m.seq);
        }
      }
      t.is(images, 6);
      t.deepEqual(seqs, sent.map((_, k) => k));
      t.deepEqual(got, sent);
    } finally {
      await r.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('messages published faster than the hand-over queue takes them wait in order, none lost', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'xauto-queue-'));
  try {
    const file = join(dir, 'q.mcap');
    const lines: string[] = [];
    // A queue of 4 descriptors and 500 messages published in one go: most wait for room.
    const rec = new Recorder(file, [{ name: '/t', type: 'xauto/Tensor' }, { name: '/u', type: 'xauto/Tensor' }], { queueSlots: 4, log: (l) => lines.push(l) });
    await rec.ready();
    for (let k = 0; k < 500; k++) rec.record(k % 3 ? '/t' : '/u', { dims: [2], data: Float32Array.from([k, -k]) }, k, 1000 + k);
    t.is((await rec.close()).messages, 500);
    t.true(lines.some((l) => /waited for room in the hand-over queue/.test(l)), lines.join('\n'));
    const r = await Recording.open(file);
    try {
      const got: Array<[string, number, unknown]> = [];
      for await (const m of r.messages()) got.push([m.topic, m.seq, Recording.value(m)]);
      t.deepEqual(got, Array.from({ length: 500 }, (_, k) => [k % 3 ? '/t' : '/u', k, { dims: [2], data: Float32Array.from([k, -k]) }]));
    } finally {
      await r.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
