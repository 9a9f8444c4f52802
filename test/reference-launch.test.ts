// `xauto launch launch/reference-system.launch.yaml` prints the reference system's statistics
// in its own format, in one process and split over two (DDS on loopback).
import test from 'ava';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const HOT_PATH_LATENCY = /^ *hot path latency: *(.+)ms \[min=(.+)ms, max=(.+)ms, average=(.+)ms, deviation=(.+)ms\]$/m;
const HOT_PATH_DROPS = /^ *hot path drops: *(.+) \[min=(.+), max=(.+), average=(.+), deviation=(.+)\]$/m;
const BP_PERIOD = /^ *behavior planner period: *(.+)ms \[min=(.+)ms, max=(.+)ms, average=(.+)ms, deviation=(.+)ms\]$/m;

function xauto(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import=tsx', 'runtime/cli/main.ts', ...args], { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('close', (code) => resolve({ code, out }));
  });
}

test('xauto launch prints the reference statistics lines its tooling parses', async (t) => {
  const r = await xauto(['launch', 'launch/reference-system.launch.yaml', 'number_crunch_limit:=512', '--duration', '2', '--plan', 'default']);
  t.is(r.code, 0, r.out);
  t.regex(r.out, /^sample path: \(VehicleDBWSystem\)$/m);
  t.regex(r.out, /^sample path: \(IntersectionOutput\)$/m);
  t.regex(r.out, /^ *hot path: *FrontLidarDriver\/RearLidarDriver -> ObjectCollisionEstimator$/m);
  for (const re of [HOT_PATH_LATENCY, HOT_PATH_DROPS, BP_PERIOD]) t.regex(r.out, re);
});

const ddsBuilt = existsSync(join(root, 'native/dds/build/Release/xauto_dds.node'));
if (!ddsBuilt && !process.env.CI) console.log('skipped: the two-process reference system (native/dds is not built: Cyclone DDS missing)');

(ddsBuilt || process.env.CI ? test.serial : test.skip)('split over two processes (planning_process:=planning), the planner side prints the hot path from the sensor stamps', async (t) => {
  const r = await xauto(['launch', 'launch/reference-system.launch.yaml', 'planning_process:=planning', 'number_crunch_limit:=512', '--duration', '2', '--plan', 'default'], {
    ROS_DOMAIN_ID: '61',
    CYCLONEDDS_URI: `file://${join(root, 'test/fixtures/ros2/cyclonedds-loopback.xml')}`,
  });
  t.is(r.code, 0, r.out);
  const planning = r.out
    .split('\n')
    .filter((l) => l.startsWith('[planning] '))
    .map((l) => l.slice('[planning] '.length))
    .join('\n');
  t.regex(planning, /^sample path: \(VehicleDBWSystem\)$/m);
  t.regex(planning, HOT_PATH_LATENCY);
  t.regex(planning, BP_PERIOD);
  t.regex(r.out, /^sample path: \(IntersectionOutput\)$/m, 'the perception side prints its own command node');
});
