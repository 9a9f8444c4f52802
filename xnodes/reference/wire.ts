// Message4kb's layout on the worker wire (runtime/xnode/codec.ts): the history's entries as
// fixed records, as the reference's message is a plain struct that rclcpp copies with memcpy.
// v8 serialization of the same message (63 records, a name array in each) takes ~100 us each
// way; the Behavior Planner on a pool worker takes six of them a tick.
//   u32 size | 7 x i64 data | size x (f64 timestamp, u32 sequence, u32 dropped, 48 name bytes)
// Only plain messages are written here (number stamps, name arrays, bigint data, the shared
// empty entry past `size`): anything else declines and goes v8-serialized, so a message reads
// back exactly as it was written. Names read back as one shared array per node, as nodes
// stamp their entries.
import { fieldCount, registerValueCodec, type ValueCodec } from '../../runtime/xnode/codec.js';
import { DATA_LENGTH, EMPTY, NODE_NAME_LENGTH, STATS_CAPACITY, type Message4kb, type TransmissionStats } from './message.js';

const ENTRY = 8 + 4 + 4 + NODE_NAME_LENGTH;
const HEAD = 4 + 8 * DATA_LENGTH;

function isMessage(v: unknown): v is Message4kb {
  if (v === null || typeof v !== 'object') return false;
  const m = v as Partial<Message4kb>;
  if (typeof m.size !== 'number' || !Array.isArray(m.stats) || m.stats.length !== STATS_CAPACITY || !Array.isArray(m.data)) return false;
  return fieldCount(v) === 3;
}

function write(view: DataView, at: number, end: number, m: Message4kb): number {
  const n = m.size as number;
  if (!(Number.isInteger(n) && n >= 0 && n <= STATS_CAPACITY) || m.data.length !== DATA_LENGTH) return -1;
  const stop = at + HEAD + n * ENTRY;
  if (stop > end) return -1;
  for (let i = n; i < STATS_CAPACITY; i++) if (m.stats[i] !== EMPTY) return -1;
  view.setUint32(at, n, true);
  for (let i = 0; i < DATA_LENGTH; i++) {
    const d = m.data[i];
    if (typeof d !== 'bigint' || BigInt.asIntN(64, d) !== d) return -1;
    view.setBigInt64(at + 4 + 8 * i, d, true);
  }
  let p = at + HEAD;
  for (let i = 0; i < n; i++, p += ENTRY) {
    const e = m.stats[i]!;
    const name = e.node_name;
    const seq = e.sequence_number;
    const dropped = e.dropped_samples;
    if (typeof e.timestamp !== 'number' || !Array.isArray(name) || name.length !== NODE_NAME_LENGTH) return -1;
    if (seq >>> 0 !== seq || dropped >>> 0 !== dropped) return -1;
    if (fieldCount(e) !== 4) return -1;
    view.setFloat64(p, e.timestamp, true);
    view.setUint32(p + 8, seq, true);
    view.setUint32(p + 12, dropped, true);
    for (let b = 0; b < NODE_NAME_LENGTH; b++) {
      const x = name[b]!;
      if ((x & 0xff) !== x) return -1;
      view.setUint8(p + 16 + b, x);
    }
  }
  return stop;
}

/** One name array per distinct name (by the bytes' hash, then compared). */
const names = new Map<number, number[][]>();

function nameAt(view: DataView, p: number): number[] {
  let h = 0x811c9dc5;
  for (let b = 0; b < NODE_NAME_LENGTH; b++) h = Math.imul(h ^ view.getUint8(p + b), 0x01000193);
  let bucket = names.get(h);
  if (bucket) {
    outer: for (const a of bucket) {
      for (let b = 0; b < NODE_NAME_LENGTH; b++) if (a[b] !== view.getUint8(p + b)) continue outer;
      return a;
    }
  } else names.set(h, (bucket = []));
  const a = new Array<number>(NODE_NAME_LENGTH);
  for (let b = 0; b < NODE_NAME_LENGTH; b++) a[b] = view.getUint8(p + b);
  bucket.push(a);
  return a;
}

function read(view: DataView, at: number): Message4kb {
  const n = view.getUint32(at, true);
  const data = new Array<bigint>(DATA_LENGTH);
  for (let i = 0; i < DATA_LENGTH; i++) data[i] = view.getBigInt64(at + 4 + 8 * i, true);
  const stats = new Array<TransmissionStats>(STATS_CAPACITY);
  let p = at + HEAD;
  for (let i = 0; i < n; i++, p += ENTRY) {
    stats[i] = { timestamp: view.getFloat64(p, true), sequence_number: view.getUint32(p + 8, true), dropped_samples: view.getUint32(p + 12, true), node_name: nameAt(view, p + 16) };
  }
  for (let i = n; i < STATS_CAPACITY; i++) stats[i] = EMPTY;
  return { size: n, stats, data };
}

export const MESSAGE4KB_CODEC: ValueCodec<Message4kb> = { name: 'reference_interfaces/msg/Message4kb', accepts: isMessage, write, read };
registerValueCodec(MESSAGE4KB_CODEC, import.meta.url);
