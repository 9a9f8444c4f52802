// Records published messages into an MCAP file (chunked, indexed, no compression; written by
// mcap-file.ts on a thread of its own, writer-thread.ts). Each message is serialized on the main
// thread when it is published (its buffers may move to a worker right after), straight into a
// ring of shared memory the writer thread reads, and announced by a descriptor in a shared
// queue (handoff.ts): no allocation and no message between threads per message or per batch.
// A message that finds the ring full (the disk behind) goes in a buffer of its own, moved to the
// writer: never dropped. Chunking, CRCs and file writes stay off the pipeline's event loop.
// Log time: when the message was published (ns since the epoch); publish time: when its frame
// was captured; sequence: the frame number.
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import { packageRoot } from '../util/paths.js';
import { BULK, CDR, encode, encodingOf, ros2msgSchema, type Encoding } from './schema.js';
import { CONTROL, Descriptors, IDLE_MS, ON_PORT, USED } from './handoff.js';
import type { FromWriter, ToWriter, WriterData } from './writer-thread.js';

const fromSource = import.meta.url.endsWith('.ts');
const BOOT = pathToFileURL(join(packageRoot(), 'runtime', 'xpu', 'worker-boot.mjs'));
const THREAD = new URL(fromSource ? './writer-thread.ts' : './writer-thread.js', import.meta.url).href;

export interface RecordTopic {
  name: string;
  type: string;
  /** ROS2 QoS profile name the topic is bound with, kept for `xauto play`. */
  qos?: string;
}

export interface RecordStats {
  file: string;
  messages: number;
  bytes: number;
  topics: number;
  /** Messages that could not be serialized (counted, never thrown into the run). */
  failed: number;
}

interface ChannelState {
  topic: RecordTopic;
  encoding: Encoding;
  /** Key of the channel on the writer thread, once announced. */
  key?: number;
  count: number;
}

/** ns since the epoch now, from the monotonic clock (as the trace uses). */
export const epochNs = (perfMs = performance.now()): bigint => BigInt(Math.round((performance.timeOrigin + perfMs) * 1e6));

/** Descriptors pending before the writer is woken (it also wakes by itself every IDLE_MS). */
const WAKE_EVERY = 64;
/** Shared bytes between the recorder and its writer: small enough to stay in cache (a ring of 32 MiB, always writing cold memory, measured slower); a writer behind spills into buffers of their own. */
const RING_BYTES = 4 << 20;

/** A ring of shared bytes written here in order and freed by the writer in the same order. */
class Ring {
  readonly bytes: Uint8Array;
  /** [USED]: bytes in use (reserved here, freed by the writer). */
  readonly used: Int32Array;
  #pos = 0;
  /** Bytes the last reservation takes from the ring: its span plus any gap skipped at the end. */
  taken = 0;
  offset = -1;

  constructor(size: number, control: Int32Array) {
    this.bytes = new Uint8Array(new SharedArrayBuffer(size));
    // Every page touched once now, before the first frame: otherwise the first pass through the
    // ring takes the page faults (a few per message) on the publishing thread. (Not on the writer
    // thread: messages may come before it is up.)
    this.bytes.fill(0);
    this.used = control;
  }

  /** Whether the last room given was in the ring. */
  inRing = false;

  /** Room for a message: in the ring when it has room, else a buffer of its own (moved to the writer). */
  room(n: number): Uint8Array {
    const span = this.reserve(n);
    this.inRing = span !== undefined;
    return span ?? Buffer.allocUnsafeSlow(n);
  }

  /** A span of `n` bytes, or undefined when the ring lacks room (the writer is behind). */
  reserve(n: number): Uint8Array | undefined {
    const size = this.bytes.byteLength;
    const span = (n + 7) & ~7;
    const gap = this.#pos + span > size ? size - this.#pos : 0;
    if (span > size || Atomics.load(this.used, USED) + gap + span > size) return undefined;
    const at = gap ? 0 : this.#pos;
    Atomics.add(this.used, USED, gap + span);
    this.#pos = at + span === size ? 0 : at + span;
    this.taken = gap + span;
    this.offset = at;
    return this.bytes.subarray(at, at + n);
  }
}

