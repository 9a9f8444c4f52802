// The MCAP file writer (runtime/record/mcap-file.ts): chunks streamed from the caller's memory
// behind a header filled in later, CRCs joined rather than recomputed. @mcap/core's readers,
// with CRC validation on, read back every message, in order, across chunk boundaries; the data
// section's CRC is that of its bytes; zlib's CRC joined from two runs equals the CRC of both.
import test from 'ava';
import { McapIndexedReader, McapStreamReader } from '@mcap/core';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { crc32Combine } from '../runtime/record/crc32.js';
import { McapFile } from '../runtime/record/mcap-file.js';
import { Recorder } from '../runtime/record/recorder.js';
import { mulberry32 } from '../runtime/util/random.js';

test('a CRC joined from the CRCs of two runs is the CRC of both, at every split and length', (t) => {
  const rnd = mulberry32(3);
  for (let k = 0; k < 300; k++) {
    const bytes = randomBytes(Math.floor(rnd() * 3000));
    const cut = Math.floor(rnd() * (bytes.length + 1));
    t.is(crc32Combine(crc32(bytes.subarray(0, cut)), crc32(bytes.subarray(cut)), bytes.length - cut), crc32(bytes));
  }
  const big = new Uint8Array(5 << 20).fill(0xa5); // lengths past 2^22 bytes
  t.is(crc32Combine(crc32(big), crc32(big), big.length), crc32(big, crc32(big)));
  t.is(crc32Combine(0x1234, 0x5678, 0), 0x1234 ^ 0x5678);
});

test('chunks streamed from reused memory read back with CRCs validated: every message, its channel, times and bytes', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'xauto-mcapfile-'));
  try {
    const file = join(dir, 'f.mcap');
    const fd = openSync(file, 'w');
    const origin = 1_700_000_000_000_000_000n;
    const w = new McapFile(fd, { chunkBytes: 5000, originNs: origin });
    w.start({ profile: 'ros2', library: 'test' }, { name: 'xauto', metadata: new Map([['k', 'v']]) });
    w.addSchema({ id: 1, name: 'std_msgs/msg/String', encoding: 'ros2msg', data: new TextEncoder().encode('string data\n') });
    w.addChannel({ id: 0, topic: '/a', messageEncoding: 'cdr', schemaId: 1, metadata: new Map() });
    w.addChannel({ id: 1, topic: '/b', messageEncoding: 'xauto-bulk', schemaId: 0, metadata: new Map([['qos', 'sensor_data']]) });
    w.addChannel({ id: 2, topic: '/never', messageEncoding: 'cdr', schemaId: 1, metadata: new Map() });
    const rnd = mulberry32(11);
    const scratch = new Uint8Array(4096); // reused between flushes, as the recorder's ring is
    const sent: Array<{ channel: number; seq: number; log: bigint; publish: bigint; data: Buffer }> = [];
    let at = 0;
    for (let i = 0; i < 400; i++) {
      const n = Math.floor(rnd() * 700);
      if (at + n > scratch.length) {
        w.flush();
        at = 0;
      }
      const data = scratch.subarray(at, at + n);
      for (let j = 0; j < n; j++) data[j] = Math.floor(rnd() * 256);
      at += n;
      const channel = rnd() < 0.5 ? 0 : 1;
      // Times past 2^32 ns from the origin, some before it.
      const logNs = i * 7_000_000_123 - 1_000;
      w.add(channel, i * 3, logNs, logNs - 5, data);
      sent.push({ channel, seq: i * 3, log: origin + BigInt(logNs), publish: origin + BigInt(logNs - 5), data: Buffer.from(data) });
    }
    w.end();
    closeSync(fd);

    const bytes = readFileSync(file);
    const r = await McapIndexedReader.Initialize({ readable: { size: async () => BigInt(bytes.byteLength), read: async (o, n) => bytes.subarray(Number(o), Number(o + n)) } });
    t.true(r.chunkIndexes.length > 10, `${r.chunkIndexes.length} chunks`);
    t.is(r.statistics!.messageCount, 400n);
    t.is(r.statistics!.messageStartTime, sent[0]!.log);
    t.is(r.statistics!.messageEndTime, sent.at(-1)!.log);
    t.deepEqual([...r.channelsById.values()].map((c) => c.topic), ['/a', '/b', '/never']);
    t.is(r.channelsById.get(1)!.metadata.get('qos'), 'sensor_data');
    const got = [];
    for await (const m of r.readMessages({ validateCrcs: true })) got.push({ channel: m.channelId, seq: m.sequence, log: m.logTime, publish: m.publishTime, data: Buffer.from(m.data) });
    t.deepEqual(got, sent);
    const meta = [];
    for await (const m of r.readMetadata({ name: 'xauto' })) meta.push(Object.fromEntries(m.metadata));
    t.deepEqual(meta, [{ k: 'v' }]);

    // The stream reader sees the same records in file order, each chunk's CRC checked.
    const s = new McapStreamReader({ validateCrcs: true });
    s.append(bytes);
    let messages = 0;
    for (let rec = s.nextRecord(); rec; rec = s.nextRecord()) if (rec.type === 'Message') messages++;
    t.true(s.done());
    t.is(messages, 400);

    // The data section's CRC (DataEnd: opcode, u64 length, u32 CRC, right before the summary).
    const dataEnd = Number(r.footer.summaryStart) - 13;
    t.is(bytes[dataEnd], 0x0f);
    t.is(r.dataSectionCrc, crc32(bytes.subarray(0, dataEnd)));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a recording whose file cannot be opened says so before the first frame and on close, naming the file', async (t) => {
  const file = join(tmpdir(), 'xauto-no-such-dir', 'x', 'r.mcap');
  const rec = new Recorder(file, [{ name: '/t', type: 'xauto/Tensor' }], { log: () => {} });
  const e = await t.throwsAsync(rec.ready());
  t.regex(e!.message, /xauto-no-such-dir\/x\/r\.mcap: cannot record \(ENOENT/);
  rec.record('/t', { dims: [1], data: new Float32Array(1) }, 0); // the run goes on: nothing is thrown into it
  const c = await t.throwsAsync(rec.close());
  t.regex(c!.message, /r\.mcap: recording failed \(ENOENT/);
});
