// Compiled CDR (little-endian XCDR1, what ROS2 sends): for each message type, JavaScript source
// for decode, encode and an upper bound of the encoded size is generated once from its
// definition, so a message is one straight pass with no per-field dispatch and no allocation
// beyond the message itself. Values follow @foxglove/rosmsg2-serialization's layout (typed
// arrays for numeric sequences, bigint for 64-bit integers), which stays the fallback for
// other encapsulations (big-endian, XCDR2).
import type { MessageDefinition, MessageDefinitionField } from '@foxglove/message-definition';

export interface CdrCodec {
  /**
   * Decodes a sample (encapsulation header included) from its first `end` bytes (default: all;
   * less to leave out the padding the header declares); throws RangeError when it claims more.
   */
  decode<T>(bytes: Uint8Array, end?: number): T;
  /** An upper bound of the encoded size of `msg` (header included). */
  maxSize(msg: unknown): number;
  /** Encodes `msg` into `out` from offset 0 (CDR_LE header first); returns the encoded length. `out` must hold maxSize(msg) bytes. */
  encodeInto(msg: unknown, out: Uint8Array): number;
}

interface Prim {
  size: number;
  get?: string;
  set?: string;
  typed?: string;
}

const PRIMS: Record<string, Prim> = {
  bool: { size: 1 },
  int8: { size: 1, get: 'getInt8', set: 'setInt8', typed: 'Int8Array' },
  uint8: { size: 1, get: 'getUint8', set: 'setUint8', typed: 'Uint8Array' },
  byte: { size: 1, get: 'getUint8', set: 'setUint8', typed: 'Uint8Array' },
  char: { size: 1, get: 'getUint8', set: 'setUint8', typed: 'Uint8Array' },
  int16: { size: 2, get: 'getInt16', set: 'setInt16', typed: 'Int16Array' },
  uint16: { size: 2, get: 'getUint16', set: 'setUint16', typed: 'Uint16Array' },
  int32: { size: 4, get: 'getInt32', set: 'setInt32', typed: 'Int32Array' },
  uint32: { size: 4, get: 'getUint32', set: 'setUint32', typed: 'Uint32Array' },
  int64: { size: 8, get: 'getBigInt64', set: 'setBigInt64', typed: 'BigInt64Array' },
  uint64: { size: 8, get: 'getBigUint64', set: 'setBigUint64', typed: 'BigUint64Array' },
  float32: { size: 4, get: 'getFloat32', set: 'setFloat32', typed: 'Float32Array' },
  float64: { size: 8, get: 'getFloat64', set: 'setFloat64', typed: 'Float64Array' },
};

const textDecoder = new TextDecoder();
const textEncoder = new TextEncoder();

/** Runtime helpers the generated code calls (strings, unaligned arrays). */
const rt = {
  need(o: number, n: number, end: number): void {
    if (n < 0 || o + n > end) throw new RangeError(`sample of ${end} bytes claims ${o + n}`);
  },
  str(u8: Uint8Array, o: number, len: number): string {
    if (len <= 1) return '';
    const n = len - 1;
    if (n <= 16) {
      // Short ASCII strings (frame ids, encodings) without the decoder's call overhead.
      let s = '';
      for (let i = o; i < o + n; i++) {
        const c = u8[i]!;
        if (c >= 0x80) return textDecoder.decode(u8.subarray(o, o + n));
        s += String.fromCharCode(c);
      }
      return s;
    }
    return textDecoder.decode(u8.subarray(o, o + n));
  },
  /** Writes a string (length, bytes, NUL) at o; returns the new offset. */
  putStr(dv: DataView, u8: Uint8Array, o: number, s: string): number {
    const n = s.length;
    let i = 0;
    for (; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) break;
      u8[o + 4 + i] = c;
    }
    let len = n;
    if (i < n) len = i + textEncoder.encodeInto(s.slice(i), u8.subarray(o + 4 + i)).written;
    dv.setUint32(o, len + 1, true);
    u8[o + 4 + len] = 0;
    return o + 4 + len + 1;
  },
  /** A numeric array at an offset the platform cannot view directly: copied out. */
  copyArray(Ctor: new (b: ArrayBuffer, off: number, n: number) => ArrayBufferView, u8: Uint8Array, o: number, n: number, size: number): ArrayBufferView {
    const copy = new Uint8Array(n * size);
    copy.set(u8.subarray(o, o + n * size));
    return new Ctor(copy.buffer, 0, n);
  },
  /** Any array-like of numbers/bigints as the typed array `Ctor` (converting when needed). */
  asTyped<A>(Ctor: { new (x: ArrayLike<number | bigint>): A }, v: unknown): A {
    return v instanceof (Ctor as unknown as typeof Uint8Array) ? (v as A) : new Ctor(v as ArrayLike<number>);
  },
  big(v: unknown, def: bigint): bigint {
    return typeof v === 'bigint' ? v : typeof v === 'number' ? BigInt(v) : def;
  },
};

