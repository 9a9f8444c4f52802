// A bounded fuzz test of CDR input on a subscribed ROS2 topic: a real `xauto launch` process
// subscribes /fuzz/image over real Cyclone DDS on loopback; this process sends a few hundred
// mutated sensor_msgs/msg/Image samples (fixed seeds). The run must survive and account for
// every sample: delivered to the stage, or refused as malformed and counted in the summary.
import test from 'ava';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeCdr, messageRegistry, openRos2 } from '../../runtime/ros2/index.js';
import { ddsUnavailable, spawnXauto } from '../fixtures/ros2/env.js';

const missing = ddsUnavailable();
if (missing) console.log(process.env.CI ? `DDS missing in CI: failing (${missing})` : `skipped: ${missing}`);
const ddsTest = missing && !process.env.CI ? test.skip : test.serial;

const TYPE = 'sensor_msgs/msg/Image';
const CASES = 300;

function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 4294967296;
  };
}

/** One fuzzed sample: a valid image, then truncated, bit-flipped, a length field blown up, or noise. */
function mutate(seed: number): Uint8Array {
  const r = rng(seed);
  const { writer } = messageRegistry().compile(TYPE);
  const w = 1 + Math.floor(r() * 8);
  const h = 1 + Math.floor(r() * 8);
  const valid = writer.writeMessage({
    header: { stamp: { sec: seed, nanosec: 0 }, frame_id: `cam${seed}` },
    height: h, width: w, encoding: 'rgb8', is_bigendian: 0, step: w * 3, data: new Uint8Array(w * h * 3).fill(seed & 255),
  }) as Uint8Array;
  const bytes = new Uint8Array(valid);
  switch (seed % 5) {
    case 0:
      return bytes;
    case 1:
      return bytes.subarray(0, 4 + Math.floor(r() * (bytes.length - 4)));
    case 2:
      for (let i = 0, n = 1 + Math.floor(r() * 8); i < n; i++) bytes[4 + Math.floor(r() * (bytes.length - 4))] ^= 1 << Math.floor(r() * 8);
      return bytes;
    case 3: {
      // A length (string or sequence) claiming far more than the sample holds.
      const at = 4 + 4 * Math.floor(r() * ((bytes.length - 8) / 4));
      new DataView(bytes.buffer).setUint32(at, 0xfffffff0 - Math.floor(r() * 1000), true);
      return bytes;
    }
    default: {
      const noise = new Uint8Array(4 + Math.floor(r() * 200));
      noise.set([0, 1, 0, 0]); // a CDR (little-endian) encapsulation header, then noise
      for (let i = 4; i < noise.length; i++) noise[i] = Math.floor(r() * 256);
      return noise;
    }
  }
}

function decodes(bytes: Uint8Array): boolean {
  try {
    decodeCdr(messageRegistry().compile(TYPE).reader, bytes);
    return true;
  } catch {
    return false;
  }
}

ddsTest(`fuzzed CDR samples (${CASES}, fixed seeds) on a subscribed topic: the run survives and counts each one`, async (t) => {
  const domain = 144;
  const dir = mkdtempSync(join(tmpdir(), 'xauto-fuzz-'));
  const summaryFile = join(dir, 's.json');
  const child = spawnXauto(
    ['launch', 'test/fixtures/faults/fuzz.launch.yaml', '--xnodes', 'test/fixtures/faults/probe-xnodes.ts', '--duration', '8', '--plan', 'default', '--summary-json', summaryFile],
    domain,
  );
  const samples = Array.from({ length: CASES }, (_, i) => mutate(1000 + i));
  const decodable = samples.filter(decodes).length;
  t.true(decodable > 20 && decodable < CASES - 20, `a mix of good and bad samples (${decodable} decode)`);
  const ctx = await openRos2({ domainId: domain, transport: 'dds' });
  try {
    const pub = ctx.publisher(`/fuzz/image`, TYPE, 'reliable,keep_last:1000');
    t.true(await pub.waitForSubscribers(1, 60000), 'the launch subscribed');
    for (const s of samples) pub.publishRaw(s);
    t.true(await pub.flush(10000), 'every sample acknowledged');
  } finally {
    ctx.close();
  }
  const code = await child.exited;
  const out = `${child.lines.join('\n')}\n${child.stderr()}`;
  t.is(code, 0, out);
  const c = JSON.parse(readFileSync(summaryFile, 'utf8')).counters as Record<string, number>;
  t.log(`${CASES} fuzzed samples: ${decodable} decoded and delivered, ${CASES - decodable} refused as malformed`);
  t.is(c['fuzz.received'], decodable, JSON.stringify(c));
  t.is(c['refused.ros2.malformed'], CASES - decodable, JSON.stringify(c));
  t.regex(out, /refused a sample: \/fuzz\/image \(sensor_msgs\/msg\/Image\): CDR payload of \d+ bytes does not decode/);
  t.notRegex(out, /\n\s+at /, 'no stack trace');
});
