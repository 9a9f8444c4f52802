// Loaned samples on the native DDS transport: a large message is serialized straight into the
// outgoing sample's memory. The ownership rule under test: a loan is the caller's until
// commit(); commit() takes it back (the array reads as empty), so nothing the caller still
// holds can change a sample Cyclone is sending. Real Cyclone DDS, two participants, domain 147.
import test from 'ava';
import { firstValueFrom, take, toArray } from 'rxjs';
import { openRos2, type DdsTransport } from '../runtime/ros2/index.js';
import { resolveQos } from '../runtime/ros2/qos.js';
import { ddsUnavailable } from './fixtures/ros2/env.js';

const missing = ddsUnavailable();
const ddsTest = missing && !process.env.CI ? test.serial.skip : test.serial;

ddsTest('a committed loan is detached: later writes through the caller cannot reach the sent sample', async (t) => {
  if (missing) return t.fail(`DDS tests cannot run: ${missing}`);
  const a = await openRos2({ domainId: 147, transport: 'dds' });
  const b = await openRos2({ domainId: 147, transport: 'dds' });
  try {
    const type = 'std_msgs/msg/UInt8MultiArray';
    const got = firstValueFrom(b.subscribeRaw('/loan', type, 'reliable,keep_all').pipe(take(2), toArray()));
    const w = (a.transport as DdsTransport).createWriter('/loan', type, resolveQos('reliable,keep_all'), () => {});
    const deadline = Date.now() + 10000;
    while (w.matched() < 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    t.is(w.matched(), 1);
    // A UInt8MultiArray of n bytes: header, empty layout (dim count 0, data_offset 0), length, bytes.
    const fill = (loan: Uint8Array, n: number, seed: number): number => {
      const dv = new DataView(loan.buffer, loan.byteOffset, loan.byteLength);
      loan.set([0, 1, 0, 0]);
      dv.setUint32(4, 0, true);
      dv.setUint32(8, 0, true);
      dv.setUint32(12, n, true);
      for (let i = 0; i < n; i++) loan[16 + i] = (i * 31 + seed) & 255;
      return 16 + n;
    };
    const first = w.loan!(200_000);
    t.is(first.byteLength, 200_000);
    const len1 = fill(first, 150_001, 7); // not a multiple of 4: the padding bits are set on commit
    w.commit!(first, len1);
    t.is(first.byteLength, 0, 'the loan reads as empty once committed');
    // The caller still holds it: nothing through it may reach the sample in flight.
    t.throws(() => first.fill(0xee), { instanceOf: TypeError });
    first[16] = 0xee;
    t.is((first as unknown as Array<number | undefined>)[16], undefined);
    t.throws(() => w.commit!(first, 16), { message: /not a loan|committed already/ });
    t.throws(() => w.commit!(new Uint8Array(64), 16), { message: /not a loan/ });
    const second = w.loan!(100_000);
    t.throws(() => w.commit!(second.subarray(4), 16), { message: /not a loan/ });
    const other = (a.transport as DdsTransport).createWriter('/loan_other', 'std_msgs/msg/String', resolveQos('reliable'), () => {});
    t.throws(() => other.commit!(second, 16), { message: /not a loan of this writer/ });
    t.throws(() => w.commit!(second, 100_001), { message: /length beyond the loan/ });
    // A loan dropped without commit (a message that failed to serialize) costs nothing later.
    w.loan!(100_000);
    const len2 = fill(second, 99_000, 3);
    w.commit!(second, len2);
    const [s1, s2] = await got;
    const msgs = [s1!, s2!].map((s) => b.registry.deserialize(type, s) as { data: Uint8Array });
    t.is(msgs[0]!.data.byteLength, 150_001);
    t.true(msgs[0]!.data.every((v, i) => v === ((i * 31 + 7) & 255)), 'the first sample carries what was serialized before commit');
    t.is(msgs[1]!.data.byteLength, 99_000);
    t.true(msgs[1]!.data.every((v, i) => v === ((i * 31 + 3) & 255)));
    other.close();
    w.close();
  } finally {
    a.close();
    b.close();
  }
});

ddsTest('publish() of a large message arrives as serialized, small ones beside it by copy', async (t) => {
  if (missing) return t.fail(`DDS tests cannot run: ${missing}`);
  const a = await openRos2({ domainId: 147, transport: 'dds' });
  const b = await openRos2({ domainId: 147, transport: 'dds' });
  try {
    const type = 'std_msgs/msg/UInt8MultiArray';
    const got = firstValueFrom(b.subscribe<{ data: Uint8Array }>('/loan_pub', type, 'reliable,keep_all').pipe(take(3), toArray()));
    const p = a.publisher('/loan_pub', type, 'reliable,keep_all');
    t.true(await p.waitForSubscribers(1, 10000));
    const data = new Uint8Array(300_003).map((_, i) => (i * 7) & 255);
    p.publish({ layout: { dim: [], data_offset: 0 }, data });
    data[0] = 99; // the publisher keeps nothing of the caller's arrays
    p.publish({ layout: { dim: [], data_offset: 0 }, data });
    p.publish({ layout: { dim: [], data_offset: 0 }, data: data.subarray(0, 10) }); // below the loan size: copied
    const [m1, m2, m3] = await got;
    t.is(m1!.data[0], 0);
    t.is(m2!.data[0], 99);
    t.deepEqual([...m1!.data.subarray(1)], [...data.subarray(1)]);
    t.deepEqual([...m3!.data], [...data.subarray(0, 10)]);
  } finally {
    a.close();
    b.close();
  }
});

ddsTest('a lending subscription: each sample is intact during its callback and taken back after, never overwritten under a keeper', async (t) => {
  if (missing) return t.fail(`DDS tests cannot run: ${missing}`);
  const a = await openRos2({ domainId: 147, transport: 'dds' });
  const b = await openRos2({ domainId: 147, transport: 'dds' });
  try {
    const type = 'std_msgs/msg/UInt8MultiArray';
    const sizes = [200_001, 10, 150_000, 70_000, 3];
    const kept: Uint8Array[] = [];
    const seen: Array<{ ok: boolean; n: number }> = [];
    const done = new Promise<void>((resolve) => {
      const sub = b.subscribeRaw('/lend', type, 'reliable,keep_all', { lend: true }).subscribe((cdr) => {
        const m = b.registry.deserialize(type, cdr) as { data: Uint8Array };
        const k = seen.length;
        seen.push({ n: m.data.byteLength, ok: m.data.every((v, i) => v === ((i * 13 + k) & 255)) });
        kept.push(cdr); // against the rule: kept past the callback
        if (seen.length === sizes.length) {
          sub.unsubscribe();
          resolve();
        }
      });
    });
    const p = a.publisher('/lend', type, 'reliable,keep_all');
    t.true(await p.waitForSubscribers(1, 10000));
    sizes.forEach((n, k) => p.publish({ layout: { dim: [], data_offset: 0 }, data: new Uint8Array(n).map((_, i) => (i * 13 + k) & 255) }));
    await done;
    t.deepEqual(seen.map((s) => s.n), sizes);
    t.true(seen.every((s) => s.ok), 'every sample read as sent inside its callback');
    // What was kept reads as empty (large and small alike): later samples cannot show through it.
    t.deepEqual(kept.map((k) => k.byteLength), sizes.map(() => 0));
    t.throws(() => kept[0]!.slice(), { instanceOf: TypeError });
  } finally {
    a.close();
    b.close();
  }
});
