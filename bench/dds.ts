// `npm run bench -- dds`: ROS2-over-DDS cost on loopback, side by side with Cyclone's own tools.
// What each figure measures:
//   rtt p50 (the headline, "full"): a 64-byte std_msgs/String round trip as an application makes
//     it: publish() a message (compiled CDR encode, native write) -> C peer (idlc-built, relays
//     from its listener) -> xauto subscribe() (listener thread -> JS thread, decode, rxjs) -> the
//     awaiting JS code. Timed on the JS thread from before publish() to the resumed await.
//   raw mode: the same round trip with publishRaw()/subscribeRaw() (no encode, no decode).
//   The default (the headline) polls adaptively: after a publish that replies have followed, the
//     JS thread's loop polls for ADAPTIVE_POLL_US (native/dds/busy_poll.cc) instead of sleeping
//     until Cyclone's receive thread wakes it. Beside it: never polling (XAUTO_DDS_BUSY_POLL_US=0,
//     three thread wake-ups per round trip) and busy-polling BUSY_POLL_US after every publish;
//     with the process's CPU time per round trip.
//   ddsperf ping/pong: Cyclone's own C tool, both ends C, replies from the listener (64 B); ddsperf
//     prints half the round trip (a one-way latency), so its figure is doubled here.
//   C peer -> same C relay -> C peer: the same relay as xauto's round trip, pinged from C.
//   C peer -> xauto echo -> C peer: xauto in the relay's place, echoing in JS (subscribeRaw ->
//     publishRaw, what an application does) or in the native layer (relay(): the listener
//     writes each sample on Cyclone's receive thread, no JS), which isolates the JS hop.
//   throughput: 1 MiB sensor_msgs/PointCloud2 from xauto publish() to another xauto process
//     decoding every message inside its callback (subscribeRaw with lent samples + deserialize,
//     as ddsperf's subscriber returns each loaned sample after reading it), vs ddsperf pub -> sub
//     of 1 MiB; also the same with samples the subscriber may keep (freed by V8's GC), and
//     xauto -> the C peer (idlc-generated deserializer), for reference.
//   breakdown: one round trip split into publish call (serialize, native write + Cyclone send),
//     the wire + C relay + Cyclone receive, the listener -> JS wake-up, the data callback
//     (decode, rxjs); and the compiled CDR codec against the reference (@foxglove) it replaces,
//     both timed hot in this process on the bench's messages (fastest of 7 interleaved batches).
// Five alternating rounds; figures are medians with their range over the rounds.
// Last line: {"bench":"dds","rtt_us_p50":..,"ddsperf_rtt_us_p50":..,"rtt_ratio_vs_ddsperf":..,"throughput_ratio_1mb":..,
//   "rtt_ratio_vs_ddsperf_busy_poll":..,...}
import { spawnSync } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { decodeCdr, messageRegistry } from '../runtime/ros2/messages.js';
import { join } from 'node:path';
import { table } from '../runtime/trace/report.js';
import { cPeerRtt, cPingThroughXauto, ddsperfRtt, ddsperfThroughput, median, quantile } from './_dds-cyclone.js';
import { cloudMessage, MIB, xautoRtt, xautoThroughput, type RttRun } from './_dds-xauto.js';
import { buildPeer, childEnv, ddsUnavailable, repoRoot, spawnChild } from '../test/fixtures/ros2/env.js';

/** The busy-poll window of the polled round trip: a few round trips of this host. */
const BUSY_POLL_US = 200;

/** ns per call of each of `fs`, hot: batches interleaved so all see the same load, the fastest batch of 7. */
function nsPerCall(fs: Array<() => unknown>, n: number): number[] {
  for (const f of fs) for (let i = 0; i < n; i++) f();
  const best = fs.map(() => Infinity);
  for (let b = 0; b < 7; b++) {
    fs.forEach((f, k) => {
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < n; i++) f();
      best[k] = Math.min(best[k]!, Number(process.hrtime.bigint() - t0) / n);
    });
  }
  return best;
}

