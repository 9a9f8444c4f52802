// Records published messages into an MCAP file (@mcap/core's writer, chunked, indexed, no
// compression). Each message is serialized when it is published (its buffers may be moved
// to a worker afterwards); the writer's asynchronous work is chained behind the run.
// Log time: when the message was published (ns since the epoch); publish time: when its
// frame was captured; sequence: the frame number.
import { McapWriter, type IWritable } from '@mcap/core';
import { closeSync, openSync, writeSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { CDR, encode, encodingOf, ros2msgSchema, type Encoding } from './schema.js';

/** An IWritable over a file descriptor (synchronous writes: chunks are ~1 MiB, written rarely). */
class FileWritable implements IWritable {
  #pos = 0n;
  constructor(private readonly fd: number) {}
  write(buffer: Uint8Array): Promise<void> {
    let off = 0;
    while (off < buffer.byteLength) off += writeSync(this.fd, buffer, off, buffer.byteLength - off);
    this.#pos += BigInt(buffer.byteLength);
    return Promise.resolve();
  }
  position(): bigint {
    return this.#pos;
  }
}

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
  id?: Promise<number>;
  count: number;
}

/** ns since the epoch now, from the monotonic clock (as the trace uses). */
export const epochNs = (perfMs = performance.now()): bigint => BigInt(Math.round((performance.timeOrigin + perfMs) * 1e6));

export class Recorder {
  readonly file: string;
  readonly #fd: number;
  readonly #writer: McapWriter;
  readonly #channels = new Map<string, ChannelState>();
  readonly #schemas = new Map<string, Promise<number>>();
  #chain: Promise<unknown>;
  #stats: RecordStats;
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
    this.#fd = openSync(file, 'w');
    this.#writer = new McapWriter({ writable: new FileWritable(this.#fd), chunkSize: 1 << 20 });
    this.#stats = { file, messages: 0, bytes: 0, topics: this.#channels.size, failed: 0 };
    this.#chain = this.#writer.start({ profile: 'ros2', library: 'xauto' });
    if (opts.metadata) this.#then(() => this.#writer.addMetadata({ name: 'xauto', metadata: new Map(Object.entries(opts.metadata!)) }));
  }

  /** The topics recorded. */
  get topics(): string[] {
    return [...this.#channels.keys()];
  }

  /** Records one message published on `topic` for frame `seq` (captured at `t0`, performance.now() ms). */
  record(topic: string, value: unknown, seq: number, t0?: number): void {
    const ch = this.#channels.get(topic);
    if (!ch) return;
    let data: Uint8Array;
    try {
      data = encode(ch.encoding, ch.topic.type, value);
    } catch (e) {
      if (ch.encoding !== CDR || ch.count > 0) {
        if (this.#stats.failed++ === 0) this.#log(`xauto record: ${topic}: message not recorded (${(e as Error).message})`);
        return;
      }
      // A stage emitting a ROS2 type in a looser shape: the topic is kept as v8 values.
      this.#log(`xauto record: ${topic} (${ch.topic.type}) values do not fit its CDR layout (${(e as Error).message}); recording them as ${'xauto-v8'}`);
      ch.encoding = 'xauto-v8';
      data = encode(ch.encoding, ch.topic.type, value);
    }
    const now = epochNs();
    const publishTime = t0 !== undefined && Number.isFinite(t0) ? epochNs(t0) : now;
    const id = (ch.id ??= this.#channel(ch));
    ch.count++;
    this.#stats.messages++;
    this.#stats.bytes += data.byteLength;
    this.#then(async () => this.#writer.addMessage({ channelId: await id, sequence: seq >>> 0, logTime: now, publishTime, data }));
  }

  #channel(ch: ChannelState): Promise<number> {
    const t = ch.topic;
    let schema = ch.encoding === CDR ? this.#schemas.get(t.type) : undefined;
    if (ch.encoding === CDR && !schema) {
      schema = this.#chain.then(() => this.#writer.registerSchema({ name: t.type, encoding: 'ros2msg', data: new TextEncoder().encode(ros2msgSchema(t.type)) }));
      this.#schemas.set(t.type, schema);
      this.#chain = schema;
    }
    const p = this.#chain.then(async () => {
      const schemaId = schema ? await schema : 0;
      const metadata = new Map<string, string>([['xauto_type', t.type]]);
      if (t.qos) metadata.set('qos', t.qos);
      return this.#writer.registerChannel({ topic: t.name, messageEncoding: ch.encoding, schemaId, metadata });
    });
    this.#chain = p;
    return p;
  }

  #then(f: () => Promise<unknown>): void {
    this.#chain = this.#chain.then(f).catch((e: Error) => {
      this.#error ??= e;
    });
  }

  /** Writes the summary section and closes the file. */
  async close(): Promise<RecordStats> {
    this.#then(() => this.#writer.end());
    await this.#chain;
    closeSync(this.#fd);
    if (this.#error) throw new RecordError(`${this.file}: recording failed (${this.#error.message})`);
    return { ...this.#stats };
  }
}

export class RecordError extends Error {
  override name = 'RecordError';
}
