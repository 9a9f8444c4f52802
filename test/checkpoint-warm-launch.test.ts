// Warm models from the CLI with real processes: a checkpointed perception launch keeps its
// onnxruntime sessions' optimized models in the image; `--restore` opens preprocess and the
// detector from them (the summary says warm), and every detection and track after the restore
// equals the uninterrupted run's of the same frame (--warm-models always: by default a warm
// model is used only when it was measured to pay, and these small models are not worth their
// check). An image whose model blob is damaged, or whose model another onnxruntime optimized,
// is refused with exit 2 and the reason; --warm-models never starts from it with the source models.
import test from 'ava';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { crc32 } from 'node:zlib';
import { epochDir, listEpochs } from '../runtime/gpu/checkpoint-image.js';
import { messages, xauto } from './checkpoint-helpers.js';

const FRAMES = 40;
const LAUNCH = ['launch', 'launch/perception.launch.yaml', 'publish_tracks:=false', 'preprocess_impl:=onnx', 'detector_impl:=onnx', '--plan', 'default', '--frames', String(FRAMES)];
const TOPICS = ['/perception/detections', '/perception/tracks'];
type Summary = Record<string, Record<string, unknown>>;

/** A checkpointed run killed once a commit holds both sessions' warm models: its image. */
async function image(t: import('ava').ExecutionContext, dir: string, env: NodeJS.ProcessEnv): Promise<string> {
  const ck = join(dir, 'ckpt');
  const killed = await xauto([...LAUNCH, '--checkpoint-every', '0.2', '--checkpoint-dir', ck], env, /checkpoint epoch \d+ committed: .*, 2 warm models/);
  t.is(killed.signal, 'SIGKILL', killed.stderr);
  const m = JSON.parse(readFileSync(join(epochDir(ck, listEpochs(ck)[0]!), 'manifest.json'), 'utf8')) as { meta: { warmModels: Array<{ name: string }> } };
  t.deepEqual(m.meta.warmModels.map((w) => w.name).sort(), ['detector', 'preprocess'], 'the image holds both sessions\' warm models');
  return ck;
}

test.serial('--restore opens the sessions from the image\'s warm models; detections and tracks after it equal the uninterrupted run\'s', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'xauto-warm-launch-'));
  const { XAUTO_ROS_EPOCH_NS: _, ...env } = process.env;
  const started = { ...env, XAUTO_ROS_EPOCH_NS: String(BigInt(Date.now()) * 1_000_000n) };
  try {
    const whole = await xauto([...LAUNCH, '--record', join(dir, 'whole.mcap'), '--topics', ...TOPICS], started);
    t.is(whole.code, 0, whole.stderr);
    const ck = await image(t, dir, started);
    const resumed = await xauto([...LAUNCH, '--restore', ck, '--warm-models', 'always', '--record', join(dir, 'resumed.mcap'), '--topics', ...TOPICS, '--summary-json', join(dir, 'resumed.json')], env);
    t.is(resumed.code, 0, resumed.stderr);
    const s = JSON.parse(readFileSync(join(dir, 'resumed.json'), 'utf8')) as Summary;
    t.is(s.models?.detector, 'warm', resumed.stderr);
    t.is(s.models?.preprocess, 'warm');
    t.notRegex(resumed.stderr, /not used/);
    const frame = s.restored!.frame as number;
    for (const topic of TOPICS) {
      const want = await messages(join(dir, 'whole.mcap'), topic);
      const got = await messages(join(dir, 'resumed.mcap'), topic);
      t.deepEqual([...got.keys()], Array.from({ length: FRAMES - frame - 1 }, (_, i) => frame + 1 + i), topic);
      t.deepEqual([...got].filter(([k, v]) => !isDeepStrictEqual(want.get(k), v)).map(([k]) => k), [], `${topic}: every message equals the uninterrupted run's`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.serial('--restore refuses, exit 2 with the reason, a damaged warm model and one of another onnxruntime; --warm-models never starts cold', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'xauto-warm-launch-'));
  try {
    const ck = await image(t, dir, process.env);
    const newest = epochDir(ck, listEpochs(ck)[0]!);
    const manifest = readFileSync(join(newest, 'manifest.json'), 'utf8');
    const m = JSON.parse(manifest) as { blobs: Record<string, [number, number, number]>; meta: { warmModels: Array<{ ort: string }> } };

    // Another onnxruntime: the manifest (and its commit record) say so.
    m.meta.warmModels[0]!.ort = '0.0.1';
    const body = Buffer.from(JSON.stringify(m));
    writeFileSync(join(newest, 'manifest.json'), body);
    writeFileSync(join(newest, 'COMMIT'), JSON.stringify({ epoch: listEpochs(ck)[0], manifestBytes: body.length, manifestCrc32: crc32(body) }));
    const other = await xauto([...LAUNCH, '--restore', ck], process.env);
    t.is(other.code, 2, other.stderr);
    t.regex(other.stderr, /--restore .*: the warm model of '\w+' was optimized by onnxruntime 0\.0\.1; this xauto has onnxruntime \d+\.\d+\.\d+/);
    writeFileSync(join(newest, 'manifest.json'), manifest);
    writeFileSync(join(newest, 'COMMIT'), JSON.stringify({ epoch: listEpochs(ck)[0], manifestBytes: Buffer.byteLength(manifest), manifestCrc32: crc32(Buffer.from(manifest)) }));

    // A damaged optimized model.
    const name = Object.keys(m.blobs).find((n) => n.endsWith('.ort'))!;
    const blobs = join(epochDir(ck, m.blobs[name]![0]), 'blobs');
    t.true(readdirSync(blobs).includes(name));
    const b = readFileSync(join(blobs, name));
    b[b.length >> 1]! ^= 0x10;
    writeFileSync(join(blobs, name), b);
    const damaged = await xauto([...LAUNCH, '--restore', ck], process.env);
    t.is(damaged.code, 2, damaged.stderr);
    t.regex(damaged.stderr, new RegExp(`--restore .*${name.replace('.', '\\.')}: checksum mismatch \\(image corrupt\\)`));

    const cold = await xauto([...LAUNCH, '--restore', ck, '--warm-models', 'never', '--summary-json', join(dir, 'cold.json')], process.env);
    t.is(cold.code, 0, cold.stderr);
    const s = JSON.parse(readFileSync(join(dir, 'cold.json'), 'utf8')) as Summary;
    t.is(s.models?.detector, 'cold');
    t.is(s.models?.preprocess, 'cold');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
