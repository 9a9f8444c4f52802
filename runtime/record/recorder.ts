// Records published messages into an MCAP file (@mcap/core's writer: chunked, indexed, no
// compression). Each message is serialized on the main thread when it is published (its
// buffers may move to a worker right after), straight into a ring of shared memory the writer
// thread (writer-thread.ts) reads: no allocation per message, and one hand-over per batch (64
// messages or 10 ms) that carries where each message lies. A message that finds the ring full
// (the disk behind) goes in a buffer of its own, moved with the batch: never dropped. Chunking,
// CRCs and file writes stay off the pipeline's event loop. Log time: when the message was
// published (ns since the epoch); publish time: when its frame was captured; sequence: the
// frame number.
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { packageRoot } from '../util/paths.js';
import { BULK, CDR, encode, encodingOf, ros2msgSchema, type Encoding } from './schema.js';
import type { FromWriter, ToWriter } from './writer-thread.js';

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

const BATCH = 64;
/** Shared bytes between the recorder and its writer: small enough to stay in cache (a ring of 32 MiB, always writing cold memory, measured slower); a writer behind spills into buffers of their own. */
const RING_BYTES = 4 << 20;

/** Messages gathered until the next hand-over; preallocated, reused. */
class Batch {
  n = 0;
  readonly keys = new Uint32Array(BATCH);
  readonly seqs = new Uint32Array(BATCH);
  /** performance.now() ms (the writer turns them into ns since the epoch). */
  readonly logMs = new Float64Array(BATCH);
  readonly publishMs = new Float64Array(BATCH);
  /** Where each message lies in the ring and the ring bytes it frees once written; offset -1: in `own`, at index `frees`. */
  readonly offsets = new Int32Array(BATCH);
  readonly lengths = new Uint32Array(BATCH);
  readonly frees = new Uint32Array(BATCH);
  own: Uint8Array[] = [];
}

/** A ring of shared bytes written here in order and freed by the writer in the same order. */
class Ring {
  readonly bytes: Uint8Array;
  /** [0]: bytes in use (reserved here, freed by the writer). */
  readonly used: Int32Array;
  #pos = 0;
  /** Bytes the last reservation takes from the ring: its span plus any gap skipped at the end. */
  taken = 0;
  offset = -1;

  constructor(size: number) {
    this.bytes = new Uint8Array(new SharedArrayBuffer(size));
    this.used = new Int32Array(new SharedArrayBuffer(4));
  }

  /** A span of `n` bytes, or undefined when the ring lacks room (the writer is behind). */
  reserve(n: number): Uint8Array | undefined {
    const size = this.bytes.byteLength;
    const span = (n + 7) & ~7;
    const gap = this.#pos + span > size ? size - this.#pos : 0;
    if (span > size || Atomics.load(this.used, 0) + gap + span > size) return undefined;
    const at = gap ? 0 : this.#pos;
    Atomics.add(this.used, 0, gap + span);
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
  #batch = new Batch();
  readonly #ring: Ring;
  /** Messages that found the ring full (each in a buffer of its own). */
  #overflowed = 0;
  #flushing = false;
  #timer?: NodeJS.Timeout;
  #stats: RecordStats;
  #closed = false;
  #error?: Error;
  #log: (line: string) => void;
  readonly #ready: Promise<void>;
  /** Whether the last message encoded went into the ring. */
  #inRing = false;
  /** Room for a message: in the ring when it has room, else a buffer of its own (moved to the writer). Made once: no closure per message. */
  readonly #alloc = (n: number): Uint8Array => {
    const span = this.#ring.reserve(n);
    this.#inRing = span !== undefined;
    return span ?? Buffer.allocUnsafeSlow(n);
  };
  /** Where the writer's answer to 'end' goes. */
  #reply?: (m: FromWriter) => void;

  /** Records `topics` (all of them unless `only` names some). */
  constructor(file: string, topics: RecordTopic[], opts: { only?: string[]; metadata?: Record<string, string>; log?: (line: string) => void; ringBytes?: number } = {}) {
    this.file = file;
    this.#ring = new Ring(opts.ringBytes ?? RING_BYTES);
    this.#log = opts.log ?? ((l) => process.stderr.write(l + '\n'));
    const wanted = opts.only?.length ? new Set(opts.only) : undefined;
    if (wanted) {
      const known = new Set(topics.map((t) => t.name));
      const unknown = [...wanted].filter((t) => !known.has(t));
      if (unknown.length) throw new RecordError(`--topics ${unknown.join(', ')}: not a topic of this graph; expected some of ${[...known].join(', ')}`);
    }
    for (const t of topics) if (!wanted || wanted.has(t.name)) this.#channels.set(t.name, { topic: t, encoding: encodingOf(t.type), count: 0 });
    this.#stats = { file, messages: 0, bytes: 0, topics: this.#channels.size, failed: 0 };
    this.#worker = new Worker(BOOT, { workerData: { fromSource, host: THREAD }, name: 'xauto-mcap-writer' });
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
    this.#post({ op: 'start', file, metadata: opts.metadata, ring: this.#ring.bytes.buffer as SharedArrayBuffer, used: this.#ring.used.buffer as SharedArrayBuffer, timeOrigin: performance.timeOrigin });
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

  #post(m: ToWriter, transfer: ArrayBuffer[] = []): void {
    this.#worker.postMessage(m, transfer);
  }