const hasData = (def: MessageDefinitionField[]): boolean => def.some((f) => !f.isConstant);

function lit(v: unknown): string {
  if (typeof v === 'bigint') return `${v}n`;
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'boolean') return String(v);
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : v > 0 ? 'Infinity' : v < 0 ? '-Infinity' : 'NaN';
  return 'undefined';
}

const ident = (type: string): string => type.replace(/[^A-Za-z0-9_]/g, '_');

/** Compiles a codec for the root type of `definitions` (root first, nested types named as fields refer to them). */
export function compileCodec(definitions: MessageDefinition[]): CdrCodec {
  const byName = new Map<string, MessageDefinitionField[]>();
  for (const d of definitions) byName.set(d.name ?? '', d.definitions);
  const root = definitions[0]!;
  const src: string[] = [];
  const done = new Set<string>();
  const order: string[] = [];
  const visit = (name: string): void => {
    if (done.has(name)) return;
    done.add(name);
    const fields = byName.get(name);
    if (!fields) throw new Error(`unknown complex type ${name}`);
    for (const f of fields) if (f.isComplex && !f.isConstant) visit(f.type);
    order.push(name);
  };
  visit(root.name ?? '');
  for (const name of order) src.push(genType(ident(name), byName.get(name)!));
  const rootId = ident(root.name ?? '');
  src.push(`return { d: d_${rootId}, e: e_${rootId}, s: s_${rootId} };`);
  const make = new Function('rt', src.join('\n')) as (r: typeof rt) => {
    d: (dv: DataView, u8: Uint8Array, c: { o: number }, end: number) => unknown;
    e: (dv: DataView, u8: Uint8Array, o: number, m: unknown) => number;
    s: (m: unknown, o: number) => number;
  };
  const fns = make(rt);
  const cursor = { o: 4 };
  return {
    decode<T>(bytes: Uint8Array, end = bytes.byteLength): T {
      if (end < 4 || end > bytes.byteLength) throw new RangeError(`sample of ${bytes.byteLength} bytes, ${end} to decode`);
      const dv = new DataView(bytes.buffer, bytes.byteOffset, end);
      cursor.o = 4;
      return fns.d(dv, bytes, cursor, end) as T;
    },
    maxSize: (msg) => fns.s(msg, 4),
    encodeInto(msg, out) {
      const dv = new DataView(out.buffer, out.byteOffset, out.byteLength);
      out[0] = 0;
      out[1] = 1; // CDR_LE
      out[2] = 0;
      out[3] = 0;
      return fns.e(dv, out, 4, msg);
    },
  };
}

