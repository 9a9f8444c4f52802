// Hostile input on the hidden topics between the processes of a multi-process launch: real
// `xauto launch` processes, real Cyclone DDS on loopback (fixed private domains), forged frames
// from this test process. The run must survive, refuse and count every forgery, and lose nothing.
import test, { type ExecutionContext } from 'ava';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serialize } from 'node:v8';
import { FRAME_MSG, FRAME_TYPE, frameMac, type FrameMsg } from '../../runtime/exec/remote-frame.js';
import { messageRegistry, openRos2, type Ros2Context, type Ros2Publisher } from '../../runtime/ros2/index.js';
import { ddsUnavailable, spawnXauto, type Child } from '../fixtures/ros2/env.js';

const missing = ddsUnavailable();
if (missing) console.log(process.env.CI ? `DDS missing in CI: failing (${missing})` : `skipped: ${missing}`);
const ddsTest = missing && !process.env.CI ? test.skip : test.serial;

interface Launch {
  child: Child;
  dir: string;
  summary(name?: string): { counters: Record<string, number>; check: { frames: number; wrong: number }; stages: Array<{ runs: number }>; frames: { emitted: number } };
}

function launchSplit(domain: number, extraEnv: Record<string, string> = {}, duration = 3): Launch {
  const dir = mkdtempSync(join(tmpdir(), 'xauto-faults-'));
  const file = join(dir, 's.json');
  for (const [k, v] of Object.entries(extraEnv)) process.env[k] = v;
  const child = spawnXauto(['launch', 'launch/hello-split.launch.yaml', '--duration', String(duration), '--plan', 'default', '--summary-json', file], domain);
  for (const k of Object.keys(extraEnv)) delete process.env[k];
  return {
    child,
    dir,
    summary: (name) => JSON.parse(readFileSync(name ? join(dir, `s.${name}.json`) : file, 'utf8')),
  };
}

/** The hidden topic of /hello/scaled once the sensors process created it. */
async function hiddenTopicOf(ctx: Ros2Context, timeoutMs = 60000): Promise<{ topic: string; instance: string }> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    for (const t of await ctx.topics()) {
      const m = /^\/_xauto\/i(\w+)\/hello\/scaled$/.exec(t.name);
      if (m && t.publishers > 0) return { topic: t.name, instance: m[1]! };
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('the hidden topic of /hello/scaled never appeared');
}

const registry = messageRegistry();
if (!registry.has(FRAME_TYPE)) registry.addDefinition(FRAME_TYPE, FRAME_MSG);

const frame = (instance: string, over: Partial<FrameMsg> = {}): FrameMsg => ({
  type: 'xauto/Tensor',
  instance,
  t0_epoch_ms: Date.now(),
  seq: 5n,
  end: false,
  data: serialize({ dims: [4], data: new Float32Array(4).fill(5) }),
  mac: new Uint8Array(0),
  ...over,
});

/** Subscribes to the hidden topic too and resolves once the launch's own frames flow. */
async function framesFlowing(ctx: Ros2Context, topic: string): Promise<void> {
  await new Promise<void>((resolve) => {
    let n = 0;
    const sub = ctx.subscribeRaw(topic, FRAME_TYPE, 'reliable,keep_all').subscribe(() => {
      if (++n === 10) {
        sub.unsubscribe();
        resolve();
      }
    });
  });
}

async function finish(l: Launch) {
  const code = await l.child.exited;
  return { code, out: `${l.child.lines.join('\n')}\n${l.child.stderr()}` };
}

/**
 * Runs hello-split on `domain`, forges frames on its hidden topic once the launch's own frames
 * flow, and checks that the run completed intact: exit 0, every frame of the launch arrived and
 * was right. Returns the main process's counters and output.
 */
