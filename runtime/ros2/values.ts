// Turns loosely typed values (YAML/JSON as `ros2 topic pub` takes them) into messages in the
// exact layout the CDR writer expects, with errors that name the field and the expected type;
// and renders messages back as YAML for `topic echo`.
import { stringify } from 'yaml';
import type { MessageDefinitionField } from '@foxglove/message-definition';
import type { MessageRegistry } from './messages.js';

export class MessageValueError extends Error {
  override name = 'MessageValueError';
}

type Obj = Record<string, unknown>;

const INT_RANGES: Record<string, [number, number]> = {
  int8: [-128, 127], uint8: [0, 255], byte: [0, 255], char: [0, 255],
  int16: [-32768, 32767], uint16: [0, 65535],
  int32: [-2147483648, 2147483647], uint32: [0, 4294967295],
};

const TYPED_ARRAYS: Record<string, new (n: number) => ArrayLike<number | bigint> & { [i: number]: number | bigint }> = {
  int8: Int8Array, uint8: Uint8Array, byte: Uint8Array, char: Uint8Array,
  int16: Int16Array, uint16: Uint16Array, int32: Int32Array, uint32: Uint32Array,
  int64: BigInt64Array, uint64: BigUint64Array, float32: Float32Array, float64: Float64Array,
};

/** Builds a complete message of `type` from `value` (missing fields take their defaults). */
export function toMessage(registry: MessageRegistry, type: string, value: unknown, where = type): Obj {
  const fields = registry.fields(type);
  return buildStruct(registry, fields, value ?? {}, where);
}

function buildStruct(registry: MessageRegistry, fields: MessageDefinitionField[], value: unknown, where: string): Obj {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new MessageValueError(`${where}: expected a mapping of fields, got ${describe(value)}`);
  }
  const input = value as Obj;
  const names = new Set(fields.filter((f) => !f.isConstant).map((f) => f.name));
  for (const k of Object.keys(input)) {
    if (!names.has(k)) throw new MessageValueError(`${where}.${k}: no such field (fields: ${[...names].join(', ') || 'none'})`);
  }
  const out: Obj = {};
  for (const f of fields) {
    if (f.isConstant) continue;
    out[f.name] = buildField(registry, f, input[f.name], `${where}.${f.name}`);
  }
  return out;
}

function buildField(registry: MessageRegistry, f: MessageDefinitionField, v: unknown, where: string): unknown {
  if (f.isArray) {
    const fixed = f.arrayLength;
    let items: unknown[];
    if (v === undefined || v === null) items = fixed ? new Array(fixed).fill(undefined) : [];
    else if (Array.isArray(v)) items = v;
    else if (ArrayBuffer.isView(v)) items = Array.from(v as unknown as ArrayLike<unknown>);
    else throw new MessageValueError(`${where}: expected a list of ${f.type}, got ${describe(v)}`);
    if (fixed !== undefined && items.length !== fixed) throw new MessageValueError(`${where}: expected exactly ${fixed} elements, got ${items.length}`);
    if (f.arrayUpperBound !== undefined && items.length > f.arrayUpperBound) throw new MessageValueError(`${where}: at most ${f.arrayUpperBound} elements allowed, got ${items.length}`);
    const Typed = TYPED_ARRAYS[f.type];
    if (Typed && !f.isComplex) {
      const arr = new Typed(items.length);
      items.forEach((x, i) => (arr[i] = scalar(f.type, x, `${where}[${i}]`) as number | bigint));
      return arr;
    }
    return items.map((x, i) => single(registry, f, x, `${where}[${i}]`));
  }
  return single(registry, f, v, where);
}

function single(registry: MessageRegistry, f: MessageDefinitionField, v: unknown, where: string): unknown {
  if (f.isComplex) return buildStruct(registry, registry.fields(f.type), v ?? {}, where);
  if (v === undefined || v === null) return defaultScalar(f);
  return scalar(f.type, v, where, f.upperBound);
}

function defaultScalar(f: MessageDefinitionField): unknown {
  if (f.defaultValue !== undefined) return f.type === 'int64' || f.type === 'uint64' ? BigInt(f.defaultValue as number) : f.defaultValue;
  return scalarZero(f.type);
}

function scalarZero(type: string): unknown {
  switch (type) {
    case 'bool': return false;
    case 'string': case 'wstring': return '';
    case 'int64': case 'uint64': return 0n;
    case 'time': case 'duration': return { sec: 0, nanosec: 0 };
    default: return 0;
  }
}

