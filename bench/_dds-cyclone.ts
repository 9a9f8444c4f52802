// The Cyclone side of `npm run bench -- dds`: round trips and throughput measured by Cyclone's
// own tools (ddsperf) and by the idlc-built C peer, for the xauto figures to be read against.
import { spawnSync } from 'node:child_process';
import { openRos2, resolveQos, type DdsTransport } from '../runtime/ros2/index.js';
import { childEnv, spawnChild, type Child } from '../test/fixtures/ros2/env.js';

export function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

export function median(xs: number[]): number {
  return quantile([...xs].sort((a, b) => a - b), 0.5);
}

export async function stop(...cs: Child[]): Promise<void> {
  for (const c of cs) c.kill();
  await Promise.all(cs.map((c) => c.exited));
}

/** The C peer pinging through the same C relay (64-byte payload, next ping from the listener). */
export async function cPeerRtt(peer: string, domain: number, rounds: number): Promise<number> {
  const relay = spawnChild(peer, ['relay-string', '/ping', '/pong', '0'], childEnv(domain));
  try {
    await relay.waitLine(/^ready$/);
    const ping = spawnChild(peer, ['ping-string', '/ping', '/pong', String(rounds)], childEnv(domain));
    const line = await ping.waitLine(/^rtt_us /, 60000);
    await ping.exited;
    return Number(/p50=([\d.]+)/.exec(line)![1]);
  } finally {
    await stop(relay);
  }
}

/**
 * The C peer pinging through an echo in this process: `js`, the path an application takes
 * (subscribeRaw -> publishRaw on the JS thread), or `native`, the transport's relay (the
 * listener writes each sample on Cyclone's receive thread, no JavaScript), as the C relay does.
 */
export async function cPingThroughXauto(peer: string, domain: number, rounds: number, kind: 'js' | 'native'): Promise<number> {
  const ctx = await openRos2({ domainId: domain, transport: 'dds' });
  const type = 'std_msgs/msg/String';
  const qos = 'reliable,keep_last:1';
  let closeEcho: () => void;
  if (kind === 'js') {
    const pub = ctx.publisher('/pong', type, qos);
    const sub = ctx.subscribeRaw('/ping', type, qos).subscribe((cdr) => pub.publishRaw(cdr));
    closeEcho = () => sub.unsubscribe();
  } else {
    const relay = (ctx.transport as DdsTransport).relay('/ping', '/pong', type, resolveQos(qos));
    closeEcho = () => relay.close();
  }
  try {
    const ping = spawnChild(peer, ['ping-string', '/ping', '/pong', String(rounds)], childEnv(domain));
    const line = await ping.waitLine(/^rtt_us /, 60000);
    await ping.exited;
    return Number(/p50=([\d.]+)/.exec(line)![1]);
  } finally {
    closeEcho();
    ctx.close();
  }
}

/**
 * ddsperf ping/pong with 64-byte samples: the round trip (us), twice the median of its
 * per-second 50% figures. ddsperf prints half the round trip (its pong handler records
 * (now - ping's source timestamp) / 2, a one-way latency), while every other figure here is a
 * whole round trip: the C peer through a C relay measures 2x ddsperf's printed figure.
 */
export function ddsperfRtt(domain: number, seconds: number): number {
  const env = childEnv(domain);
  const pong = spawnChild('ddsperf', ['-i', String(domain), '-D', String(seconds + 3), 'pong'], env);
  const r = spawnSync('ddsperf', ['-i', String(domain), '-D', String(seconds), 'ping', 'size', '64'], { env, encoding: 'utf8' });
  pong.kill();
  const p50s = [...r.stdout.matchAll(/ size 64 mean [\d.]+us min [\d.]+us 50% ([\d.]+)us/g)].map((m) => Number(m[1]));
  if (p50s.length === 0) throw new Error(`ddsperf ping printed no latency lines:\n${r.stdout}${r.stderr}`);
  return 2 * median(p50s);
}

/** ddsperf pub/sub of 1 MiB samples: median of the subscriber's per-second rates (bytes/s). */
export async function ddsperfThroughput(domain: number, seconds: number): Promise<number> {
  const env = childEnv(domain);
  const sub = spawnChild('ddsperf', ['-i', String(domain), '-D', String(seconds + 2), '-k', 'all', 'sub'], env);
  await new Promise((r) => setTimeout(r, 300));
  const pub = spawnChild('ddsperf', ['-i', String(domain), '-D', String(seconds), '-k', 'all', 'pub', 'size', '1MiB'], env);
  await pub.exited;
  await sub.exited;
  const rates = sub.lines
    .map((l) => / size 1048576 total \d+ lost \d+ delta (\d+) lost \d+ rate [\d.]+ kS\/s ([\d.]+) Mb\/s/.exec(l))
    .filter((m): m is RegExpExecArray => m !== null && Number(m[1]) > 0)
    .map((m) => (Number(m[2]) * 1e6) / 8);
  if (rates.length === 0) throw new Error(`ddsperf sub printed no rate lines:\n${sub.lines.join('\n')}`);
  // Drop the first and last (partial) seconds when there are enough lines.
  return median(rates.length > 2 ? rates.slice(1, -1) : rates);
}