async function forgeInto(
  t: ExecutionContext,
  domain: number,
  env: Record<string, string>,
  forge: (pub: Ros2Publisher<FrameMsg>, topic: string, instance: string) => void,
): Promise<{ counters: Record<string, number>; out: string }> {
  const l = launchSplit(domain, env);
  const ctx = await openRos2({ domainId: domain, transport: 'dds' });
  try {
    const { topic, instance } = await hiddenTopicOf(ctx);
    const pub = ctx.publisher<FrameMsg>(topic, FRAME_TYPE, 'reliable,keep_all');
    t.true(await pub.waitForSubscribers(1, 20000));
    await framesFlowing(ctx, topic);
    forge(pub, topic, instance);
    await pub.flush(5000);
  } finally {
    ctx.close();
  }
  const r = await finish(l);
  t.is(r.code, 0, r.out);
  const main = l.summary();
  t.is(main.check.wrong, 0, r.out);
  t.is(main.check.frames, l.summary('sensors').stages[1]!.runs, `every frame of the launch arrived, no forged one entered; counters ${JSON.stringify(main.counters)}`);
  return { counters: main.counters, out: r.out };
}

ddsTest('forged frames on a hidden topic (garbage, forged end marker, NaN tensor, foreign instance) are refused and counted; the run loses nothing', async (t) => {
  const { counters: c, out } = await forgeInto(t, 141, {}, (pub, _topic, instance) => {
    pub.publishRaw(new Uint8Array([0, 1, 0, 0, 0xde, 0xad])); // 6 bytes: a CDR header and garbage
    pub.publish(frame(instance, { data: new Uint8Array([1, 2, 3, 4, 5, 6]) }));
    pub.publish(frame(instance, { end: true, seq: 0n, data: new Uint8Array(0) }));
    pub.publish(frame(instance, { data: serialize({ dims: [2], data: new Float32Array([NaN, 1]) }) }));
    pub.publish(frame(instance, { t0_epoch_ms: 1e300 }));
    pub.publish(frame('someoneelse'));
  });
  t.is(c['refused.remote.malformed'], 1, JSON.stringify(c));
  // Without the launch's key every other forgery fails authentication (the foreign one first fails the instance check).
  t.is(c['refused.remote.unauthenticated'], 4, JSON.stringify(c));
  t.is(c['refused.remote.foreign'], 1, JSON.stringify(c));
  t.regex(out, /refused a frame on \/hello\/scaled: not signed with this launch's key/);
  t.notRegex(out, /Unable to deserialize|at .*remote\.ts/);
});

ddsTest('frames signed with the launch key are still checked: NaN tensors, absurd origin times, end markers contradicting arrivals', async (t) => {
  const key = Buffer.alloc(32, 7);
  const { counters: c } = await forgeInto(t, 142, { XAUTO_LAUNCH_ID: 'faultskeyed', XAUTO_LAUNCH_KEY: key.toString('hex') }, (pub, topic, instance) => {
    t.is(instance, 'faultskeyed');
    const signed = (over: Partial<FrameMsg>): FrameMsg => {
      const f = frame(instance, over);
      return { ...f, mac: frameMac(key, topic, f) };
    };
    pub.publish(signed({ data: serialize({ dims: [2], data: new Float32Array([NaN, 1]) }) }));
    pub.publish(signed({ data: serialize({ dims: [3], data: new Float32Array([1, 1]) }) }));
    pub.publish(signed({ t0_epoch_ms: 1e300 }));
    pub.publish(signed({ t0_epoch_ms: NaN }));
    pub.publish(signed({ seq: -1n }));
    pub.publish(signed({ end: true, seq: 1n, data: new Uint8Array(0) }));
  });
  t.is(c['refused.remote.bad_value'], 2, JSON.stringify(c));
  t.is(c['refused.remote.bad_time'], 2, JSON.stringify(c));
  t.is(c['refused.remote.bad_seq'], 1, JSON.stringify(c));
  t.is(c['refused.remote.bad_end'], 1, JSON.stringify(c));
});

ddsTest('two launches of one file on one domain do not cross-talk', async (t) => {
  const domain = 143;
  const a = launchSplit(domain);
  const b = launchSplit(domain);
  const [ra, rb] = await Promise.all([finish(a), finish(b)]);
  t.is(ra.code, 0, ra.out);
  t.is(rb.code, 0, rb.out);
  for (const l of [a, b]) {
    const main = l.summary();
    const sensors = l.summary('sensors');
    t.is(main.check.wrong, 0);
    t.is(main.check.frames, sensors.stages[1]!.runs, 'each launch completed exactly its own frames');
  }
});