function scalar(type: string, v: unknown, where: string, upperBound?: number): unknown {
  if (v === undefined || v === null) return scalarZero(type);
  switch (type) {
    case 'bool':
      if (typeof v === 'boolean') return v;
      if (v === 0 || v === 1) return v === 1;
      if (v === 'true' || v === 'false') return v === 'true';
      throw new MessageValueError(`${where}: expected bool (true/false), got ${describe(v)}`);
    case 'string':
    case 'wstring': {
      const s = typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : undefined;
      if (s === undefined) throw new MessageValueError(`${where}: expected string, got ${describe(v)}`);
      if (upperBound !== undefined && s.length > upperBound) throw new MessageValueError(`${where}: string longer than its bound ${upperBound}`);
      return s;
    }
    case 'float32':
    case 'float64': {
      const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
      if (Number.isNaN(n) && v !== 'nan' && v !== '.nan') throw new MessageValueError(`${where}: expected ${type}, got ${describe(v)}`);
      return n;
    }
    case 'int64':
    case 'uint64': {
      let b: bigint;
      try {
        if (typeof v === 'bigint') b = v;
        else if ((typeof v === 'number' && Number.isInteger(v)) || (typeof v === 'string' && /^-?\d+$/.test(v.trim()))) b = BigInt(v as number | string);
        else throw new Error();
      } catch {
        throw new MessageValueError(`${where}: expected ${type} integer, got ${describe(v)}`);
      }
      const min = type === 'uint64' ? 0n : -(2n ** 63n);
      const max = type === 'uint64' ? 2n ** 64n - 1n : 2n ** 63n - 1n;
      if (b < min || b > max) throw new MessageValueError(`${where}: ${b} is out of range for ${type}`);
      return b;
    }
    case 'time':
    case 'duration': {
      if (typeof v === 'number') return { sec: Math.floor(v), nanosec: Math.round((v - Math.floor(v)) * 1e9) };
      if (typeof v === 'object' && v !== null) {
        const o = v as Obj;
        const extra = Object.keys(o).filter((k) => k !== 'sec' && k !== 'nanosec');
        if (extra.length) throw new MessageValueError(`${where}.${extra[0]}: no such field (fields: sec, nanosec)`);
        return {
          sec: scalar('int32', o.sec ?? 0, `${where}.sec`),
          nanosec: scalar('uint32', o.nanosec ?? 0, `${where}.nanosec`),
        };
      }
      throw new MessageValueError(`${where}: expected {sec, nanosec} or seconds, got ${describe(v)}`);
    }
    default: {
      const range = INT_RANGES[type];
      if (!range) throw new MessageValueError(`${where}: unsupported field type '${type}'`);
      const n = typeof v === 'number' ? v : typeof v === 'string' && /^-?(0x)?[0-9a-f]+$/i.test(v.trim()) ? Number(v) : typeof v === 'boolean' ? Number(v) : NaN;
      if (!Number.isInteger(n)) throw new MessageValueError(`${where}: expected ${type} integer, got ${describe(v)}`);
      if (n < range[0] || n > range[1]) throw new MessageValueError(`${where}: ${n} is out of range for ${type} [${range[0]}, ${range[1]}]`);
      return n;
    }
  }
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  return `${typeof v} ${JSON.stringify(typeof v === 'bigint' ? String(v) : v)}`;
}

/**
 * A message as YAML, as `ros2 topic echo` prints it. Long arrays are abbreviated unless
 * `full` (ros2's --no-arr / --full-length analogue).
 */
export function messageToYaml(msg: unknown, opts: { full?: boolean; maxArray?: number } = {}): string {
  const max = opts.full ? Infinity : (opts.maxArray ?? 128);
  const plain = (v: unknown): unknown => {
    if (typeof v === 'bigint') return Number(v) <= Number.MAX_SAFE_INTEGER && Number(v) >= -Number.MAX_SAFE_INTEGER ? Number(v) : v.toString();
    if (ArrayBuffer.isView(v)) {
      const arr = Array.from(v as unknown as ArrayLike<number | bigint>, plain);
      return arr.length > max ? `<array of ${arr.length} ${(v as object).constructor.name} elements>` : arr;
    }
    if (Array.isArray(v)) return v.length > max ? `<sequence of ${v.length} elements>` : v.map(plain);
    if (v && typeof v === 'object') {
      const o: Obj = {};
      for (const [k, x] of Object.entries(v)) o[k] = plain(x);
      return o;
    }
    return v;
  };
  return stringify(plain(msg), { lineWidth: 0, flowCollectionPadding: false }).trimEnd();
}
