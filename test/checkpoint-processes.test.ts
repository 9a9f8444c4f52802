// Crash recovery of a launch whose xnodes run in two processes, with real processes: the
// perception launch with the tracker (and the evaluation) in process `tracking`, fed over DDS on
// loopback, and the device occupancy map in the top process. `--checkpoint-every` takes each
// cut in both processes at one frame and commits the launch's epoch once both parts are
// durable; the top process is killed with SIGKILL mid-run (the other stops with it), then
// `--restore`: every track message after the restore equals, field for field, the
// uninterrupted run's of the same frame (same track ids), and the map ends the same. An epoch
// whose part from one process is not whole is passed over for the one before.
import test from 'ava';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { messages, xauto } from './checkpoint-helpers.js';

const root = new URL('..', import.meta.url).pathname;
const ddsBuilt = existsSync(join(root, 'native/dds/build/Release/xauto_dds.node'));
const ddsTest = !ddsBuilt && !process.env.CI ? test.skip : test.serial;
if (!ddsBuilt) console.log(process.env.CI ? 'native/dds is not built: failing, CI needs it' : 'skipped: native/dds is not built (Cyclone DDS missing)');

const FRAMES = 60;
// Saturation (--frames) is lossless up to the tracker, in every run alike.
const LAUNCH = ['launch', 'launch/perception.launch.yaml', 'publish_tracks:=false', 'tracking_process:=tracking', 'map:=true', 'map_impl:=device', 'map_cells:=128', '--plan', 'default', '--frames', String(FRAMES)];
const TOPICS = ['/perception/tracks', '/perception/map'];

type Summary = Record<string, Record<string, unknown>>;

ddsTest('two processes: kill -9 of the launch mid-run, then --restore: the tracks and the map from the next frame on equal the uninterrupted run\'s; an epoch missing a part is passed over', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'xauto-recover-processes-'));
  const ck = join(dir, 'ckpt');
  const { XAUTO_ROS_EPOCH_NS: _, ...base } = process.env;
  const env = { ...base, ROS_DOMAIN_ID: '59', CYCLONEDDS_URI: `file://${join(root, 'test/fixtures/ros2/cyclonedds-loopback.xml')}` };
  const started = { ...env, XAUTO_ROS_EPOCH_NS: String(BigInt(Date.now()) * 1_000_000n) };
  const rec = (name: string) => ['--record', join(dir, `${name}.mcap`), '--topics', ...TOPICS, '--summary-json', join(dir, `${name}.json`)];
  const summary = (name: string) => JSON.parse(readFileSync(join(dir, `${name}.json`), 'utf8')) as Summary;
  try {
    const whole = await xauto([...LAUNCH, ...rec('whole')], started);
    t.is(whole.code, 0, whole.stderr);

    const killed = await xauto([...LAUNCH, '--checkpoint-every', '0.2', '--checkpoint-dir', ck], started, 2);
    t.is(killed.signal, 'SIGKILL', `the checkpointing launch was killed mid-run: ${killed.stderr}`);
    const seen = [...killed.stderr.matchAll(/checkpoint epoch (\d+) committed: frame (\d+), parts of processes (.*) \(their epochs\)/g)];
    t.true(seen.length >= 2, killed.stderr);
    for (const m of seen) t.regex(m[3]!, /^(main \d+, tracking \d+|tracking \d+, main \d+)$/, 'each epoch holds a part of each process');

    // A copy whose newest launch epoch lacks the tracking process's part: the one before is used.
    const damaged = join(dir, 'damaged');
    cpSync(ck, damaged, { recursive: true });
    const newest = readdirSync(damaged).filter((n) => /^launch-epoch-\d{8}\.json$/.test(n)).sort().at(-1)!;
    const record = JSON.parse(JSON.parse(readFileSync(join(damaged, newest), 'utf8')).record as string) as { epoch: number; frame: number; parts: Record<string, number> };
    rmSync(join(damaged, 'processes', 'tracking', `epoch-${String(record.parts.tracking).padStart(8, '0')}`), { recursive: true });

    for (const [name, from] of [['fallback', damaged], ['resumed', ck]] as const) {
      const resumed = await xauto([...LAUNCH, '--restore', from, ...rec(name)], env);
      t.is(resumed.code, 0, resumed.stderr);
      t.regex(resumed.stderr, /running under the image's plan 'default' \(no profiling or planning\)/);
      t.regex(resumed.stderr, /restored epoch \d+ of .*processes\/main .*: state of map as of frame \d+/);
      t.regex(resumed.stderr, /\[tracking\] xauto: restored epoch \d+ of .*processes\/tracking .*: state of tracker as of frame \d+/);
      const s = summary(name);
      const frame = s.restored!.frame as number;
      if (name === 'fallback') {
        t.regex(resumed.stderr, new RegExp(`passed over launch epoch ${record.epoch}: the part of process 'tracking' is not whole`));
        t.true(frame < record.frame, `restored frame ${frame}, from the epoch before ${record.epoch} (frame ${record.frame})`);
      } else t.true(frame >= Number(seen.at(-1)![2]) && frame < FRAMES - 1, `restored frame ${frame}, last reported ${seen.at(-1)![2]}`);

      for (const topic of TOPICS) {
        const want = await messages(join(dir, 'whole.mcap'), topic);
        const got = await messages(join(dir, `${name}.mcap`), topic);
        t.deepEqual([...got.keys()], Array.from({ length: FRAMES - frame - 1 }, (_, i) => frame + 1 + i), `${name} ${topic}: frames ${frame + 1}.. after the restore`);
        const differ = [...got].filter(([k, v]) => !isDeepStrictEqual(want.get(k), v)).map(([k]) => k);
        t.deepEqual(differ, [], `${name} ${topic}: every message after the restore equals the uninterrupted run's`);
      }
      t.deepEqual(s.map, summary('whole').map, `${name}: the map (device grid checksum) ends the same`);
    }
  } finally {
    if (!process.env.KEEP) rmSync(dir, { recursive: true, force: true });
    else t.log(dir);
  }
});

test.serial('what is not supported is refused, exit 2 with the reason: a process started alone, and --migrate', async (t) => {
  const alone = await xauto([...LAUNCH, '--process', 'tracking', '--checkpoint-every', '1', '--checkpoint-dir', join(tmpdir(), 'xauto-never')], process.env);
  t.is(alone.code, 2);
  t.regex(alone.stderr, /--checkpoint-every and --restore are given to the top process of a launch of several processes .*not to process 'tracking' started alone/);
  const moving = await xauto([...LAUNCH, '--migrate', 'map@f5:spare', '--checkpoint-every', '1', '--checkpoint-dir', join(tmpdir(), 'xauto-never')], process.env);
  t.is(moving.code, 2);
  t.regex(moving.stderr, /--checkpoint-every and --restore do not combine with --migrate/);
});
