// The wire format of edges between xauto processes, and what a receiver checks before a frame
// from the network enters the graph. A shared DDS domain carries code we did not write: every
// frame is checked (launch instance, authentication when the launch has a key, origin time,
// tensor contents) and a refused one is counted by reason, never thrown.
import { createHmac, timingSafeEqual } from 'node:crypto';

export const FRAME_TYPE = 'xauto_msgs/msg/Frame';
export const FRAME_MSG = `# One message on an edge between two xauto processes of one launch.
string type
# The launch instance this frame belongs to (frames of other instances are refused).
string instance
float64 t0_epoch_ms
# Frame sequence number; on the end marker, how many frames the sender sent.
int64 seq
bool end
uint8[] data
# HMAC-SHA256 over the fields above with the launch's key (empty when the launch has none).
uint8[] mac
`;

export interface FrameMsg {
  type: string;
  instance: string;
  t0_epoch_ms: number;
  seq: bigint | number;
  end: boolean;
  data: Uint8Array;
  mac: Uint8Array;
}

/** Who a process is on the wire: its launch instance, and the launch's key if it has one. */
export interface LaunchIdentity {
  instance: string;
  key?: Buffer;
}

/** Environment variables through which a launch passes its identity to its processes. */
export const INSTANCE_ENV = 'XAUTO_LAUNCH_ID';
export const KEY_ENV = 'XAUTO_LAUNCH_KEY';

export function identityFromEnv(env: NodeJS.ProcessEnv = process.env): LaunchIdentity {
  const instance = env[INSTANCE_ENV] && /^[A-Za-z0-9_]{1,64}$/.test(env[INSTANCE_ENV]!) ? env[INSTANCE_ENV]! : 'default';
  const hex = env[KEY_ENV];
  return { instance, key: hex && /^([0-9a-f]{2}){16,64}$/i.test(hex) ? Buffer.from(hex, 'hex') : undefined };
}

/** The hidden topic of `topic` for one launch instance (instances never match each other). */
export const hiddenTopic = (instance: string, topic: string): string => `/_xauto/i${instance}${topic}`;

const EMPTY = new Uint8Array(0);

export function frameMac(key: Buffer, topic: string, m: Omit<FrameMsg, 'mac'>): Uint8Array {
  return createHmac('sha256', key)
    .update(`${m.instance}\n${topic}\n${m.type}\n${m.t0_epoch_ms}\n${m.seq}\n${m.end ? 1 : 0}\n`)
    .update(m.data)
    .digest();
}

export function sealFrame(id: LaunchIdentity, topic: string, m: Omit<FrameMsg, 'mac' | 'instance'>): FrameMsg {
  const f = { ...m, instance: id.instance };
  return { ...f, mac: id.key ? frameMac(id.key, topic, f) : EMPTY };
}

/** Why a frame is refused; each reason is a counter (`refused.remote.<reason>`). */
export type Refusal =
  | 'malformed' // not a frame (CDR does not decode), or its payload does not deserialize
  | 'foreign' // another launch instance
  | 'unauthenticated' // missing or wrong MAC where the launch has a key
  | 'bad_time' // origin time not finite or far from this host's clock
  | 'bad_seq' // sequence number not a non-negative safe integer
  | 'bad_value' // a tensor with NaN/Inf, or dims that do not match its data
  | 'bad_end' // an end marker claiming fewer frames than already arrived
  | 'after_end'; // a frame after the stream ended

export const REFUSAL_TEXT: Record<Refusal, string> = {
  malformed: 'not a valid frame',
  foreign: 'from another launch instance',
  unauthenticated: 'not signed with this launch\'s key',
  bad_time: 'origin time out of range',
  bad_seq: 'sequence number out of range',
  bad_value: 'tensor with non-finite values or wrong dims',
  bad_end: 'end marker claims fewer frames than arrived',
  after_end: 'frame after the end of the stream',
};

/** Origin times further than this from the receiving host's clock are refused (clock skew allowance). */
export const MAX_CLOCK_SKEW_MS = 10 * 60_000;

/** Checks the header of a decoded frame; null when acceptable. */
export function checkHeader(id: LaunchIdentity, topic: string, m: FrameMsg, nowEpochMs: number): Refusal | null {
  if (typeof m.instance !== 'string' || m.instance !== id.instance) return 'foreign';
  if (id.key) {
    const mac = frameMac(id.key, topic, m);
    if (!(m.mac instanceof Uint8Array) || m.mac.byteLength !== mac.byteLength || !timingSafeEqual(m.mac, mac)) return 'unauthenticated';
  }
  const seq = typeof m.seq === 'bigint' ? m.seq : BigInt(Math.trunc(Number(m.seq)));
  if (seq < 0n || seq > BigInt(Number.MAX_SAFE_INTEGER)) return 'bad_seq';
  if (m.end) return null;
  if (!Number.isFinite(m.t0_epoch_ms) || Math.abs(m.t0_epoch_ms - nowEpochMs) > MAX_CLOCK_SKEW_MS) return 'bad_time';
  return null;
}

/**
 * Checks a deserialized value: tensors (`{dims, data: Float32Array|Float64Array}`, at the top
 * or one level down) must have finite values and dims matching their data. Cost: one pass over
 * tensor data, which the deserialization already touched.
 */
export function checkValue(v: unknown): boolean {
  if (!isObject(v)) return true;
  if (!tensorOk(v)) return false;
  if (Array.isArray(v)) return v.every((x) => !isObject(x) || tensorOk(x));
  for (const k in v) {
    const x = (v as Record<string, unknown>)[k];
    if (isObject(x) && !tensorOk(x)) return false;
  }
  return true;
}

const isObject = (v: unknown): v is object => typeof v === 'object' && v !== null;

function tensorOk(v: object): boolean {
  const t = v as { dims?: unknown; data?: unknown };
  // Only tensors (dims beside float data): NaN is legitimate in some ROS2 messages.
  if (t.dims === undefined || !(t.data instanceof Float32Array || t.data instanceof Float64Array)) return true;
  if (!Array.isArray(t.dims)) return false;
  let n = 1;
  for (const d of t.dims) {
    if (!Number.isSafeInteger(d) || d < 0) return false;
    n *= d;
  }
  if (n !== t.data.length) return false;
  const data = t.data;
  for (let i = 0; i < data.length; i++) if (!Number.isFinite(data[i]!)) return false;
  return true;
}
