// Busy polling on the native DDS transport (native/dds/busy_poll.cc): after each publish, the JS
// thread's event loop polls instead of sleeping for the window, so a reply is taken without a
// thread wake-up. Real Cyclone DDS, two participants in one process, domain 148.
import test from 'ava';
import { busyPollFromEnv, openRos2, type Ros2Context } from '../runtime/ros2/index.js';
import { ddsAddon } from '../runtime/ros2/dds-native.js';
import { ddsUnavailable } from './fixtures/ros2/env.js';

const missing = ddsUnavailable();
const ddsTest = missing && !process.env.CI ? test.serial.skip : test.serial;

test('XAUTO_DDS_BUSY_POLL_US: microseconds, 0 when unset; anything else is refused with the variable named', (t) => {
  t.is(busyPollFromEnv({}), 0);
  t.is(busyPollFromEnv({ XAUTO_DDS_BUSY_POLL_US: ' ' }), 0);
  t.is(busyPollFromEnv({ XAUTO_DDS_BUSY_POLL_US: '150' }), 150);
  for (const bad of ['abc', '-1', '2000000']) t.throws(() => busyPollFromEnv({ XAUTO_DDS_BUSY_POLL_US: bad }), { message: /XAUTO_DDS_BUSY_POLL_US='.*': expected microseconds/ });
});

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
  const b = await openRos2({ domainId: 148, transport: 'dds' });
  try {
    const off = await openRos2({ domainId: 148, transport: 'dds' });
    const turns0 = dds.busyPollTurns();
    t.deepEqual(await pingPong(off, b, '/plain', 50), Array.from({ length: 50 }, (_, i) => `m${i}`));
    t.is(dds.busyPollTurns(), turns0, 'no loop turn polled with busy polling off');
    off.close();
    // A window far longer than a loopback round trip, so no wait outlasts it however loaded the host is.
    const a = await openRos2({ domainId: 148, transport: 'dds', busyPollUs: 500_000 });
    try {
      const turns1 = dds.busyPollTurns();
      t.deepEqual(await pingPong(a, b, '/busy', 200), Array.from({ length: 200 }, (_, i) => `m${i}`));
      // Each publish opens a window; the waits for the replies are spent in polled turns.
      t.true(dds.busyPollTurns() - turns1 >= 100, `${dds.busyPollTurns() - turns1} polled turns for 200 round trips`);
    } finally {
      a.close();
    }
  } finally {
    b.close();
  }
});

ddsTest('busy polling is the thread\'s while its context is open; closing the context gives the previous window back', async (t) => {
  if (missing) return t.fail(`DDS tests cannot run: ${missing}`);
  const dds = ddsAddon();
  t.is(dds.busyPoll(0), 0, 'off by default');
  const a = await openRos2({ domainId: 148, transport: 'dds', busyPollUs: 300 });
  t.is(dds.busyPoll(300), 300, 'the context set its window');
  a.close();
  t.is(dds.busyPoll(0), 0, 'closing the context restored the previous window (off)');
  t.throws(() => dds.busyPoll(-5), { message: /window out of range/ });
  t.throws(() => dds.busyPoll(Number.NaN), { message: /window out of range/ });
});
