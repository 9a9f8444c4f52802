// `xauto topic echo` counts what it could not show: malformed samples from the network are
// dropped with a line each and summed at exit (real Cyclone DDS on loopback).
import test from 'ava';
import { openRos2 } from '../runtime/ros2/index.js';
import { ddsUnavailable, spawnXauto } from './fixtures/ros2/env.js';

const missing = ddsUnavailable();
if (missing) console.log(process.env.CI ? `DDS missing in CI: failing (${missing})` : `skipped: ${missing}`);
const ddsTest = missing && !process.env.CI ? test.skip : test;

ddsTest('topic echo drops malformed samples, prints the valid one and sums the dropped ones at exit', async (t) => {
  const domain = 145;
  const echo = spawnXauto(['topic', 'echo', '/fz', 'std_msgs/msg/String', '--once'], domain);
  const ctx = await openRos2({ domainId: domain, transport: 'dds' });
  try {
    const pub = ctx.publisher<{ data: string }>('/fz', 'std_msgs/msg/String');
    t.true(await pub.waitForSubscribers(1, 60000));
    pub.publishRaw(new Uint8Array([0, 1, 0, 0, 0xff, 0xff, 0xff, 0x7f])); // a string claiming 2 GB
    pub.publishRaw(new Uint8Array([0, 1, 0, 0, 9]));
    pub.publish({ data: 'fine' });
    t.is(await echo.exited, 0, echo.stderr());
  } finally {
    ctx.close();
  }
  t.deepEqual(echo.lines, ['data: fine', '---']);
  t.regex(echo.stderr(), /dropped a malformed sample: \/fz \(std_msgs\/msg\/String\)/);
  t.regex(echo.stderr(), /xauto topic echo: 1 printed, 2 malformed dropped, 0 lost, 0 rejected, 0 pushed out of the history before printing/);
});
