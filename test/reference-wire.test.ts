// Message4kb on the worker wire (xnodes/reference/wire.ts through runtime/xpu/wire.ts): a plain
// message reads back exactly as v8 serialization would give it; one the layout cannot hold
// exactly (decoded stamps, byte-array names, extra fields) is declined and still crosses whole.
import test from 'ava';
import { deserialize, serialize } from 'node:v8';
import { readRequest, writeRequest } from '../runtime/xpu/wire.js';
import { emptyMessage, history, mergeHistory, nodeStamp, setSample, type Message4kb } from '../xnodes/reference/message.js';
import { MESSAGE4KB_CODEC } from '../xnodes/reference/wire.js';

function rng(seed: number) {
  return () => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

function randomMessage(r: () => number): Message4kb {
  const m = emptyMessage();
  const n = Math.floor(r() * 30);
  for (let i = 0; i < n; i++) setSample(nodeStamp(`Node${Math.floor(r() * 40)}${'x'.repeat(Math.floor(r() * 50))}`), Math.floor(r() * 2 ** 32), Math.floor(r() * 5), Math.round(r() * 1.8e18), m);
  if (r() < 0.5) {
    const other = emptyMessage();
    setSample(nodeStamp('Other'), 7, 0, 1.7e18, other);
    mergeHistory(m, other);
  }
  for (let i = 0; i < m.data.length; i++) (m.data as bigint[])[i] = BigInt(Math.floor((r() - 0.5) * 2 ** 52)) * 1024n;
  return m;
}

const slot = () => new Uint8Array(new SharedArrayBuffer(16384));

test('a plain Message4kb crosses in its layout and reads back as v8 serialization gives it', (t) => {
  const r = rng(5);
  const s = slot();
  for (let k = 0; k < 300; k++) {
    const m = randomMessage(r);
    t.true(MESSAGE4KB_CODEC.accepts(m));
    const n = writeRequest(s, { call: k, id: 3, frame: { seq: k, t0: 1.5 }, inputs: { in_0: m, other: { a: [1, 2] } } });
    t.true(n > 0);
    const back = readRequest(s);
    t.deepEqual(back.inputs.in_0, deserialize(serialize(m)));
    t.deepEqual(back.inputs.other, { a: [1, 2] });
    t.deepEqual(history(back.inputs.in_0 as Message4kb), history(m));
  }
  // Written in the layout, not v8-serialized: the codec's name is in the slot.
  writeRequest(s, { call: 1, id: 1, frame: { seq: 0, t0: 0 }, inputs: { in: randomMessage(r) } });
  t.true(Buffer.from(s).includes(Buffer.from(MESSAGE4KB_CODEC.name)));
});

test('names read back shared per node, and the slots past size are the shared empty entry', (t) => {
  const s = slot();
  const a = emptyMessage();
  setSample(nodeStamp('FrontLidarDriver'), 1, 0, 1e18, a);
  writeRequest(s, { call: 1, id: 1, frame: { seq: 0, t0: 0 }, inputs: { x: a } });
  const one = readRequest(s).inputs.x as Message4kb;
  writeRequest(s, { call: 2, id: 1, frame: { seq: 1, t0: 0 }, inputs: { x: a } });
  const two = readRequest(s).inputs.x as Message4kb;
  t.is(one.stats[0]!.node_name, two.stats[0]!.node_name);
  t.is(one.stats[1], a.stats[1]);
});

test('a message the layout cannot hold exactly is declined and crosses v8-serialized, whole', (t) => {
  const s = slot();
  const bigintStamp = emptyMessage();
  setSample(nodeStamp('A'), 1, 0, 5, bigintStamp);
  bigintStamp.stats[0] = { ...bigintStamp.stats[0]!, timestamp: 1700000000000000001n };
  const byteName = emptyMessage();
  setSample(nodeStamp('B'), 1, 0, 5, byteName);
  byteName.stats[0] = { ...byteName.stats[0]!, node_name: new Uint8Array(48) };
  const extra = Object.assign(emptyMessage(), { note: 'kept' });
  const filledPastSize = emptyMessage();
  filledPastSize.stats[10] = { timestamp: 1, sequence_number: 1, dropped_samples: 0, node_name: nodeStamp('C').bytes };
  const wide = emptyMessage();
  (wide.data as bigint[])[2] = 2n ** 70n;
  for (const m of [bigintStamp, byteName, extra, filledPastSize, wide]) {
    t.true(writeRequest(s, { call: 1, id: 1, frame: { seq: 0, t0: 0 }, inputs: { x: m } }) > 0);
    t.deepEqual(readRequest(s).inputs.x, deserialize(serialize(m)));
  }
});

test('a message that does not fit the slot is not written (the pool posts it instead)', (t) => {
  const m = emptyMessage();
  for (let i = 0; i < 20; i++) setSample(nodeStamp(`Node${i}`), i, 0, 1e18, m);
  t.is(writeRequest(new Uint8Array(new SharedArrayBuffer(200)), { call: 1, id: 1, frame: { seq: 0, t0: 0 }, inputs: { x: m } }), -1);
});
