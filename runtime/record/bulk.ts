// `xauto-bulk`: how values of xauto's own types are recorded. The value's typed arrays are
// taken out and their bytes stored raw beside a small v8-serialized skeleton that marks where
// each one was. (v8's serializer copies a typed array through a growing buffer: a 16 KB tensor
// costs tens of microseconds on the publishing thread, where one allocation and one copy cost a
// few.)
//
// Layout, little-endian: 'XBLK', u16 version (1), u16 skeleton form (JSON, or v8 for what JSON
// cannot hold: -0, NaN, undefined, bigint, holes, Date, Map, ...), u32 skeleton bytes, u32 view
// count; a u32 byte length per view (padded to 8); the skeleton (padded to 8); each view's
// bytes, each padded to 8 so a decoded view can sit in an aligned buffer of its own. (Headers
// and small fields make JSON the common form: v8's serializer costs microseconds per call.)
import { deserialize, serialize } from 'node:v8';
import { copyView } from './copy.js';
import { MARK, SkeletonWriter } from './skeleton.js';

const MAGIC = 0x4b4c4258; // 'XBLK'
const VERSION = 1;
const JSON_FORM = 1;
const V8_FORM = 2;
const HEAD = 16;

const CTORS = [
  Uint8Array, Int8Array, Uint8ClampedArray, Uint16Array, Int16Array, Uint32Array, Int32Array,
  Float32Array, Float64Array, BigUint64Array, BigInt64Array, DataView,
] as const;

const align8 = (n: number) => (n + 7) & ~7;
const utf8 = new TextEncoder();

/** Constructor -> its index in CTORS; a subclass (Buffer) is found by the instanceof walk. */
const CTOR_INDEX = new Map<unknown, number>(CTORS.map((c, i) => [c, i]));

function ctorIndex(v: ArrayBufferView): number {
  const known = CTOR_INDEX.get(v.constructor);
  if (known !== undefined) return known;
  for (let i = 0; i < CTORS.length; i++) if (v instanceof CTORS[i]!) return i;
  return 0; // another kind of view: its bytes, as a Uint8Array
}

interface Stripped {
  views: ArrayBufferView[];
  /** Whether JSON holds the skeleton exactly. */
  json: boolean;
}

/** The value with its views replaced by marks (copying only the objects on the way to one). */
function strip(v: unknown, st: Stripped): unknown {
  if (v === null || typeof v === 'string' || typeof v === 'boolean') return v;
  if (typeof v === 'number') {
    if (!Number.isFinite(v) || Object.is(v, -0)) st.json = false;
    return v;
  }
  if (typeof v !== 'object') {
    st.json = false;
    return v;
  }
  const views = st.views;
  if (ArrayBuffer.isView(v)) {
    views.push(v);
    return { [MARK]: views.length - 1, t: ctorIndex(v) };
  }
  if (Array.isArray(v)) {
    let out: unknown[] | undefined;
    for (let i = 0; i < v.length; i++) {
      if (!(i in v)) st.json = false;
      const s = strip(v[i], st);
      if (s !== v[i]) (out ??= v.slice())[i] = s;
    }
    return out ?? v;
  }
  if (Object.getPrototypeOf(v) !== Object.prototype) {
    st.json = false; // Map, Set, Date, ...: v8 keeps them
    return v;
  }
  let out: Record<string, unknown> | undefined;
  for (const k of Object.keys(v)) {
    const x = (v as Record<string, unknown>)[k];
    const s = strip(x, st);
    if (s !== x) (out ??= { ...(v as Record<string, unknown>) })[k] = s;
  }
  return out ?? v;
}

/**
 * Room for `n` bytes of a message: a fresh buffer (not zero-filled) or a span of a ring. An
 * object with a method, not a closure: optimized code that inlined one recorder's closure was
 * thrown away once that recorder was collected (V8's "weak objects" deopt), and the next
 * recorder's first few hundred messages ran unoptimized.
 */
export interface Alloc {
  room(n: number): Uint8Array;
}
const fresh: Alloc = { room: (n) => Buffer.allocUnsafe(n) };

const skeleton = new SkeletonWriter(ctorIndex);
/** A DataView over the buffer the last rooms came from (the recorder's ring: made once, not per message). */
let roomBuffer: ArrayBufferLike | undefined;
let roomView: DataView<ArrayBufferLike> = new DataView(new ArrayBuffer(0));

/** One message's bytes, written where `alloc` says: one copy per view. */
export function encodeBulk(value: unknown, alloc: Alloc = fresh): Uint8Array {
  if (skeleton.busy) return encodeSlow(value, alloc); // re-entered from a getter of the value
  skeleton.busy = true;
  try {
    if (!skeleton.write(value)) return encodeSlow(value, alloc);
    const { views, length } = skeleton;
    const table = align8(4 * views.length);
    const skeletonAt = HEAD + table;
    const viewsAt = skeletonAt + align8(length);
    let total = viewsAt;
    for (let i = 0; i < views.length; i++) total += align8(views[i]!.byteLength);
    skeleton.pad8();
    const out = alloc.room(total);
    // Header, view table and skeleton written in place: no scratch copy, no view per message.
    if (out.buffer !== roomBuffer) {
      roomBuffer = out.buffer;
      roomView = new DataView(out.buffer);
    }
    const dv = roomView;
    const at = out.byteOffset;
    dv.setUint32(at, MAGIC, true);
    dv.setUint16(at + 4, VERSION, true);
    dv.setUint16(at + 6, JSON_FORM, true);
    dv.setUint32(at + 8, length, true);
    dv.setUint32(at + 12, views.length, true);
    for (let i = 0; i < views.length; i++) dv.setUint32(at + HEAD + 4 * i, views[i]!.byteLength, true);
    if (views.length & 1) dv.setUint32(at + HEAD + 4 * views.length, 0, true);
    const sk = skeleton.bytes;
    for (let i = 0, n = viewsAt - skeletonAt; i < n; i++) out[skeletonAt + i] = sk[i]!;
    writeViews(out, views, viewsAt);
    return out;
  } finally {
    skeleton.busy = false;
  }
}