  /** Records one message published on `topic` for frame `seq` (captured at `t0`, performance.now() ms). */
  record(topic: string, value: unknown, seq: number, t0?: number): void {
    const ch = this.#channels.get(topic);
    if (!ch || this.#closed) return;
    const ring = this.#ring;
    const alloc = this.#alloc;
    let data: Uint8Array;
    try {
      data = encode(ch.encoding, ch.topic.type, value, alloc);
    } catch (e) {
      if (ch.encoding !== CDR || ch.key !== undefined) {
        if (this.#stats.failed++ === 0) this.#log(`xauto record: ${topic}: message not recorded (${(e as Error).message})`);
        return;
      }
      // A stage emitting a ROS2 type in a looser shape: the topic is kept as xauto-bulk values.
      this.#log(`xauto record: ${topic} (${ch.topic.type}) values do not fit its CDR layout (${(e as Error).message}); recording them as ${BULK}`);
      ch.encoding = BULK;
      data = encode(ch.encoding, ch.topic.type, value, alloc);
    }
    if (ch.key === undefined) this.#announce(ch);
    const now = performance.now();
    ch.count++;
    this.#stats.messages++;
    this.#stats.bytes += data.byteLength;
    const b = this.#batch;
    const i = b.n++;
    b.keys[i] = ch.key!;
    b.seqs[i] = seq >>> 0;
    b.logMs[i] = now;
    b.publishMs[i] = t0 !== undefined && Number.isFinite(t0) ? t0 : now;
    b.lengths[i] = data.byteLength;
    if (this.#inRing) {
      b.offsets[i] = ring.offset;
      b.frees[i] = ring.taken;
    } else {
      b.offsets[i] = -1;
      b.frees[i] = b.own.length;
      b.own.push(data);
      this.#overflowed++;
    }
    // Handing over costs a message between threads: once per 64 messages or 10 ms, not per frame.
    if (b.n >= BATCH) this.#flush();
    else if (!this.#flushing) {
      this.#flushing = true;
      this.#timer = setTimeout(() => this.#flush(), 10);
    }
  }

  #announce(ch: ChannelState): void {
    this.#flush(); // messages of earlier channels go first
    ch.key = this.#keys++;
    const t = ch.topic;
    const metadata: Record<string, string> = { xauto_type: t.type };
    if (t.qos) metadata.qos = t.qos;
    const schema = ch.encoding === CDR ? { name: t.type, data: new TextEncoder().encode(ros2msgSchema(t.type)) } : undefined;
    this.#post({ op: 'channel', key: ch.key, topic: t.name, messageEncoding: ch.encoding, schema, metadata });
  }

  #flush(): void {
    this.#flushing = false;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    const b = this.#batch;
    if (!b.n) return;
    const n = b.n;
    const own = b.own;
    b.n = 0;
    b.own = [];
    this.#post(
      {
        op: 'messages',
        keys: b.keys.slice(0, n),
        seqs: b.seqs.slice(0, n),
        logMs: b.logMs.slice(0, n),
        publishMs: b.publishMs.slice(0, n),
        offsets: b.offsets.slice(0, n),
        lengths: b.lengths.slice(0, n),
        frees: b.frees.slice(0, n),
        own,
      },
      own.map((d) => d.buffer as ArrayBuffer),
    );
  }

  /** Writes the summary section and closes the file. */
  async close(): Promise<RecordStats> {
    if (this.#closed) return { ...this.#stats };
    this.#closed = true;
    this.#flush();
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
    if (this.#overflowed) this.#log(`xauto record: ${this.#overflowed} messages found the recording's shared ring full (the disk was behind) and were handed over in buffers of their own`);
    if (r.op === 'error' || this.#error) throw new RecordError(`${this.file}: recording failed (${r.op === 'error' ? r.message : this.#error!.message})`);
    return { ...this.#stats };
  }
}

export class RecordError extends Error {
  override name = 'RecordError';
}
