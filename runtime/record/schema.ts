// How a topic's messages are stored in MCAP. ROS2 message types: `cdr` payloads (with their
// encapsulation header, as on the wire) and a `ros2msg` schema, the pair Foxglove and
// rosbag2's MCAP plugin read. `xauto/*` types have no .msg definition: they are stored as
// `xauto-bulk` (bulk.ts: a v8-serialized skeleton, typed arrays raw beside it; no schema), which
// keeps typed arrays bit for bit; viewers list those channels but cannot decode them. Older
// recordings' `xauto-v8` (the whole value v8-serialized) is still read.
import { stringify } from '@foxglove/rosmsg';
import { deserialize } from 'node:v8';
import { decodeBulk, encodeBulk, type Alloc } from './bulk.js';
import { messageRegistry } from '../ros2/messages.js';

export const CDR = 'cdr';
export const BULK = 'xauto-bulk';
/** Read only: what recordings before `xauto-bulk` hold. */
export const V8 = 'xauto-v8';

export type Encoding = typeof CDR | typeof BULK;

/** The `ros2msg` schema text: the root definition, then each nested one under `MSG: pkg/Type`. */
export function ros2msgSchema(type: string): string {
  const text = stringify(messageRegistry().definition(type));
  // The parser folds builtin_interfaces/Time and Duration into `time`/`duration`; a ROS2 .msg
  // names them, and ROS2 readers expect the names.
  const used = new Set<string>();
  const named = text.replace(/^(time|duration)(\[\d*\])? /gm, (_m, prim: string, arr: string | undefined) => {
    const t = prim === 'time' ? 'builtin_interfaces/Time' : 'builtin_interfaces/Duration';
    used.add(t);
    return `${t}${arr ?? ''} `;
  });
  const builtins = [...used].map((t) => `${'='.repeat(80)}\nMSG: ${t}\nint32 sec\nuint32 nanosec\n`);
  return [named.trimEnd(), ...builtins].join('\n') + '\n';
}

/** The encoding a topic of `type` is recorded in. */
export function encodingOf(type: string): Encoding {
  return type.startsWith('xauto/') || !messageRegistry().has(type) ? BULK : CDR;
}

/**
 * Serializes one message (a copy: the value's buffers may move to a worker right after), into
 * the room `alloc` gives (a fresh buffer by default).
 */
export function encode(encoding: Encoding, type: string, value: unknown, alloc?: Alloc): Uint8Array {
  if (encoding === BULK) return encodeBulk(value, alloc);
  const cdr = messageRegistry().serialize(type, value);
  if (!alloc) return cdr;
  const out = alloc.room(cdr.byteLength);
  out.set(cdr);
  return out;
}

/**
 * The same value with its arrays packed: v8 writes an array it deserialized (holey) in another
 * form than an array a stage built, so equal values would give unequal bytes. Replayed values
 * are made so once, when read (the recording side serializes values as they are). Typed
 * arrays and buffers are kept as they are.
 */
function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return Array.from(v, canonical);
  if (v !== null && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v)) out[k] = canonical((v as Record<string, unknown>)[k]);
    return out;
  }
  return v;
}

export function decode(encoding: string, type: string, bytes: Uint8Array): unknown {
  if (encoding === CDR) return messageRegistry().deserialize(type, bytes);
  if (encoding === BULK) return decodeBulk(bytes);
  if (encoding === V8) return canonical(deserialize(bytes));
  throw new Error(`${type}: message encoding '${encoding}' is not one xauto replays (expected ${CDR}, ${BULK} or ${V8})`);
}
