// The byte layout of calls through a shared-memory slot (channel.ts): a run request
// (call, stage, frame, inputs) and its result (call, outputs or error). Tensors — the common
// payload — are written as dims and raw floats; any other value goes v8-serialized. Writing
// returns false when the message does not fit, and the caller posts it instead. A value whose
// type registered a codec (xnode/codec.ts) is written in that codec's layout.
import { deserialize, serialize } from 'node:v8';
import { fieldCount, valueCodec, valueCodecs } from '../xnode/codec.js';
import type { FrameInfo, PortValues, StageResult } from '../xnode/types.js';

export interface RunRequest {
  call: number;
  id: number;
  inputs: PortValues;
  frame: FrameInfo;
}

export interface RunResult {
  call: number;
  outputs: StageResult;
  error?: string;
}

const TENSOR = 1;
const VALUE = 2;
const UNDEFINED = 3;
const CODEC = 4;

const utf8 = new TextEncoder();
const text = new TextDecoder();

function isTensor(v: unknown): v is { dims: number[]; data: Float32Array } {
  if (v === null || typeof v !== 'object') return false;
  const t = v as { dims?: unknown; data?: unknown };
  if (!(t.data instanceof Float32Array) || !Array.isArray(t.dims)) return false;
  // Only the two fields: anything else on it would be lost.
  return fieldCount(v) === 2;
}

/** A cursor over a slot. */
export class Cursor {
  pos = 0;
  readonly view: DataView;