export class Recorder {
  readonly file: string;
  readonly #worker: Worker;
  readonly #channels = new Map<string, ChannelState>();
  #keys = 0;
  readonly #queue: Descriptors;
  /** What goes to the writer beside the queue: channels, messages that found the ring full, the end. */
  readonly #port: MessagePort;
  /** Descriptors that found the queue full, in order (the writer far behind): pushed as it frees slots. */
  #backlog: Array<Parameters<Descriptors['push']>> = [];
  #drainTimer?: NodeJS.Timeout;
  readonly #ring: Ring;
  /** Messages that found the ring full (each in a buffer of its own). */
  #overflowed = 0;
  /** Descriptors that found the hand-over queue full. */
  #waited = 0;
  #stats: RecordStats;
  #closed = false;
  #error?: Error;
  #log: (line: string) => void;
  readonly #ready: Promise<void>;
  /** Where the writer's answer to 'end' goes. */
  #reply?: (m: FromWriter) => void;

  /** Records `topics` (all of them unless `only` names some; `only` may name any of `known`, default `topics`). */
  constructor(file: string, topics: RecordTopic[], opts: { only?: string[]; known?: string[]; metadata?: Record<string, string>; log?: (line: string) => void; ringBytes?: number; queueSlots?: number } = {}) {
    this.#queue = new Descriptors(undefined, opts.queueSlots);
    this.file = file;
    this.#ring = new Ring(opts.ringBytes ?? RING_BYTES, this.#queue.control);
    this.#log = opts.log ?? ((l) => process.stderr.write(l + '\n'));
    const wanted = opts.only?.length ? new Set(opts.only) : undefined;
    if (wanted) {
      const known = new Set(opts.known ?? topics.map((t) => t.name));
      const unknown = [...wanted].filter((t) => !known.has(t));
      if (unknown.length) throw new RecordError(`--topics ${unknown.join(', ')}: not a topic of this graph; expected some of ${[...known].join(', ')}`);
    }
    for (const t of topics) if (!wanted || wanted.has(t.name)) this.#channels.set(t.name, { topic: t, encoding: encodingOf(t.type), count: 0 });
    this.#stats = { file, messages: 0, bytes: 0, topics: this.#channels.size, failed: 0 };
    const { port1, port2 } = new MessageChannel();
    this.#port = port1;
    const data: WriterData = { file, metadata: opts.metadata, ring: this.#ring.bytes.buffer as SharedArrayBuffer, queue: this.#queue.memory, port: port2, timeOrigin: performance.timeOrigin };
    this.#worker = new Worker(BOOT, { workerData: { fromSource, host: THREAD, ...data }, transferList: [port2], name: 'xauto-mcap-writer' });
    let up!: () => void;
    let down!: (e: Error) => void;
    this.#ready = new Promise<void>((resolve, reject) => ((up = resolve), (down = reject)));
    this.#ready.catch(() => {}); // also reported by close(): no one need await ready()
    this.#worker.on('message', (m: FromWriter) => {
      if (m.op === 'ready') up();
      else if (this.#reply) this.#reply(m);
      else if (m.op === 'error') down(new RecordError(`${file}: cannot record (${m.message})`));
    });
    this.#worker.on('error', (e) => {
      this.#error ??= e;
      down(new RecordError(`${file}: the recording's writer thread failed (${e.message})`));
    });
  }

  /**
   * Resolves once the writer thread has the file open (starting a thread takes tens of ms):
   * awaited before the first frame, messages go through the ring from the start instead of
   * piling up in buffers of their own while the thread boots.
   */
  ready(): Promise<void> {
    return this.#ready;
  }

  /** The topics recorded. */
  get topics(): string[] {
    return [...this.#channels.keys()];
  }

  /** A port message and its place in the queue's order. */
  #post(m: ToWriter, transfer: ArrayBuffer[] = []): void {
    this.#port.postMessage(m, transfer);
    this.#push(CONTROL, 0, 0, 0, 0, 0, 0);
    this.#queue.wake();
  }

  #push(key: number, seq: number, offset: number, length: number, frees: number, logMs: number, publishMs: number): void {
    if (this.#backlog.length || !this.#queue.push(key, seq, offset, length, frees, logMs, publishMs)) {
      this.#backlog.push([key, seq, offset, length, frees, logMs, publishMs]);
      this.#waited++;
      this.#drainTimer ??= setTimeout(() => this.#drain(), 1);
    }
  }

  /** Moves the backlog into the queue as far as it has room. */
  #drain(): void {
    this.#drainTimer = undefined;
    let i = 0;
    while (i < this.#backlog.length && this.#queue.push(...this.#backlog[i]!)) i++;
    this.#backlog.splice(0, i);
    this.#queue.wake();
    if (this.#backlog.length) this.#drainTimer = setTimeout(() => this.#drain(), 1);
  }

  /** Records one message published on `topic` for frame `seq` (captured at `t0`, performance.now() ms). */
  record(topic: string, value: unknown, seq: number, t0?: number): void {
    const ch = this.#channels.get(topic);
    if (!ch || this.#closed) return;
    const ring = this.#ring;
    let data: Uint8Array;
    try {
      data = encode(ch.encoding, ch.topic.type, value, ring);
    } catch (e) {
      if (ch.encoding !== CDR || ch.key !== undefined) {
        if (this.#stats.failed++ === 0) this.#log(`xauto record: ${topic}: message not recorded (${(e as Error).message})`);
        return;
      }
      // A stage emitting a ROS2 type in a looser shape: the topic is kept as xauto-bulk values.
      this.#log(`xauto record: ${topic} (${ch.topic.type}) values do not fit its CDR layout (${(e as Error).message}); recording them as ${BULK}`);
      ch.encoding = BULK;
      data = encode(ch.encoding, ch.topic.type, value, ring);
    }
    if (ch.key === undefined) this.#announce(ch);
    const now = performance.now();
    ch.count++;
    this.#stats.messages++;
    this.#stats.bytes += data.byteLength;
    const publishMs = t0 !== undefined && Number.isFinite(t0) ? t0 : now;
    if (ring.inRing) this.#push(ch.key!, seq, ring.offset, data.byteLength, ring.taken, now, publishMs);
    else {
      // A buffer of its own, moved to the writer: its descriptor says to take it from the port.
      this.#port.postMessage({ op: 'data', data } satisfies ToWriter, [data.buffer as ArrayBuffer]);
      this.#push(ch.key!, seq, ON_PORT, data.byteLength, 0, now, publishMs);
      this.#overflowed++;
    }
    // Woken once work piles up (a batch of messages, or a quarter of the ring), not per message.
    const q = this.#queue;
    if (q.pending() >= Math.min(WAKE_EVERY, q.slots >> 1) || Atomics.load(ring.used, USED) >= ring.bytes.byteLength >> 2 || !ring.inRing) q.wake();
  }

  #announce(ch: ChannelState): void {
    ch.key = this.#keys++;
    const t = ch.topic;
    const metadata: Record<string, string> = { xauto_type: t.type };
    if (t.qos) metadata.qos = t.qos;
    const schema = ch.encoding === CDR ? { name: t.type, data: new TextEncoder().encode(ros2msgSchema(t.type)) } : undefined;
    this.#post({ op: 'channel', key: ch.key, topic: t.name, messageEncoding: ch.encoding, schema, metadata });
  }

  /** Writes the summary section and closes the file. */
  async close(): Promise<RecordStats> {
    if (this.#closed) return { ...this.#stats };
    this.#closed = true;
    // The backlog goes first (the writer frees slots as it goes; it reports failures itself).
    while (this.#backlog.length && !this.#error) {
      clearTimeout(this.#drainTimer);
      this.#drain();
      if (this.#backlog.length) await new Promise((r) => setTimeout(r, IDLE_MS));
    }
    clearTimeout(this.#drainTimer);
    const reply = new Promise<FromWriter>((resolve, reject) => {
      this.#reply = resolve;
      this.#worker.once('error', reject);
      this.#worker.once('exit', () => reject(new Error('the writer thread exited')));
    });
    this.#post({ op: 'end' });
    let r: FromWriter;
    try {
      r = await reply;
    } catch (e) {
      r = { op: 'error', message: (e as Error).message };
    }
    await this.#worker.terminate();
    this.#port.close();
    if (this.#waited) this.#log(`xauto record: ${this.#waited} messages waited for room in the hand-over queue to the writer thread (it was behind)`);
    if (this.#overflowed) this.#log(`xauto record: ${this.#overflowed} messages found the recording's shared ring full (the disk was behind) and were handed over in buffers of their own`);
    if (r.op === 'error' || this.#error) throw new RecordError(`${this.file}: recording failed (${r.op === 'error' ? r.message : this.#error!.message})`);
    return { ...this.#stats };
  }
}

export class RecordError extends Error {
  override name = 'RecordError';
}