/** What the skeleton writer refuses (v8 form), and values re-entering encodeBulk: strip, then JSON.stringify or v8. */
function encodeSlow(value: unknown, alloc: Alloc): Uint8Array {
  const st: Stripped = { views: [], json: true };
  const stripped = strip(value, st);
  const views = st.views;
  const text = st.json ? JSON.stringify(stripped) : undefined;
  const v8 = text === undefined ? serialize(stripped) : undefined;
  const skeletonBytes = text !== undefined ? Buffer.byteLength(text) : v8!.byteLength;
  const table = align8(4 * views.length);
  let total = HEAD + table + align8(skeletonBytes);
  for (const v of views) total += align8(v.byteLength);
  const out = alloc.room(total);
  const dv = new DataView(out.buffer, out.byteOffset, total);
  dv.setUint32(0, MAGIC, true);
  dv.setUint16(4, VERSION, true);
  dv.setUint16(6, text !== undefined ? JSON_FORM : V8_FORM, true);
  dv.setUint32(8, skeletonBytes, true);
  dv.setUint32(12, views.length, true);
  views.forEach((v, i) => dv.setUint32(HEAD + 4 * i, v.byteLength, true));
  out.fill(0, HEAD + 4 * views.length, HEAD + table);
  if (text !== undefined) utf8.encodeInto(text, out.subarray(HEAD + table, HEAD + table + skeletonBytes));
  else out.set(v8!, HEAD + table);
  out.fill(0, HEAD + table + skeletonBytes, HEAD + table + align8(skeletonBytes));
  writeViews(out, views, HEAD + table + align8(skeletonBytes));
  return out;
}

/** Each view's bytes from `off`, each padded to 8 with zeros (the room may be reused memory: equal values give equal bytes). */
function writeViews(out: Uint8Array, views: ArrayBufferView[], off: number): void {
  for (let i = 0; i < views.length; i++) {
    const v = views[i]!;
    copyView(out, off, v);
    if (v.byteLength & 7) out.fill(0, off + v.byteLength, off + align8(v.byteLength));
    off += align8(v.byteLength);
  }
}

/** The value back: each view in a buffer of its own, arrays packed (as schema.ts's canonical). */
export function decodeBulk(bytes: Uint8Array): unknown {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const bad = (what: string) => new Error(`not a readable xauto-bulk message (${what})`);
  if (bytes.byteLength < HEAD || dv.getUint32(0, true) !== MAGIC) throw bad('bad magic');
  const version = dv.getUint16(4, true);
  if (version !== VERSION) throw new Error(`xauto-bulk version ${version}: this xauto reads version ${VERSION}`);
  const form = dv.getUint16(6, true);
  if (form !== JSON_FORM && form !== V8_FORM) throw bad(`skeleton form ${form}`);
  const skeletonBytes = dv.getUint32(8, true);
  const count = dv.getUint32(12, true);
  const table = align8(4 * count);
  if (HEAD + table + skeletonBytes > bytes.byteLength) throw bad('truncated');
  const views: ArrayBufferView[] = [];
  let off = HEAD + table + align8(skeletonBytes);
  for (let i = 0; i < count; i++) {
    const n = dv.getUint32(HEAD + 4 * i, true);
    if (off + n > bytes.byteLength) throw bad('truncated');
    views.push(new Uint8Array(bytes.buffer.slice(bytes.byteOffset + off, bytes.byteOffset + off + n) as ArrayBuffer));
    off += align8(n);
  }
  const raw = bytes.subarray(HEAD + table, HEAD + table + skeletonBytes);
  const skeleton = form === JSON_FORM ? (JSON.parse(Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('utf8')) as unknown) : deserialize(raw);
  return restore(skeleton, views);
}

function restore(v: unknown, views: ArrayBufferView[]): unknown {
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) return Array.from(v, (x) => restore(x, views));
  if (Object.getPrototypeOf(v) !== Object.prototype) return v;
  const o = v as Record<string, unknown>;
  const index = o[MARK];
  if (typeof index === 'number') {
    const bytes = views[index];
    if (!bytes) throw new Error(`not a readable xauto-bulk message (view ${index} of ${views.length})`);
    const C = CTORS[typeof o.t === 'number' ? o.t : 0] ?? Uint8Array;
    return C === DataView ? new DataView(bytes.buffer) : new (C as Uint8ArrayConstructor)(bytes.buffer);
  }
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(o)) out[k] = restore(o[k], views);
  return out;
}