/** The compiled codec and the reference (@foxglove/rosmsg2-serialization) on the bench's two messages. */
function codecCosts(): Record<string, { encode: number; decode: number; refEncode: number; refDecode: number }> {
  const reg = messageRegistry();
  const out: Record<string, { encode: number; decode: number; refEncode: number; refDecode: number }> = {};
  const cases: Array<[string, string, unknown, number]> = [
    ['64 B String', 'std_msgs/msg/String', { data: 'x'.repeat(59) }, 20000],
    ['1 MiB PointCloud2', 'sensor_msgs/msg/PointCloud2', cloudMessage(1, new Uint8Array(MIB).fill(7)), 200],
  ];
  for (const [label, type, msg, n] of cases) {
    const c = reg.compile(type);
    const codec = c.codec!;
    const buf = new Uint8Array(codec.maxSize(msg));
    const refBuf = new ArrayBuffer(buf.byteLength);
    const bytes = c.writer.writeMessage(msg);
    const [encode, refEncode, decode, refDecode] = nsPerCall([
      // As publish() does: the size bound (to check the kept buffer), then the encoding.
      () => codec.maxSize(msg) <= buf.byteLength && codec.encodeInto(msg, buf),
      () => c.writer.writeMessage(msg, refBuf as unknown as Uint8Array),
      () => codec.decode(bytes),
      () => decodeCdr(c.reader, bytes),
    ], n);
    out[label] = { encode: encode!, decode: decode!, refEncode: refEncode!, refDecode: refDecode! };
  }
  return out;
}

/** One way of making the round trip, over the rounds: its p50s, its ratios to ddsperf's, its CPU per round trip. */
interface RttVariant {
  p50s: number[];
  ratios: number[];
  cpu: number[];
}
const rttVariant = (): RttVariant => ({ p50s: [], ratios: [], cpu: [] });
function record(v: RttVariant, run: RttRun, ddsperfP50: number): void {
  const p50 = quantile(run.rtts, 0.5);
  v.p50s.push(p50);
  v.ratios.push(p50 / ddsperfP50);
  v.cpu.push(run.cpuUs);
}
/** [min, max] for the JSON line. */
const range = (xs: number[]): [number, number] => [Number(Math.min(...xs).toFixed(3)), Number(Math.max(...xs).toFixed(3))];

const spread = (xs: number[], digits = 1): string => {
  const v = [...xs].sort((a, b) => a - b);
  return `${median(v).toFixed(digits)} (${v[0]!.toFixed(digits)}-${v[v.length - 1]!.toFixed(digits)})`;
};

