// Recordings of several processes merged into one: every message once, in log-time order, with
// its bytes, sequence and times; a topic in two files one channel when they agree, refused when
// they do not; the result read by @mcap/core's readers with CRCs checked.
import test from 'ava';
import { McapStreamReader } from '@mcap/core';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mergeRecordings } from '../runtime/record/merge.js';
import { Recording } from '../runtime/record/reader.js';
import { Recorder } from '../runtime/record/recorder.js';
import { runMerge } from '../runtime/cli/record.js';

const image = (k: number) => ({ header: { stamp: { sec: k, nanosec: 0 }, frame_id: 'c' }, height: 1, width: 2, encoding: 'mono8', is_bigendian: 0, step: 2, data: Uint8Array.from([k, 255 - k]) });
const tensor = (k: number) => ({ dims: [3], data: Float32Array.from([k, k + 0.5, -k]) });

async function record(file: string, process: string, write: (rec: Recorder) => Promise<void>): Promise<void> {
  const rec = new Recorder(file, [{ name: '/raw', type: 'xauto/Tensor' }, { name: '/img', type: 'sensor_msgs/msg/Image' }], { metadata: { launch_file: 'x.launch.yaml', process }, log: () => {} });
  await rec.ready();
  await write(rec);
  await rec.close();
}

async function read(file: string) {
  const r = await Recording.open(file);
  try {
    const got = [];
    for await (const m of r.messages()) got.push({ topic: m.topic, seq: m.seq, logTime: m.logTime, publishTime: m.publishTime, value: Recording.value(m) });
    return { channels: r.channels.map((c) => ({ topic: c.topic, type: c.type, messages: c.messages })), metadata: r.metadata, got };
  } finally {
    await r.close();
  }
}

test('two processes’ recordings merge into one in log-time order: every message once, its value, sequence and times', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'xauto-merge-'));
  try {
    const a = join(dir, 'run.mcap');
    const b = join(dir, 'run.sensors.mcap');
    // Two recorders open at once, messages interleaved in time (as two processes publish).
    const open = (file: string, process: string) => new Recorder(file, [{ name: '/raw', type: 'xauto/Tensor' }, { name: '/img', type: 'sensor_msgs/msg/Image' }], { metadata: { launch_file: 'x.launch.yaml', process }, log: () => {} });
    const recA = open(a, 'main');
    const recB = open(b, 'sensors');
    await Promise.all([recA.ready(), recB.ready()]);
    for (let k = 0; k < 40; k++) {
      recB.record('/raw', tensor(k), k, performance.now() - 2);
      if (k % 4 === 0) recA.record('/img', image(k), k);
      if (k % 5 === 0) recB.record('/img', image(100 + k), k); // the same topic in both files
      if (k % 10 === 0) await new Promise((r) => setTimeout(r, 1));
    }
    await Promise.all([recA.close(), recB.close()]);
    const before = [...(await read(a)).got, ...(await read(b)).got];
    const out = join(dir, 'merged.mcap');
    const s = await mergeRecordings([a, b], out);
    t.deepEqual({ messages: s.messages, topics: s.topics, inputs: s.inputs }, { messages: 40 + 10 + 8, topics: 2, inputs: 2 });
    const merged = await read(out);
    t.deepEqual(merged.channels.map((c) => [c.topic, c.type, c.messages]).sort(), [['/img', 'sensor_msgs/msg/Image', 18], ['/raw', 'xauto/Tensor', 40]]);
    t.is(merged.metadata.process, 'main,sensors');
    t.is(merged.metadata.launch_file, 'x.launch.yaml');
    for (let i = 1; i < merged.got.length; i++) t.true(merged.got[i - 1]!.logTime <= merged.got[i]!.logTime, `message ${i} in log-time order`);
    const key = (m: { topic: string; logTime: bigint }) => `${m.logTime}|${m.topic}`;
    t.deepEqual([...merged.got].sort((x, y) => key(x).localeCompare(key(y))), [...before].sort((x, y) => key(x).localeCompare(key(y))));
    t.true(merged.got.some((m) => m.publishTime !== m.logTime), 'publish times kept apart from log times');

    // One schema record for the Image type used by two channels; the stream reader checks every CRC.
    const sr = new McapStreamReader({ validateCrcs: true });
    sr.append(readFileSync(out));
    const kinds = new Map<string, number>();
    for (let r = sr.nextRecord(); r; r = sr.nextRecord()) kinds.set(r.type, (kinds.get(r.type) ?? 0) + 1);
    t.true(sr.done());
    t.is(kinds.get('Message'), 58);
    t.is(kinds.get('Schema'), 2, 'the Image schema once in the data section, once in the summary');
    t.is(kinds.get('Channel'), 4);

    // Merged into one of its inputs (what launch does): the file is replaced whole.
    await runMerge({ out: a, inputs: [a, b] }, () => {});
    t.deepEqual((await read(a)).got, merged.got);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a topic recorded as two different types is refused with both files named; nothing is written', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'xauto-merge-bad-'));
  try {
    const a = join(dir, 'a.mcap');
    const b = join(dir, 'b.mcap');
    await record(a, 'p', async (rec) => rec.record('/raw', tensor(1), 1));
    const rec = new Recorder(b, [{ name: '/raw', type: 'sensor_msgs/msg/Image' }], { log: () => {} });
    rec.record('/raw', image(1), 1);
    await rec.close();
    const out = join(dir, 'out.mcap');
    const e = await t.throwsAsync(runMerge({ out, inputs: [a, b] }, () => {}));
    t.regex(e!.message, /\/raw: recorded as xauto\/Tensor .* in .*a\.mcap but as sensor_msgs\/msg\/Image .* in .*b\.mcap/);
    t.false(existsSync(out));
    t.false(existsSync(`${out}.merging`));
    const missing = await t.throwsAsync(runMerge({ out, inputs: [a, join(dir, 'none.mcap')] }, () => {}));
    t.regex(missing!.message, /none\.mcap: cannot open the recording/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
