// Crash recovery from the CLI with real processes: `xauto launch --checkpoint-every` on the
// perception launch (tracker: host state; occupancy map: device state), killed with SIGKILL
// mid-run, then `--restore`: every track message published after the restore equals, field
// for field (same track ids and stamps), the uninterrupted run's of the
// same frame, and the map ends the same (its checksum over the device grid). The same with
// the tracker on a worker thread: its state is copied and put back in its worker.
import test, { type ExecutionContext } from 'ava';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { messages, xauto } from './checkpoint-helpers.js';
const FRAMES = 60;
// Saturation (--frames) is lossless: every frame reaches the tracker, in every run alike.
const BASE = ['launch', 'launch/perception.launch.yaml', 'publish_tracks:=false', '--plan', 'default', '--frames', String(FRAMES)];
const LAUNCH = [...BASE, 'map:=true', 'map_impl:=device', 'map_cells:=128'];

// Serial: each test runs several launches one after the other; side by side they would starve each other.
async function killAndRestore(t: ExecutionContext, launch: string[], topics: string[], restoredLine: RegExp): Promise<{ whole: Summary; resumed: Summary }> {
  const dir = mkdtempSync(join(tmpdir(), 'xauto-recover-'));
  const ck = join(dir, 'ckpt');
  // Stamps are ROS time from the run's start: both first runs start the scene at the same
  // instant (as a simulator's clock would); the restored run takes it from the image.
  const { XAUTO_ROS_EPOCH_NS: _, ...env } = process.env;
  const started = { ...env, XAUTO_ROS_EPOCH_NS: String(BigInt(Date.now()) * 1_000_000n) };
  const topicArgs = ['--topics', ...topics];
  try {
    const whole = await xauto([...launch, '--record', join(dir, 'whole.mcap'), ...topicArgs, '--summary-json', join(dir, 'whole.json')], started);
    t.is(whole.code, 0, whole.stderr);

    const killed = await xauto([...launch, '--checkpoint-every', '0.2', '--checkpoint-dir', ck], started, 2);
    t.is(killed.signal, 'SIGKILL', `the checkpointing run was killed mid-run: ${killed.stderr}`);
    const seen = [...killed.stderr.matchAll(/checkpoint epoch \d+ committed: frame (\d+)/g)].map((m) => Number(m[1]));
    t.true(seen.length >= 2);

    const resumed = await xauto([...launch, '--restore', ck, '--record', join(dir, 'resumed.mcap'), ...topicArgs, '--summary-json', join(dir, 'resumed.json')], env);
    t.is(resumed.code, 0, resumed.stderr);
    t.regex(resumed.stderr, restoredLine);
    t.regex(resumed.stderr, /running under the image's plan 'default' \(no profiling or planning\)/);
    const s = JSON.parse(readFileSync(join(dir, 'resumed.json'), 'utf8')) as Summary;
    const frame = s.restored.frame as number;
    // The newest committed image: the last one reported, or one committed just before the kill.
    t.true(frame >= seen.at(-1)! && frame < FRAMES - 1, `restored frame ${frame}, last reported ${seen.at(-1)}`);

    for (const topic of topics) {
      const want = await messages(join(dir, 'whole.mcap'), topic);
      const got = await messages(join(dir, 'resumed.mcap'), topic);
      t.deepEqual([...got.keys()], Array.from({ length: FRAMES - frame - 1 }, (_, i) => frame + 1 + i), `${topic}: frames ${frame + 1}.. after the restore`);
      const differ = [...got].filter(([k, v]) => !isDeepStrictEqual(want.get(k), v)).map(([k]) => k);
      t.deepEqual(differ, [], `${topic}: every message after the restore equals the uninterrupted run's`);
    }
    return { whole: JSON.parse(readFileSync(join(dir, 'whole.json'), 'utf8')) as Summary, resumed: s };
  } finally {
    if (!process.env.KEEP) rmSync(dir, { recursive: true, force: true });
    else t.log(dir);
  }
}

type Summary = Record<string, Record<string, unknown>>;

test.serial('kill -9 mid-run, then --restore: the tracks and the map from the next frame on equal the uninterrupted run\'s', async (t) => {
  const { whole, resumed } = await killAndRestore(t, LAUNCH, ['/perception/tracks', '/perception/map'], /restored epoch \d+ of .*: state of map, tracker as of frame \d+/);
  t.true((resumed.restored!.device_bytes as number) >= 128 * 128 * 8 * 4, 'the map grid came back from the image');
  t.true((whole.map!.occupied as number) > 0, 'the map holds points');
  t.deepEqual(resumed.map, whole.map, 'the map (device grid checksum) ends the same');
});

test.serial('kill -9 mid-run, then --restore, the tracker on a worker thread: its tracks from the next frame on equal the uninterrupted run\'s', async (t) => {
  await killAndRestore(t, [...BASE, 'track_impl:=worker'], ['/perception/tracks'], /restored epoch \d+ of .*: state of tracker \(on a worker thread\) as of frame \d+/);
});

test.serial('--restore refuses, exit 2 with the reason, an image of other launch arguments, a missing image and bad options', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'xauto-recover-'));
  const env = process.env;
  try {
    const hello = ['launch', 'launch/hello.launch.yaml', '--plan', 'default', '--frames', '200'];
    const taken = await xauto([...hello, '--checkpoint-every', '0.01', '--checkpoint-dir', dir], env);
    t.is(taken.code, 0, taken.stderr);
    t.regex(taken.stdout, /checkpoint: every_s=0\.01.*committed=[1-9]/);

    const other = await xauto([...hello, 'impl:=worker', '--restore', dir], env);
    t.is(other.code, 2);
    t.regex(other.stderr, /--restore .*: the image was taken of 'hello\.launch\.yaml' \(no arguments\), not of 'hello\.launch\.yaml' impl:=worker/);

    const missing = await xauto([...hello, '--restore', join(dir, 'nothing')], env);
    t.is(missing.code, 2);
    t.regex(missing.stderr, /--restore .*nothing: .*no committed checkpoint/);

    const bad = await xauto([...hello, '--checkpoint-every', '0'], env);
    t.is(bad.code, 2);
    t.regex(bad.stderr, /--checkpoint-every 0: expected seconds > 0/);
    const noDir = await xauto([...hello, '--checkpoint-every', '1'], env);
    t.is(noDir.code, 2);
    t.regex(noDir.stderr, /--checkpoint-every needs --checkpoint-dir/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
