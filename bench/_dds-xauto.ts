// The xauto side of `npm run bench -- dds`: round trips through the C relay, timed on the JS
// thread with where each one's time went, and 1 MiB throughput into a sink, for the figures of
// Cyclone's own tools (_dds-cyclone.ts) to be read against.
import { openRos2, type DdsTransport } from '../runtime/ros2/index.js';
import { childEnv, spawnChild, type Child } from '../test/fixtures/ros2/env.js';
import { stop } from './_dds-cyclone.js';

export const MIB = 1 << 20;

export interface RttRun {
  /** Round trips (us), sorted. */
  rtts: number[];
  /** Per round: time in the publish call (serialize, copy, Cyclone's send on this thread), us, sorted. */
  sendUs: number[];
  /** The same publish call back to back, without waiting for a pong in between (us), sorted. */
  hotSendUs: number[];
  /** Listener thread signalling (or the JS thread leaving its publish call, when later) -> JS thread taking the sample (us), sorted. */
  wakeUs: number[];
  /** JS thread: dds_takecdr and the sample's ArrayBuffer, up to the data callback (us), sorted. */
  takeUs: number[];
  /** dds_writecdr inside the publish call: Cyclone's send on the JS thread (us), sorted. */
  writeUs: number[];
  /** dds_writecdr, back to back (us), sorted. */
  hotWriteUs: number[];
  /** The JS data callback per sample: decode (full mode), rxjs, the application (us), sorted. */
  deliverUs: number[];
  /** This process's CPU time (all its threads) per measured round trip (us). */
  cpuUs: number;
}

/**
 * xauto -> C relay -> xauto round trips of a 64-byte payload. `full`: publish() a message and
 * subscribe() decoded messages, as an application does; `raw`: publishRaw() bytes serialized
 * once and subscribeRaw(), which leaves out serialization and decoding. `busyPollUs`: a window
 * after every publish (0: never); unset: the default (adaptive, runtime/ros2/index.ts).
 */
export async function xautoRtt(peer: string, domain: number, rounds: number, mode: 'full' | 'raw', busyPollUs?: number): Promise<RttRun> {
  const relay = spawnChild(peer, ['relay-string', '/ping', '/pong', '0'], childEnv(domain));
  const ctx = await openRos2({ domainId: domain, transport: 'dds', busyPollUs });
  try {
    await relay.waitLine(/^ready$/);
    const qos = 'reliable,keep_last:1';
    // One long-lived subscription, as an application has; each round waits for its pong.
    let onPong: (() => void) | undefined;
    const pongs = mode === 'full' ? ctx.subscribe('/pong', 'std_msgs/msg/String', qos) : ctx.subscribeRaw('/pong', 'std_msgs/msg/String', qos);
    const sub = pongs.subscribe(() => onPong?.());
    const nextPong = (): Promise<void> => new Promise((r) => (onPong = r));
    const pub = ctx.publisher('/ping', 'std_msgs/msg/String', qos);
    if (!(await pub.waitForSubscribers(1, 20000))) throw new Error('C peer did not match');
    const msg = { data: 'x'.repeat(59) }; // CDR body: 4-byte length + 59 chars + NUL = 64 bytes
    const bytes = ctx.registry.serialize('std_msgs/msg/String', msg);
    if (bytes.byteLength !== 4 + 64) throw new Error('payload size');
    const send = mode === 'full' ? () => pub.publish(msg) : () => pub.publishRaw(bytes);
    // Wait until the relay's writer matched our reader: a first pong arrives.
    for (let i = 0; i < 100; i++) {
      const got = nextPong();
      send();
      if (await Promise.race([got.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 100))])) break;
    }
    const transport = ctx.transport as DdsTransport;
    const rtts: number[] = [];
    const sendUs: number[] = [];
    let cpu0 = process.cpuUsage();
    for (let i = 0; i < rounds + 200; i++) {
      if (i === 200) {
        transport.arrivalTimings('/pong'); // warm-up timings dropped
        transport.sendTimings('/ping');
        cpu0 = process.cpuUsage();
      }
      const got = nextPong();
      const t0 = process.hrtime.bigint();
      send();
      const t1 = process.hrtime.bigint();
      await got;
      if (i >= 200) {
        rtts.push(Number(process.hrtime.bigint() - t0) / 1000);
        sendUs.push(Number(t1 - t0) / 1000);
      }
    }
    const cpu = process.cpuUsage(cpu0);
    const { wakeUs, takeUs, deliverUs } = transport.arrivalTimings('/pong');
    const writeUs = transport.sendTimings('/ping');
    // The same publish call back to back, the JS thread never sleeping in between.
    const hotUs: number[] = [];
    for (let i = 0; i < 2000; i++) {
      const t0 = process.hrtime.bigint();
      send();
      hotUs.push(Number(process.hrtime.bigint() - t0) / 1000);
    }
    const hotWriteUs = transport.sendTimings('/ping');
    sub.unsubscribe();
    const sorted = (xs: number[]) => xs.sort((a, b) => a - b);
    return {
      rtts: sorted(rtts), sendUs: sorted(sendUs), hotSendUs: sorted(hotUs), wakeUs: sorted(wakeUs), takeUs: sorted(takeUs),
      deliverUs: sorted(deliverUs), writeUs: sorted(writeUs), hotWriteUs: sorted(hotWriteUs), cpuUs: (cpu.user + cpu.system) / rounds,
    };
  } finally {
    ctx.close();
    await stop(relay);
  }
}

/** The bench's 1 MiB PointCloud2 (the throughput runs' message, and the codec's large case). */
export function cloudMessage(i: number, data: Uint8Array) {
  return {
    header: { stamp: { sec: i, nanosec: 0 }, frame_id: 'lidar' }, height: 1, width: MIB / 16,
    fields: [{ name: 'x', offset: 0, datatype: 7, count: 1 }], is_bigendian: false, point_step: 16, row_step: MIB, data, is_dense: true,
  };
}

interface Rate {
  bytesPerS: number;
  /** Share of the receiving process's measured interval spent in V8 garbage collection (xauto sinks). */
  gcShare?: number;
}

/** xauto publishes `count` 1 MiB PointCloud2 messages as fast as flow control lets it into `sink`. */
export async function xautoThroughput(domain: number, sink: Child, count: number): Promise<Rate> {
  const ctx = await openRos2({ domainId: domain, transport: 'dds' });
  try {
    await sink.waitLine(/^ready$/);
    const pub = ctx.publisher('/cloud', 'sensor_msgs/msg/PointCloud2', 'reliable,keep_all');
    if (!(await pub.waitForSubscribers(1, 20000))) throw new Error('sink did not match');
    await new Promise((r) => setTimeout(r, 200));
    const data = new Uint8Array(MIB);
    for (let i = 0; i < data.length; i++) data[i] = i & 255;
    const msg = cloudMessage(0, data);
    for (let i = 0; i < count; i++) {
      msg.header.stamp.sec = i;
      pub.publish(msg); // a full writer history blocks here: that is the flow control
      if (i % 16 === 15) await new Promise((r) => setImmediate(r));
    }
    const line = await sink.waitLine(/^throughput /, 60000);
    await pub.flush(5000);
    const gc = /gc_ms=([\d.]+)/.exec(line);
    const secs = Number(/seconds=([\d.]+)/.exec(line)![1]);
    return { bytesPerS: Number(/bytes_per_s=([\d.]+)/.exec(line)![1]), ...(gc ? { gcShare: Number(gc[1]) / 1000 / secs } : {}) };
  } finally {
    ctx.close();
    await stop(sink);
  }
}
