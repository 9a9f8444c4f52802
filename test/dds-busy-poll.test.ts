// Busy polling on the native DDS transport (native/dds/busy_poll.cc): after a publish, the JS
// thread's event loop polls instead of sleeping for the window, so a reply is taken without a
// thread wake-up; by default only after publishes that replies follow. Real Cyclone DDS, two
// participants in one process (or a C peer), domain 148.
import test from 'ava';
import { ADAPTIVE_POLL_US, busyPollFromEnv, openRos2, type OpenRos2Options, type Ros2Context } from '../runtime/ros2/index.js';
import { ddsAddon } from '../runtime/ros2/dds-native.js';
import { ddsUnavailable } from './fixtures/ros2/env.js';

const missing = ddsUnavailable();
const ddsTest = missing && !process.env.CI ? test.serial.skip : test.serial;

test('XAUTO_DDS_BUSY_POLL_US: microseconds after every publish (0: never), adaptive when unset; anything else is refused with the variable named', (t) => {
  const adaptive = { us: ADAPTIVE_POLL_US, adaptive: true };
  t.deepEqual(busyPollFromEnv({}), adaptive);
  t.deepEqual(busyPollFromEnv({ XAUTO_DDS_BUSY_POLL_US: ' ' }), adaptive);
  t.deepEqual(busyPollFromEnv({ XAUTO_DDS_BUSY_POLL_US: '150' }), { us: 150, adaptive: false });
  t.deepEqual(busyPollFromEnv({ XAUTO_DDS_BUSY_POLL_US: '0' }), { us: 0, adaptive: false });
  for (const bad of ['abc', '-1', '2000000']) t.throws(() => busyPollFromEnv({ XAUTO_DDS_BUSY_POLL_US: bad }), { message: /XAUTO_DDS_BUSY_POLL_US='.*': expected microseconds/ });
});

/** Runs `fn` with a context opened with `opts` on domain 148, closed after it whatever it found. */
async function withContext<T>(opts: OpenRos2Options, fn: (ctx: Ros2Context) => Promise<T>): Promise<T> {
  const ctx = await openRos2({ domainId: 148, transport: 'dds', ...opts });
  try {
    return await fn(ctx);
  } finally {
    ctx.close();
  }
}

/** n ping -> echo -> pong round trips, one at a time; resolves with the pongs' payloads in order. */
async function pingPong(a: Ros2Context, b: Ros2Context, topic: string, n: number): Promise<string[]> {
  const type = 'std_msgs/msg/String';
  const echo = b.publisher(`${topic}/pong`, type, 'reliable,keep_all');
  const s1 = b.subscribe(`${topic}/ping`, type, 'reliable,keep_all').subscribe((m) => echo.publish(m));
  const got: string[] = [];
  let next: (() => void) | undefined;
  const s2 = a.subscribe(`${topic}/pong`, type, 'reliable,keep_all').subscribe((m) => {
    got.push((m as { data: string }).data);
    next?.();
  });
  const ping = a.publisher(`${topic}/ping`, type, 'reliable,keep_all');
  try {
    if (!(await ping.waitForSubscribers(1, 10000)) || !(await echo.waitForSubscribers(1, 10000))) throw new Error('endpoints did not match');
    for (let i = 0; i < n; i++) {
      const arrived = new Promise<void>((r) => (next = r));
      ping.publish({ data: `m${i}` });
      await arrived;
    }
    return got;
  } finally {
    s1.unsubscribe();
    s2.unsubscribe();
  }
}

ddsTest('busy polling: every reply arrives, in order, while the event loop polls through its waits; off, it never polls', async (t) => {
  if (missing) return t.fail(`DDS tests cannot run: ${missing}`);
  const dds = ddsAddon();
  await withContext({}, async (b) => {
    await withContext({ busyPollUs: 0 }, async (off) => {
      const turns0 = dds.busyPollTurns();
      t.deepEqual(await pingPong(off, b, '/plain', 50), Array.from({ length: 50 }, (_, i) => `m${i}`));
      t.is(dds.busyPollTurns(), turns0, 'no loop turn polled with busy polling off');
    });
    // A window far longer than a loopback round trip, so no wait outlasts it however loaded the host is.
    await withContext({ busyPollUs: 500_000 }, async (a) => {
      const turns1 = dds.busyPollTurns();
      t.deepEqual(await pingPong(a, b, '/busy', 200), Array.from({ length: 200 }, (_, i) => `m${i}`));
      // Each publish opens a window; the waits for the replies are spent in polled turns.
      t.true(dds.busyPollTurns() - turns1 >= 100, `${dds.busyPollTurns() - turns1} polled turns for 200 round trips`);
    });
  });
});

ddsTest('adaptive (the default): publishes that replies follow open a window, publishes nobody answers open none', async (t) => {
  if (missing) return t.fail(`DDS tests cannot run: ${missing}`);
  const dds = ddsAddon();
  await withContext({ busyPollUs: 0 }, (b) =>
    withContext({}, async (a) => {
      // Publishes with no reader on this thread: nothing follows them, no window opens.
      const lone = a.publisher('/lone', 'std_msgs/msg/String', 'reliable,keep_all');
      const w0 = dds.busyPollWrites();
      for (let i = 0; i < 200; i++) lone.publish({ data: `x${i}` });
      await new Promise((r) => setTimeout(r, 50));
      t.is(dds.busyPollWrites(), w0, 'no window after publishes without replies');
      // Request/reply: after the first few round trips, every ping whose pong followed polls.
      const w1 = dds.busyPollWrites();
      const turns1 = dds.busyPollTurns();
      t.deepEqual(await pingPong(a, b, '/adaptive', 200), Array.from({ length: 200 }, (_, i) => `m${i}`));
      // The echo's pongs are publishes on this thread too: count the pings' windows only loosely.
      t.true(dds.busyPollWrites() - w1 >= 100, `${dds.busyPollWrites() - w1} windows for 200 round trips`);
      t.true(dds.busyPollTurns() > turns1, 'the loop polled');
    }),
  );
});

ddsTest('busy polling is the thread\'s while its context is open; closing the context gives the previous setting back', async (t) => {
  if (missing) return t.fail(`DDS tests cannot run: ${missing}`);
  const dds = ddsAddon();
  t.deepEqual(dds.busyPoll(0), { us: 0, adaptive: false }, 'off in the addon until a context sets it');
  const a = await openRos2({ domainId: 148, transport: 'dds', busyPollUs: 300 });
  t.deepEqual(dds.busyPoll(300), { us: 300, adaptive: false }, 'the context set its window');
  const c = await openRos2({ domainId: 148, transport: 'dds' });
  t.deepEqual(dds.busyPoll(ADAPTIVE_POLL_US, true), { us: ADAPTIVE_POLL_US, adaptive: true }, 'a default context sets the adaptive window');
  c.close();
  t.deepEqual(dds.busyPoll(300), { us: 300, adaptive: false }, 'closing it gave the first context\'s back');
  a.close();
  t.deepEqual(dds.busyPoll(0), { us: 0, adaptive: false }, 'closing the context restored the previous setting (off)');
  t.throws(() => dds.busyPoll(-5), { message: /window out of range/ });
  t.throws(() => dds.busyPoll(Number.NaN), { message: /window out of range/ });
});
