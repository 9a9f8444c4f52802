// reference_interfaces/msg/Message4kb in its ROS2 layout, and the message history the
// reference system's metrics are computed from (its sample_management: set_sample,
// merge_history_into_sample, get_missed_samples_and_update_seq_nr).
//
// Layout in memory: plain objects and arrays only (no typed arrays), so a message can be
// shared by several subscribers and structured-cloned to a worker without a buffer being
// transferred away from under another holder. History entries are immutable once made: a
// node copies the references of its inputs' entries into its output, as the reference
// memcpy's them. Values decoded from CDR carry bigints and Uint8Arrays; readers accept both.
import { performance } from 'node:perf_hooks';

export const MESSAGE_TYPE = 'reference_interfaces/msg/Message4kb';
export const STATS_CAPACITY = 63;
export const NODE_NAME_LENGTH = 48;
export const DATA_LENGTH = 7;

export interface TransmissionStats {
  /** Nanoseconds since the epoch when the node's callback began. */
  timestamp: number | bigint;
  sequence_number: number;
  dropped_samples: number;
  /** NUL-terminated name bytes (48). */
  node_name: ArrayLike<number>;
}

export interface Message4kb {
  size: number | bigint;
  /** Always 63 entries; the first `size` are the history. */
  stats: TransmissionStats[];
  data: Array<bigint> | BigInt64Array;
}

/** What a node needs to stamp its entries: its name bytes, made once. */
export interface NodeStamp {
  name: string;
  bytes: number[];
}

export function nodeStamp(name: string): NodeStamp {
  const bytes = new Array<number>(NODE_NAME_LENGTH).fill(0);
  // As the reference: the name is cut to 47 bytes and NUL-terminated.
  const enc = Buffer.from(name, 'utf8');
  for (let i = 0; i < Math.min(enc.length, NODE_NAME_LENGTH - 1); i++) bytes[i] = enc[i]!;
  return { name, bytes };
}

const EMPTY_NAME: readonly number[] = Object.freeze(new Array<number>(NODE_NAME_LENGTH).fill(0));
/** The entry in unused slots: shared by every message, never written. */
export const EMPTY: TransmissionStats = Object.freeze({ timestamp: 0, sequence_number: 0, dropped_samples: 0, node_name: EMPTY_NAME });

/**
 * The system clock in nanoseconds since the epoch, as the reference's now_as_int(): comparable
 * across processes of one host (performance.timeOrigin is the process start on the epoch).
 * A double: its 256 ns resolution at today's epoch is far below the metrics' microseconds.
 */
export function nowNs(): number {
  return Math.round((performance.timeOrigin + performance.now()) * 1e6);
}

export function size(m: Message4kb): number {
  return Math.min(Number(m.size), STATS_CAPACITY);
}

/** A fresh, empty message (the reference's loaned message with size = 0). */
export function emptyMessage(): Message4kb {
  return { size: 0, stats: new Array<TransmissionStats>(STATS_CAPACITY).fill(EMPTY), data: [0n, 0n, 0n, 0n, 0n, 0n, 0n] };
}

/** Appends this node's entry, unless the history is full (set_sample). */
export function setSample(node: NodeStamp, sequence: number, dropped: number, timestamp: number, m: Message4kb): void {
  const n = size(m);
  if (n >= STATS_CAPACITY) return;
  m.stats[n] = { timestamp, sequence_number: sequence >>> 0, dropped_samples: dropped >>> 0, node_name: node.bytes };
  m.size = n + 1;
}

/** Whether two NUL-terminated names are equal. */
export function sameName(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  for (let i = 0; i < NODE_NAME_LENGTH; i++) {
    const x = a[i] ?? 0;
    if (x !== (b[i] ?? 0)) return false;
    if (x === 0) return true;
  }
  return true;
}

/** An entry that is safe to share: decoded entries (bigints, buffer views) become plain. */
function shareable(e: TransmissionStats): TransmissionStats {
  if (Array.isArray(e.node_name) && typeof e.timestamp === 'number') return e;
  return {
    timestamp: Number(e.timestamp),
    sequence_number: Number(e.sequence_number),
    dropped_samples: Number(e.dropped_samples),
    node_name: Array.from(e.node_name),
  };
}

/**
 * Adds the entries of `source` whose node is not in `sample` yet, in order
 * (merge_history_into_sample: the first entry of a node wins, compared with the entries the
 * sample had before; the reference does not check the capacity there, 63 entries hold far
 * more than the 24 nodes).
 */
export function mergeHistory(sample: Message4kb, source: Message4kb): void {
  const have = size(sample);
  let n = have;
  for (let i = 0; i < size(source) && n < STATS_CAPACITY; i++) {
    const e = source.stats[i]!;
    let found = false;
    for (let k = 0; k < have && !found; k++) found = sameName(sample.stats[k]!.node_name, e.node_name);
    if (!found) sample.stats[n++] = shareable(e);
  }
  sample.size = n;
}

/** The sequence number of the newest entry (that of the node which published `m`). */
export function lastSequence(m: Message4kb): number {
  const n = size(m);
  return n === 0 ? 0 : Number(m.stats[n - 1]!.sequence_number);
}

/** Per input: the last sequence number seen, to count gaps (get_missed_samples_and_update_seq_nr). */
export class SequenceTracker {
  last = 0;

  /** Samples missed before `m`; remembers its sequence number. */
  missed(m: Message4kb): number {
    const seq = lastSequence(m);
    const missed = seq > this.last ? seq - this.last - 1 : 0;
    this.last = seq;
    return missed;
  }
}

/** Decodes a NUL-terminated name. */
export function nameOf(e: TransmissionStats): string {
  let s = '';
  for (let i = 0; i < NODE_NAME_LENGTH; i++) {
    const c = e.node_name[i] ?? 0;
    if (c === 0) break;
    s += String.fromCharCode(c);
  }
  return s;
}

/** The history as plain records (metrics, tests). */
export function history(m: Message4kb): Array<{ node: string; timestamp: number; sequence: number; dropped: number }> {
  const out = [];
  for (let i = 0; i < size(m); i++) {
    const e = m.stats[i]!;
    out.push({ node: nameOf(e), timestamp: Number(e.timestamp), sequence: Number(e.sequence_number), dropped: Number(e.dropped_samples) });
  }
  return out;
}