export default async function main(args: string[]): Promise<void> {
  const quick = args.includes('--quick');
  const missing = ddsUnavailable(true);
  if (missing) throw new Error(`dds benchmark cannot run: ${missing}`);
  if (spawnSync('ddsperf', ['help'], { encoding: 'utf8' }).error) throw new Error('ddsperf not found (apt-get install cyclonedds-tools)');
  const peer = buildPeer();
  const base = 100 + (process.pid % 8) * 15; // private domains (<= 219), away from the tests' 60-89
  const rounds = quick ? 500 : 3000;
  const seconds = quick ? 3 : 5;
  const count = quick ? 150 : 400;
  const repeats = quick ? 1 : 5;

  // Alternate the sides over the rounds so all see the same machine load; each figure is the
  // median of its per-round figures, shown with its range over the rounds.
  const ddsperfP50s: number[] = [];
  // The default (adaptive polling), busy-polling after every publish, never polling.
  const dflt = rttVariant();
  const poll = rttVariant();
  const noPoll = rttVariant();
  const xautoP50s = dflt.p50s;
  const ratios = dflt.ratios;
  const rawP50s: number[] = [];
  const cPeerP50s: number[] = [];
  const jsEchoP50s: number[] = [];
  const nativeRelayP50s: number[] = [];
  const ddsperfRates: number[] = [];
  const xautoRates: number[] = [];
  const toCRates: number[] = [];
  const sinkGcShares: number[] = [];
  const keptRates: number[] = [];
  const keptGcShares: number[] = [];
  const tputRatios: number[] = [];
  const steps = {
    send: [] as number[], sendRaw: [] as number[], hotRaw: [] as number[], write: [] as number[], writeRaw: [] as number[], hotWrite: [] as number[],
    wake: [] as number[], take: [] as number[], deliver: [] as number[], deliverRaw: [] as number[],
  };
  let last: RttRun | undefined;
  for (let round = 0; round < repeats; round++) {
    const d = base + round * 3;
    const dp = ddsperfRtt(d, seconds);
    ddsperfP50s.push(dp);
    const full = await xautoRtt(peer, d + 1, rounds, 'full');
    last = full;
    const raw = await xautoRtt(peer, d + 1, rounds, 'raw');
    // The same round trip with the JS thread busy-polling after each publish (no third wake-up),
    // and never polling (the JS thread sleeps until Cyclone's receive thread wakes it).
    record(poll, await xautoRtt(peer, d + 1, rounds, 'full', BUSY_POLL_US), dp);
    record(noPoll, await xautoRtt(peer, d + 1, rounds, 'full', 0), dp);
    record(dflt, full, dp);
    rawP50s.push(quantile(raw.rtts, 0.5));
    steps.send.push(quantile(full.sendUs, 0.5));
    steps.sendRaw.push(quantile(raw.sendUs, 0.5));
    steps.hotRaw.push(quantile(raw.hotSendUs, 0.5));
    steps.wake.push(quantile(full.wakeUs, 0.5));
    steps.take.push(quantile(full.takeUs, 0.5));
    steps.write.push(quantile(full.writeUs, 0.5));
    steps.writeRaw.push(quantile(raw.writeUs, 0.5));
    steps.hotWrite.push(quantile(raw.hotWriteUs, 0.5));
    steps.deliver.push(quantile(full.deliverUs, 0.5));
    steps.deliverRaw.push(quantile(raw.deliverUs, 0.5));
    cPeerP50s.push(await cPeerRtt(peer, d + 1, rounds * 3));
    jsEchoP50s.push(await cPingThroughXauto(peer, d + 1, rounds, 'js'));
    nativeRelayP50s.push(await cPingThroughXauto(peer, d + 1, rounds * 3, 'native'));
    const dRate = await ddsperfThroughput(d + 2, seconds);
    ddsperfRates.push(dRate);
    const sink = (mode: 'lend' | 'keep') =>
      spawnChild(process.execPath, ['--import=tsx', join(repoRoot, 'test/fixtures/ros2/sink.ts'), '/cloud', 'sensor_msgs/msg/PointCloud2', String(count), 'reliable,keep_all', mode], childEnv(d + 2));
    const { bytesPerS: xRate, gcShare } = await xautoThroughput(d + 2, sink('lend'), count + 1);
    xautoRates.push(xRate);
    if (gcShare !== undefined) sinkGcShares.push(gcShare);
    const kept = await xautoThroughput(d + 2, sink('keep'), count + 1);
    keptRates.push(kept.bytesPerS);
    if (kept.gcShare !== undefined) keptGcShares.push(kept.gcShare);
    tputRatios.push(xRate / dRate);
    if (!quick || round === 0) {
      const sinkC = spawnChild(peer, ['sub-pc2', '/cloud', String(count)], childEnv(d + 2));
      toCRates.push((await xautoThroughput(d + 2, sinkC, count)).bytesPerS);
    }
    process.stderr.write(`dds: round ${round + 1}/${repeats}: rtt ratio ${ratios[round]!.toFixed(2)} (never polling ${noPoll.ratios[round]!.toFixed(2)}, busy-polling ${poll.ratios[round]!.toFixed(2)}), throughput ratio ${tputRatios[round]!.toFixed(2)}\n`);
  }
  const ddsperfP50 = median(ddsperfP50s);
  const cPeerP50 = median(cPeerP50s);
  const ddsperfBps = median(ddsperfRates);
  const xautoBps = median(xautoRates);
  const xautoToCBps = median(toCRates);
  const p50 = median(xautoP50s);
  const rtts = last!.rtts;

  const rows: Array<[string, string]> = [
    ['rtt p50, xauto -> C peer -> xauto (64 B)', `${spread(xautoP50s)} us`],
    ['rtt min / p90 / p99 (last round)', `${rtts[0]!.toFixed(1)} / ${quantile(rtts, 0.9).toFixed(1)} / ${quantile(rtts, 0.99).toFixed(1)} us`],
    ['rtt p50, ddsperf ping/pong (64 B; 2x its printed one-way figure)', `${spread(ddsperfP50s)} us`],
    ['rtt ratio xauto / ddsperf', spread(ratios, 2)],
    ['rtt p50, xauto never polling (XAUTO_DDS_BUSY_POLL_US=0)', `${spread(noPoll.p50s)} us`],
    ['rtt ratio xauto never polling / ddsperf', spread(noPoll.ratios, 2)],
    [`rtt p50, xauto busy-polling ${BUSY_POLL_US} us after every publish (XAUTO_DDS_BUSY_POLL_US=${BUSY_POLL_US})`, `${spread(poll.p50s)} us`],
    ['rtt ratio xauto busy-polling / ddsperf', spread(poll.ratios, 2)],
    ['process CPU per round trip: default / never polling / busy-polling (all threads)', `${spread(dflt.cpu)} / ${spread(noPoll.cpu)} / ${spread(poll.cpu)} us`],
    ['rtt p50, C peer -> same C relay -> C peer (64 B)', `${spread(cPeerP50s)} us`],
    ['rtt ratio xauto / C peer through the same relay', (p50 / cPeerP50).toFixed(2)],
    ['rtt p50, C peer -> xauto echo in JS (subscribeRaw -> publishRaw) -> C peer', `${spread(jsEchoP50s)} us`],
    ['rtt p50, C peer -> xauto native relay (no JS) -> C peer', `${spread(nativeRelayP50s)} us`],
    ['throughput 1 MiB, xauto -> xauto (decoded in the callback, samples lent)', `${spread(xautoRates.map((b) => b / MIB))} MiB/s`],
    ['  receiving xauto process: time in V8 GC', sinkGcShares.length ? `${spread(sinkGcShares.map((x) => x * 100))} %` : 'not reported'],
    ['throughput 1 MiB, xauto -> xauto (decoded, samples kept: freed by GC)', `${spread(keptRates.map((b) => b / MIB))} MiB/s`],
    ['  receiving xauto process: time in V8 GC', keptGcShares.length ? `${spread(keptGcShares.map((x) => x * 100))} %` : 'not reported'],
    ['throughput 1 MiB, xauto -> C peer', `${spread(toCRates.map((b) => b / MIB))} MiB/s`],
    ['throughput 1 MiB, ddsperf pub -> sub', `${spread(ddsperfRates.map((b) => b / MIB))} MiB/s`],
    ['throughput ratio xauto / ddsperf', spread(tputRatios, 2)],
  ];
  const w = Math.max(...rows.map((r) => r[0].length));
  console.log(`dds on loopback (Cyclone DDS, reliable; median (min-max) of ${repeats} alternating round(s); load average ${loadavg()[0]!.toFixed(1)} on ${cpus().length} cores, shared)`);
  for (const [k, v] of rows) console.log(`  ${k.padEnd(w)}  ${v}`);

  // Where one xauto round trip goes (p50s, medians over the rounds). The C relay, Cyclone's
  // protocol work and the wire are what the C peer's own round trip through the same relay pays.
  const m = (xs: number[]) => median(xs);
  const send = m(steps.send);
  const serialize = Math.max(0, send - m(steps.sendRaw));
  const wake = m(steps.wake);
  const deliver = m(steps.deliver);
  const decode = Math.max(0, deliver - m(steps.deliverRaw));
  const take = m(steps.take);
  const write = m(steps.write);
  const crossing = Math.max(0, m(steps.sendRaw) - m(steps.writeRaw));
  // The rest is what the other rows leave of the p50, so the rows add up to it.
  const rest = p50 - serialize - crossing - write - wake - take - deliver;
  const breakdown: Array<[string, number]> = [
    ['publish call (JS thread): serialize (full - raw mode)', serialize],
    // Measured in raw mode, where the publish call is only this and dds_writecdr.
    ['publish call: JS -> native call, copy into a DDS sample (raw mode)', crossing],
    ['publish call: dds_writecdr (Cyclone send; the kernel delivers to the relay)', write],
    ['wire, C relay, Cyclone receive, resume after the callback (rest)', rest],
    // From the later of the listener's signal and the publish call's return: a pong that arrives
    // while the JS thread is still sending waits in the publish call, counted there.
    ['listener thread -> JS thread wake-up (after the publish call)', wake],
    ['JS thread: dds_takecdr + the sample\'s ArrayBuffer', take],
    ['JS data callback: decode (full - raw mode)', decode],
    ['JS data callback: rxjs + application', deliver - decode],
  ];
  console.log(`\nper-step breakdown of the xauto round trip (p50 ${p50.toFixed(1)} us; raw mode p50 ${m(rawP50s).toFixed(1)} us)`);
  console.log(table([['step', 'us', 'share'], ...breakdown.map(([k, v]) => [k, v.toFixed(1), `${((v / p50) * 100).toFixed(0)}%`])]));
  console.log(`  for reference: the C peer through the same relay ${cPeerP50.toFixed(1)} us, ddsperf ping/pong ${ddsperfP50.toFixed(1)} us`);
  console.log(`  dds_writecdr back to back (nobody to wake, caches warm): ${m(steps.hotWrite).toFixed(1)} us; the whole raw publish call back to back: ${m(steps.hotRaw).toFixed(1)} us`);
  console.log('  (the C peer and ddsperf send the next ping from Cyclone\'s receive thread: two thread wake-ups per round trip;');
  console.log('   xauto never polling adds a third, Cyclone\'s receive thread -> the JS thread, and sends from there;');
  console.log('   by default the JS thread polls after a publish that replies follow, so the reply finds it awake)');
  const codec = codecCosts();
  console.log('\nCDR per message, hot in this process (ns): compiled per-type codec vs the reference (@foxglove/rosmsg2-serialization)');
  console.log(table([
    ['message', 'encode', 'reference encode', 'decode', 'reference decode'],
    ...Object.entries(codec).map(([k, c]) => [k, c.encode.toFixed(0), c.refEncode.toFixed(0), c.decode.toFixed(0), c.refDecode.toFixed(0)]),
  ]));
  const small = codec['64 B String']!;
  console.log(JSON.stringify({
    bench: 'dds',
    rtt_us_p50: Number(p50.toFixed(2)),
    ddsperf_rtt_us_p50: Number(ddsperfP50.toFixed(2)),
    rtt_ratio_vs_ddsperf: Number(median(ratios).toFixed(3)),
    rtt_ratio_vs_ddsperf_range: range(ratios),
    throughput_ratio_1mb: Number(median(tputRatios).toFixed(3)),
    throughput_ratio_1mb_range: range(tputRatios),
    busy_poll_rtt_us_p50: Number(median(poll.p50s).toFixed(2)),
    rtt_ratio_vs_ddsperf_busy_poll: Number(median(poll.ratios).toFixed(3)),
    rtt_ratio_vs_ddsperf_busy_poll_range: range(poll.ratios),
    cpu_us_per_rtt: Number(median(dflt.cpu).toFixed(1)),
    busy_poll_cpu_us_per_rtt: Number(median(poll.cpu).toFixed(1)),
    no_poll_rtt_us_p50: Number(median(noPoll.p50s).toFixed(2)),
    rtt_ratio_vs_ddsperf_no_poll: Number(median(noPoll.ratios).toFixed(3)),
    rtt_ratio_vs_ddsperf_no_poll_range: range(noPoll.ratios),
    no_poll_cpu_us_per_rtt: Number(median(noPoll.cpu).toFixed(1)),
    rounds: repeats,
    rtt_us_min: Number(rtts[0]!.toFixed(2)),
    raw_rtt_us_p50: Number(m(rawP50s).toFixed(2)),
    wake_us_p50: Number(wake.toFixed(2)),
    deliver_us_p50: Number(deliver.toFixed(2)),
    send_us_p50: Number(send.toFixed(2)),
    send_hot_us_p50: Number(m(steps.hotRaw).toFixed(2)),
    writecdr_us_p50: Number(write.toFixed(2)),
    take_us_p50: Number(take.toFixed(2)),
    c_peer_rtt_us_p50: Number(cPeerP50.toFixed(2)),
    rtt_ratio_vs_c_peer: Number((p50 / cPeerP50).toFixed(3)),
    throughput_mib_s_1mb: Number((xautoBps / MIB).toFixed(1)),
    ddsperf_throughput_mib_s_1mb: Number((ddsperfBps / MIB).toFixed(1)),
    throughput_to_c_peer_ratio_1mb: Number((xautoToCBps / ddsperfBps).toFixed(3)),
    js_echo_rtt_us_p50: Number(median(jsEchoP50s).toFixed(2)),
    native_relay_rtt_us_p50: Number(median(nativeRelayP50s).toFixed(2)),
    native_relay_ratio_vs_c_relay: Number((median(nativeRelayP50s) / cPeerP50).toFixed(3)),
    sink_gc_share: sinkGcShares.length ? Number(median(sinkGcShares).toFixed(3)) : null,
    throughput_kept_ratio_1mb: Number((median(keptRates) / ddsperfBps).toFixed(3)),
    sink_kept_gc_share: keptGcShares.length ? Number(median(keptGcShares).toFixed(3)) : null,
    encode_ns_64b: Math.round(small.encode),
    reference_encode_ns_64b: Math.round(small.refEncode),
    decode_ns_64b: Math.round(small.decode),
    reference_decode_ns_64b: Math.round(small.refDecode),
  }));
}