/** Source of d_<id> (decode), e_<id> (encode) and s_<id> (size bound) for one struct. */
function genType(id: string, fields: MessageDefinitionField[]): string {
  const d: string[] = [];
  const e: string[] = [];
  const s: string[] = [];
  const props: string[] = [];
  const align = (k: number): string => (k > 1 ? `o += (4 - o) & ${k - 1};` : '');
  if (!hasData(fields)) {
    // ROS2 gives empty structs one uint8 member.
    return [
      `function d_${id}(dv, u8, c, end) { rt.need(c.o, 1, end); c.o += 1; return {}; }`,
      `function e_${id}(dv, u8, o, m) { u8[o] = 0; return o + 1; }`,
      `function s_${id}(m, o) { return o + 1; }`,
    ].join('\n');
  }
  let i = 0;
  for (const f of fields) {
    if (f.isConstant) continue;
    const v = `v${i++}`;
    const key = JSON.stringify(f.name);
    props.push(`${key}: ${v}`);
    e.push(`{ const x = m == null ? undefined : m[${key}];`);
    s.push(`{ const x = m == null ? undefined : m[${key}];`);
    const fixed = f.arrayLength;
    if (f.isComplex) {
      const t = ident(f.type);
      if (f.isArray) {
        d.push(`let ${v}; { let n; ${fixed !== undefined ? `n = ${fixed};` : `let o = c.o; ${align(4)} rt.need(o, 4, end); n = dv.getUint32(o, true); c.o = o + 4;`}`);
        d.push(`rt.need(c.o, n, end); ${v} = new Array(n); for (let k = 0; k < n; k++) ${v}[k] = d_${t}(dv, u8, c, end); }`);
        const lenExpr = `(x != null && typeof x.length === 'number' ? x.length : 0)`;
        if (fixed !== undefined) {
          e.push(`if (x != null && ${lenExpr} !== ${fixed}) throw new Error('Expected ${fixed} items for fixed-length array field ${f.name} but received ' + ${lenExpr});`);
          e.push(`for (let k = 0; k < ${fixed}; k++) o = e_${t}(dv, u8, o, (x != null ? x[k] : undefined) ?? {}); }`);
          s.push(`for (let k = 0; k < ${fixed}; k++) o = s_${t}((x != null ? x[k] : undefined) ?? {}, o); }`);
        } else {
          e.push(`const n = ${lenExpr}; ${align(4)} dv.setUint32(o, n, true); o += 4; for (let k = 0; k < n; k++) o = e_${t}(dv, u8, o, x[k] ?? {}); }`);
          s.push(`const n = ${lenExpr}; o += 7; for (let k = 0; k < n; k++) o = s_${t}(x[k] ?? {}, o); }`);
        }
      } else {
        d.push(`const ${v} = d_${t}(dv, u8, c, end);`);
        e.push(`o = e_${t}(dv, u8, o, x ?? {}); }`);
        s.push(`o = s_${t}(x ?? {}, o); }`);
      }
      continue;
    }
    const type = f.type;
    if (type === 'wstring') throw new Error('wstring is implementation-defined and therefore not supported');
    const def = f.defaultValue;
    const defLen = Array.isArray(def) ? def.length : (fixed ?? 0);
    if (f.isArray && fixed !== undefined) {
      e.push(`if (x != null && (typeof x.length === 'number' ? x.length : 0) !== ${fixed}) throw new Error('Expected ${fixed} items for fixed-length array field ${f.name} but received ' + (typeof x.length === 'number' ? x.length : 0));`);
    }
    if (type === 'string') {
      if (f.isArray) {
        d.push(`let ${v}; { let o = c.o, n; ${fixed !== undefined ? `n = ${fixed};` : `${align(4)} rt.need(o, 4, end); n = dv.getUint32(o, true); o += 4;`}`);
        d.push(`rt.need(o, n * 4, end); ${v} = new Array(n); for (let k = 0; k < n; k++) { ${align(4)} rt.need(o, 4, end); const len = dv.getUint32(o, true); o += 4; rt.need(o, len, end); ${v}[k] = rt.str(u8, o, len); o += len; } c.o = o; }`);
        const defArr = Array.isArray(def) ? JSON.stringify(def) : `new Array(${fixed ?? 0}).fill('')`;
        e.push(`const a = Array.isArray(x) ? x : ${defArr};`);
        if (fixed === undefined) e.push(`${align(4)} dv.setUint32(o, a.length, true); o += 4;`);
        e.push(`for (let k = 0; k < a.length; k++) { ${align(4)} const it = a[k]; o = rt.putStr(dv, u8, o, typeof it === 'string' ? it : ''); } }`);
        s.push(`const a = Array.isArray(x) ? x : ${defArr}; o += 7; for (let k = 0; k < a.length; k++) { const it = a[k]; o += 8 + (typeof it === 'string' ? it.length * 3 : 0); } }`);
      } else {
        d.push(`let ${v}; { let o = c.o; ${align(4)} rt.need(o, 4, end); const len = dv.getUint32(o, true); o += 4; rt.need(o, len, end); ${v} = rt.str(u8, o, len); c.o = o + len; }`);
        const dflt = typeof def === 'string' ? lit(def) : "''";
        e.push(`${align(4)} o = rt.putStr(dv, u8, o, typeof x === 'string' ? x : ${dflt}); }`);
        s.push(`o += 8 + (typeof x === 'string' ? x.length * 3 : ${dflt}.length * 3); }`);
      }
      continue;
    }
    if (type === 'time' || type === 'duration') {
      if (f.isArray) throw new Error(`${type}[] fields are not supported by the compiled codec`);
      d.push(`let ${v}; { let o = c.o; ${align(4)} rt.need(o, 8, end); ${v} = { sec: dv.getInt32(o, true), nanosec: dv.getUint32(o + 4, true) }; c.o = o + 8; }`);
      e.push(`${align(4)} dv.setInt32(o, x == null ? 0 : (x.sec ?? 0), true); dv.setUint32(o + 4, x == null ? 0 : (x.nsec ?? x.nanosec ?? 0), true); o += 8; }`);
      s.push(`o += 11; }`);
      continue;
    }
    const p = PRIMS[type];
    if (!p) throw new Error(`Unrecognized primitive type ${type}`);
    const k = p.size;
    const big = k === 8 && type !== 'float64';
    if (!f.isArray) {
      if (type === 'bool') {
        d.push(`let ${v}; { rt.need(c.o, 1, end); ${v} = u8[c.o] !== 0; c.o += 1; }`);
        e.push(`u8[o] = (typeof x === 'boolean' ? x : ${def === true}) ? 1 : 0; o += 1; }`);
      } else if (big) {
        d.push(`let ${v}; { let o = c.o; ${align(k)} rt.need(o, 8, end); ${v} = dv.${p.get}(o, true); c.o = o + 8; }`);
        e.push(`${align(k)} dv.${p.set}(o, rt.big(x, ${lit(typeof def === 'bigint' ? def : BigInt(typeof def === 'number' ? def : 0))}), true); o += 8; }`);
      } else {
        d.push(`let ${v}; { let o = c.o; ${align(k)} rt.need(o, ${k}, end); ${v} = dv.${p.get}(o, true); c.o = o + ${k}; }`);
        e.push(`${align(k)} dv.${p.set}(o, typeof x === 'number' ? x : ${typeof def === 'number' ? lit(def) : '0'}, true); o += ${k}; }`);
      }
      s.push(`o += ${2 * k - 1}; }`);
      continue;
    }
    // Sequences and fixed arrays of numbers: views into the sample where aligned, as foxglove.
    const countD = fixed !== undefined ? `n = ${fixed};` : `${align(4)} rt.need(o, 4, end); n = dv.getUint32(o, true); o += 4;`;
    if (type === 'bool') {
      d.push(`let ${v}; { let o = c.o, n; ${countD} rt.need(o, n, end); ${v} = new Array(n); for (let k = 0; k < n; k++) ${v}[k] = u8[o + k] !== 0; c.o = o + n; }`);
      e.push(`const a = Array.isArray(x) ? x : ${Array.isArray(def) ? JSON.stringify(def) : `new Array(${fixed ?? 0}).fill(false)`};`);
      if (fixed === undefined) e.push(`${align(4)} dv.setUint32(o, a.length, true); o += 4;`);
      e.push(`for (let k = 0; k < a.length; k++) u8[o + k] = a[k] ? 1 : 0; o += a.length; }`);
      s.push(`const n = x != null && typeof x.length === 'number' ? x.length : ${defLen}; o += 7 + n; }`);
      continue;
    }
    const T = p.typed!;
    d.push(`let ${v}; { let o = c.o, n; ${countD}`);
    d.push(`if (n === 0) ${v} = new ${T}(); else { ${align(k)} rt.need(o, n * ${k}, end); const at = u8.byteOffset + o;`);
    d.push(k === 1 ? `${v} = new ${T}(u8.buffer, at, n); o += n; }`
      : `${v} = at % ${k} === 0 ? new ${T}(u8.buffer, at, n) : rt.copyArray(${T}, u8, o, n, ${k}); o += n * ${k}; }`);
    d.push(`c.o = o; }`);
    const defArr = Array.isArray(def) ? `new ${T}(${JSON.stringify(def.map((x) => (typeof x === 'bigint' ? Number(x) : x)))})` : `new ${T}(${fixed ?? 0})`;
    e.push(`const given = x != null && (Array.isArray(x) || ArrayBuffer.isView(x)); const a = given ? rt.asTyped(${T}, x) : ${defArr};`);
    if (fixed === undefined) e.push(`${align(4)} dv.setUint32(o, a.length, true); o += 4;`);
    if (k === 1) {
      e.push(`u8.set(a, o); o += a.length; }`);
    } else {
      e.push(`if (a.length > 0) { ${align(k)} const at = u8.byteOffset + o;`);
      e.push(`if (at % ${k} === 0) new ${T}(u8.buffer, at, a.length).set(a); else for (let k = 0; k < a.length; k++) dv.${p.set}(o + k * ${k}, a[k], true);`);
      e.push(`o += a.length * ${k}; } }`);
    }
    s.push(`const n = x != null && typeof x.length === 'number' ? x.length : ${defLen}; o += 7 + ${k} + n * ${k}; }`);
  }
  return [
    `function d_${id}(dv, u8, c, end) {`,
    ...d,
    `return { ${props.join(', ')} }; }`,
    `function e_${id}(dv, u8, o, m) {`,
    ...e,
    `return o; }`,
    `function s_${id}(m, o) {`,
    ...s,
    `return o; }`,
  ].join('\n');
}
