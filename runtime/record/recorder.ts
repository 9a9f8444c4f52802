// Records published messages into an MCAP file (@mcap/core's writer: chunked, indexed, no
// compression). Each message is serialized on the main thread when it is published (its
// buffers may move to a worker right after) and the bytes are moved to the writer thread
// (writer-thread.ts) in batches (64 messages or 10 ms); chunking, CRCs and file writes stay
// off the pipeline's event loop. Log time: when the message was published (ns since the
// epoch); publish time: when its frame was captured; sequence: the frame number.
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { packageRoot } from '../util/paths.js';
import { CDR, encode, encodingOf, ros2msgSchema, V8, type Encoding } from './schema.js';
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

/** Messages gathered during one event-loop turn. */
class Batch {
  keys: number[] = [];
  seqs: number[] = [];
  logTimes: bigint[] = [];
  publishTimes: bigint[] = [];
  data: Uint8Array[] = [];
}

export class Recorder {
  readonly file: string;
  readonly #worker: Worker;
  readonly #channels = new Map<string, ChannelState>();
  #keys = 0;
  #batch = new Batch();
  #flushing = false;
  #timer?: NodeJS.Timeout;
  #stats: RecordStats;
  #closed = false;
  #error?: Error;
  #log: (line: string) => void;

  /** Records `topics` (all of them unless `only` names some). */
  constructor(file: string, topics: RecordTopic[], opts: { only?: string[]; metadata?: Record<string, string>; log?: (line: string) => void } = {}) {
    this.file = file;
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
    this.#worker.on('error', (e) => (this.#error ??= e));
    this.#post({ op: 'start', file, metadata: opts.metadata });
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
    let data: Uint8Array;
    try {
      data = encode(ch.encoding, ch.topic.type, value);
    } catch (e) {
      if (ch.encoding !== CDR || ch.key !== undefined) {
        if (this.#stats.failed++ === 0) this.#log(`xauto record: ${topic}: message not recorded (${(e as Error).message})`);
        return;
      }
      // A stage emitting a ROS2 type in a looser shape: the topic is kept as v8 values.
      this.#log(`xauto record: ${topic} (${ch.topic.type}) values do not fit its CDR layout (${(e as Error).message}); recording them as ${V8}`);
      ch.encoding = V8;
      data = encode(ch.encoding, ch.topic.type, value);
    }
    if (ch.key === undefined) this.#announce(ch);
    const now = epochNs();
    ch.count++;
    this.#stats.messages++;
    this.#stats.bytes += data.byteLength;
    const b = this.#batch;
    b.keys.push(ch.key!);
    b.seqs.push(seq >>> 0);
    b.logTimes.push(now);
    b.publishTimes.push(t0 !== undefined && Number.isFinite(t0) ? epochNs(t0) : now);
    b.data.push(data);
    // Handing over costs a message between threads: once per 64 messages or 10 ms, not per frame.
    if (b.data.length >= 64) this.#flush();
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
    if (!b.data.length) return;
    this.#batch = new Batch();
    // Bytes that own their whole buffer move to the writer; others (views into a pool) are copied.
    const data = b.data.map((d) => (d.byteOffset === 0 && d.buffer.byteLength === d.byteLength && d.buffer instanceof ArrayBuffer ? d : d.slice()));
    this.#post(
      { op: 'messages', keys: Uint32Array.from(b.keys), seqs: Uint32Array.from(b.seqs), logTimes: BigUint64Array.from(b.logTimes), publishTimes: BigUint64Array.from(b.publishTimes), data },
      data.map((d) => d.buffer as ArrayBuffer),
    );
  }

  /** Writes the summary section and closes the file. */
  async close(): Promise<RecordStats> {
    if (this.#closed) return { ...this.#stats };
    this.#closed = true;
    this.#flush();
    const reply = new Promise<FromWriter>((resolve, reject) => {
      this.#worker.once('message', resolve);
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
    if (r.op === 'error' || this.#error) throw new RecordError(`${this.file}: recording failed (${r.op === 'error' ? r.message : this.#error!.message})`);
    return { ...this.#stats };
  }
}

export class RecordError extends Error {
  override name = 'RecordError';
}
