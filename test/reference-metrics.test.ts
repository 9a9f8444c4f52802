// The reference system's metric definitions (sample_management.hpp: print_sample_path) on
// hand-computed histories, its number formatting (std::ostream << double), the lines as its
// Python tooling parses them (reference_system_py/std_latency.py), and the workload.
import test from 'ava';
import { crunchAddon } from '../xnodes/reference/native.js';
import { numberCruncher } from '../xnodes/reference/crunch.js';
import { emptyMessage, nodeStamp, setSample, type Message4kb } from '../xnodes/reference/message.js';
import { CommandMetrics, cppDouble, Statistic } from '../xnodes/reference/metrics.js';

const HOT = {
  nodes: ['FrontLidarDriver', 'RearLidarDriver', 'PointsTransformerFront', 'PointsTransformerRear', 'PointCloudFusion', 'RayGroundFilter', 'EuclideanClusterDetector', 'ObjectCollisionEstimator'],
  roots: ['FrontLidarDriver', 'RearLidarDriver'],
  sink: 'ObjectCollisionEstimator',
};

/** A message with this history: [node, timestamp ns, sequence, dropped]. */
function withHistory(entries: Array<[string, number, number, number]>): Message4kb {
  const m = emptyMessage();
  for (const [node, ts, seq, dropped] of entries) setSample(nodeStamp(node), seq, dropped, ts, m);
  return m;
}

// The regular expressions of reference_system_py/std_latency.py (parseLogSummaryFromFiles).
const HOT_PATH_NAME = /^ *hot path: *(.*)$/;
const HOT_PATH_LATENCY = /^ *hot path latency: *(.+)ms \[min=(.+)ms, max=(.+)ms, average=(.+)ms, deviation=(.+)ms\]$/;
const HOT_PATH_DROPS = /^ *hot path drops: *(.+) \[min=(.+), max=(.+), average=(.+), deviation=(.+)\]$/;
const BP_PERIOD = /^ *behavior planner period: *(.+)ms \[min=(.+)ms, max=(.+)ms, average=(.+)ms, deviation=(.+)ms\]$/;
// Per command node latency: the same shape.
const LATENCY = /^ *latency: *(.+)ms \[min=(.+)ms, max=(.+)ms, average=(.+)ms, deviation=(.+)ms\]$/;

/** Python's float() of a captured value (it reads nan, inf and exponents). */
const pyFloat = (s: string) => (/^-?nan$/.test(s) ? NaN : Number(s));

test('number cruncher: primes in [2, limit] by trial division; limits up to 2 give 2, as there', (t) => {
  t.deepEqual([0, 1, 2, 3, 10, 100, 4096].map(numberCruncher), [2, 2, 2, 2, 4, 25, 564]);
});