  constructor(readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  private room(n: number): boolean {
    return this.pos + n <= this.bytes.byteLength;
  }

  u32(v: number): boolean {
    if (!this.room(4)) return false;
    this.view.setUint32(this.pos, v, true);
    this.pos += 4;
    return true;
  }

  f64(v: number): boolean {
    if (!this.room(8)) return false;
    this.view.setFloat64(this.pos, v, true);
    this.pos += 8;
    return true;
  }

  raw(b: Uint8Array): boolean {
    if (!this.u32(b.byteLength) || !this.room(b.byteLength)) return false;
    this.bytes.set(b, this.pos);
    this.pos += b.byteLength;
    return true;
  }

  str(s: string): boolean {
    if (!this.room(4 + s.length * 3)) return false;
    let ascii = s.length <= 64;
    for (let i = 0; ascii && i < s.length; i++) if (s.charCodeAt(i) > 0x7e) ascii = false;
    if (ascii) {
      // Port names: short ASCII, written without an encoder.
      for (let i = 0; i < s.length; i++) this.bytes[this.pos + 4 + i] = s.charCodeAt(i);
      this.view.setUint32(this.pos, s.length, true);
      this.pos += 4 + s.length;
      return true;
    }
    const r = utf8.encodeInto(s, this.bytes.subarray(this.pos + 4));
    this.view.setUint32(this.pos, r.written, true);
    this.pos += 4 + r.written;
    return true;
  }

  /** Floats at a 4-byte boundary: copied in and out as Float32Array views, no byte views or buffer access. */
  floats(a: Float32Array): boolean {
    if (!this.u32(a.length)) return false;
    const at = (this.pos + 3) & ~3;
    if (at + a.byteLength > this.bytes.byteLength) return false;
    new Float32Array(this.bytes.buffer, this.bytes.byteOffset + at, a.length).set(a);
    this.pos = at + a.byteLength;
    return true;
  }

  readFloats(): Float32Array {
    const n = this.readU32();
    const at = (this.pos + 3) & ~3;
    this.pos = at + n * 4;
    // A copy that owns its memory (the slot is reused).
    return new Float32Array(new Float32Array(this.bytes.buffer, this.bytes.byteOffset + at, n));
  }

  readU32(): number {
    const v = this.view.getUint32(this.pos, true);
    this.pos += 4;
    return v;
  }

  readF64(): number {
    const v = this.view.getFloat64(this.pos, true);
    this.pos += 8;
    return v;
  }

  readRaw(): Uint8Array {
    const n = this.readU32();
    const b = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }

  readStr(): string {
    const n = this.readU32();
    let s = '';
    let ascii = n <= 64;
    for (let i = 0; ascii && i < n; i++) if (this.bytes[this.pos + i]! > 0x7e) ascii = false;
    if (ascii) for (let i = 0; i < n; i++) s += String.fromCharCode(this.bytes[this.pos + i]!);
    // TextDecoder does not read shared memory: decode a private copy.
    else s = text.decode(this.bytes.slice(this.pos, this.pos + n));
    this.pos += n;
    return s;
  }

  /** `v` in the first registered codec that writes it; false (nothing written) when none does or it does not fit. */
  codec(v: unknown): boolean {
    const codecs = valueCodecs();
    for (let i = 0; i < codecs.length; i++) {
      const k = codecs[i]!;
      if (!k.accepts(v)) continue;
      const start = this.pos;
      // kind, name, then the value's length before its bytes
      if (!this.u32(CODEC) || !this.str(k.name) || !this.room(4)) return ((this.pos = start), false);
      const at = this.pos + 4;
      const end = k.write(this.view, at, this.bytes.byteLength, v);
      if (end < 0) {
        this.pos = start;
        continue;
      }
      this.view.setUint32(this.pos, end - at, true);
      this.pos = end;
      return true;
    }
    return false;
  }

  readCodec(): unknown {
    const k = valueCodec(this.readStr());
    const n = this.readU32();
    const v = k.read(this.view, this.pos, this.pos + n);
    this.pos += n;
    return v;
  }

  /** Back to the start, for the next message in the same slot. */
  reset(): this {
    this.pos = 0;
    return this;
  }
}

function writePorts(c: Cursor, values: PortValues): boolean {
  let n = 0;
  for (const _ in values) n++;
  if (!c.u32(n)) return false;
  for (const k in values) {
    const v = values[k];
    if (!c.str(k)) return false;
    if (v === undefined) {
      if (!c.u32(UNDEFINED)) return false;
    } else if (isTensor(v)) {
      if (!c.u32(TENSOR) || !c.u32(v.dims.length)) return false;
      for (const d of v.dims) if (!c.f64(d)) return false;
      if (!c.floats(v.data)) return false;
    } else if (!c.codec(v) && (!c.u32(VALUE) || !c.raw(serialize(v)))) return false;
  }
  return true;
}

function readPorts(c: Cursor): PortValues {
  const out: PortValues = {};
  const n = c.readU32();
  for (let i = 0; i < n; i++) {
    const k = c.readStr();
    const kind = c.readU32();
    if (kind === UNDEFINED) out[k] = undefined;
    else if (kind === TENSOR) {
      const nd = c.readU32();
      const dims: number[] = [];
      for (let d = 0; d < nd; d++) dims.push(c.readF64());
      out[k] = { dims, data: c.readFloats() };
    } else if (kind === CODEC) out[k] = c.readCodec();
    else out[k] = deserialize(c.readRaw().slice());
  }
  return out;
}

const cursors = new WeakMap<Uint8Array, Cursor>();
/** The cursor of a slot, made once. */
function cursor(slot: Uint8Array): Cursor {
  let c = cursors.get(slot);
  if (!c) cursors.set(slot, (c = new Cursor(slot)));
  return c.reset();
}

export function writeRequest(slot: Uint8Array, m: RunRequest): number {
  const c = cursor(slot);
  const ok = c.u32(m.call) && c.u32(m.id) && c.f64(m.frame.seq) && c.f64(m.frame.t0) && writePorts(c, m.inputs);
  return ok ? c.pos : -1;
}

export function readRequest(slot: Uint8Array): RunRequest {
  const c = cursor(slot);
  const call = c.readU32();
  const id = c.readU32();
  const seq = c.readF64();
  const t0 = c.readF64();
  return { call, id, frame: { seq, t0 }, inputs: readPorts(c) };
}

export function writeResult(slot: Uint8Array, m: RunResult): number {
  const c = cursor(slot);
  let ok = c.u32(m.call);
  if (m.error !== undefined) ok = ok && c.u32(2) && c.str(m.error);
  else if (m.outputs === null || typeof m.outputs !== 'object') ok = ok && c.u32(0);
  else ok = ok && c.u32(1) && writePorts(c, m.outputs);
  return ok ? c.pos : -1;
}

export function readResult(slot: Uint8Array): RunResult {
  const c = cursor(slot);
  const call = c.readU32();
  const kind = c.readU32();
  if (kind === 2) return { call, outputs: null, error: c.readStr() };
  return { call, outputs: kind === 1 ? readPorts(c) : null };
}