// Without the addon the test is skipped here, with the reason printed; CI must have it.
const nativeMissing = (() => {
  try {
    crunchAddon();
    return undefined;
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
})();
if (nativeMissing && !process.env.CI) console.log(`skipped: the C++ cruncher test (${nativeMissing})`);

(nativeMissing && !process.env.CI ? test.skip : test)('the C++ cruncher (native implementations) computes the same counts', async (t) => {
  const addon = crunchAddon();
  for (const limit of [0, 2, 3, 10, 100, 1000]) t.is(addon.crunch(limit), numberCruncher(limit), `limit ${limit}`);
  t.is(await addon.crunchAsync(4096), 564);
});

test('iostream formatting of doubles: 6 significant digits, %g exponents, -nan for 0/0', (t) => {
  t.is(cppDouble(12.3456789), '12.3457');
  t.is(cppDouble(100), '100');
  t.is(cppDouble(0.5), '0.5');
  t.is(cppDouble(1234567), '1.23457e+06');
  t.is(cppDouble(999999.5), '1e+06');
  t.is(cppDouble(0.0001), '0.0001');
  t.is(cppDouble(0.00001234), '1.234e-05');
  t.is(cppDouble(0), '0');
  t.is(cppDouble(NaN), '-nan');
});

test('running statistic (Welford): sample deviation, NaN after one sample, ns printed as ms', (t) => {
  const s = new Statistic('ms', 1e6);
  s.set(1_000_000);
  t.true(Number.isNaN(s.deviation));
  s.set(3_000_000);
  t.is(s.average, 2_000_000);
  t.true(Math.abs(s.deviation - Math.sqrt(2e12)) < 1e-6, "sqrt(((1-2)^2 + (3-2)^2) / (2 - 1)) ms");
  t.is(s.format(), '3ms [min=1ms, max=3ms, average=2ms, deviation=1.41421ms]');
  const d = new Statistic('', 0);
  d.set(0);
  t.is(d.format(), '0 [min=0, max=0, average=0, deviation=-nan]');
});

test('metric definitions on hand-computed histories', (t) => {
  const m = new CommandMetrics('VehicleDBWSystem', HOT);
  // FrontLidar at 1000 ns, RearLidar at 3000: the hot path counts from the later, 3000.
  // OCE at 10000 -> hot path latency 7000 ns. Drops of hot-path nodes: 1 (transformer) + 2
  // (fusion); the 5 of MPCController are not on the hot path. Latency: now 30000 - earliest 1000.
  m.record(
    withHistory([
      ['FrontLidarDriver', 1000, 10, 0],
      ['RearLidarDriver', 3000, 10, 0],
      ['PointsTransformerFront', 1500, 10, 1],
      ['PointCloudFusion', 4000, 9, 2],
      ['ObjectCollisionEstimator', 10000, 9, 0],
      ['BehaviorPlanner', 20000, 5, 0],
      ['MPCController', 22000, 5, 5],
    ]),
    30000,
  );
  t.is(m.latency.current, 29000);
  t.is(m.hotPathLatency.current, 7000);
  t.is(m.hotPathDrops.current, 3);
  t.is(m.behaviorPlannerPeriod.count, 0, 'a period needs a previous planner sample');
  // Next: BehaviorPlanner sequence 7 at 220000: (220000 - 20000) / (7 - 5) = 100000 ns per cycle.
  m.record(withHistory([['BehaviorPlanner', 220000, 7, 0], ['MPCController', 221000, 7, 0]]), 230000);
  t.is(m.behaviorPlannerPeriod.current, 100000);
  t.is(m.latency.current, 10000);
  t.is(m.hotPathLatency.count, 1, 'no hot-path sink in that history: no hot-path sample');
});

test('the printed lines parse with the reference tooling regular expressions, values included', (t) => {
  const m = new CommandMetrics('VehicleDBWSystem', HOT);
  const sample = (k: number) =>
    withHistory([
      ['FrontLidarDriver', 1_000_000 * k, k, 0],
      ['RearLidarDriver', 1_000_000 * k + 500_000, k, 0],
      ['ObjectCollisionEstimator', 1_000_000 * k + 12_345_678, k, k % 2],
      ['BehaviorPlanner', 1_000_000 * k + 20_000_000, k, 0],
    ]);
  for (let k = 1; k <= 4; k++) m.record(sample(k * 100), 1_000_000 * k * 100 + 30_000_000);
  const lines = m.lines();
  const find = (re: RegExp) => lines.map((l) => re.exec(l)).find((x) => x) ?? null;
  t.deepEqual(find(HOT_PATH_NAME)?.[1], 'FrontLidarDriver/RearLidarDriver -> ObjectCollisionEstimator');
  const hot = find(HOT_PATH_LATENCY);
  t.truthy(hot, lines.join('\n'));
  t.deepEqual(hot!.slice(1).map(pyFloat), [11.8457, 11.8457, 11.8457, 11.8457, 0], 'OCE stamp - rear stamp, every sample alike');
  const drops = find(HOT_PATH_DROPS);
  t.truthy(drops);
  t.deepEqual(drops!.slice(1, 4).map(pyFloat), [0, 0, 0], 'OCE drops k % 2 = 0 for k = 100..400');
  const bp = find(BP_PERIOD);
  t.truthy(bp);
  t.is(pyFloat(bp![1]!), 1, '100 ms between samples 100 sequence numbers apart: 1 ms per cycle');
  const lat = find(LATENCY);
  t.truthy(lat);
  t.is(pyFloat(lat![1]!), 30);
});
