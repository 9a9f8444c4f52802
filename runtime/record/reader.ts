// Reads an MCAP recording (@mcap/core's indexed reader over a file handle): its channels and
// its messages in log-time order, as raw bytes or decoded values.
import { McapIndexedReader, type IReadable, type McapTypes } from '@mcap/core';
import { open, type FileHandle } from 'node:fs/promises';
import { decode } from './schema.js';

class FileReadable implements IReadable {
  constructor(
    private readonly fh: FileHandle,
    private readonly bytes: bigint,
  ) {}
  size(): Promise<bigint> {
    return Promise.resolve(this.bytes);
  }
  async read(offset: bigint, size: bigint): Promise<Uint8Array> {
    const buf = new Uint8Array(Number(size));
    let got = 0;
    while (got < buf.byteLength) {
      const { bytesRead } = await this.fh.read(buf, got, buf.byteLength - got, Number(offset) + got);
      if (bytesRead === 0) throw new Error(`unexpected end of file at byte ${Number(offset) + got}`);
      got += bytesRead;
    }
    return buf;
  }
}

export interface RecordedChannel {
  id: number;
  topic: string;
  /** Message type (`pkg/msg/Type` or `xauto/*`). */
  type: string;
  encoding: string;
  qos?: string;
  messages: number;
  /** The channel's own metadata and its schema (none for xauto types): what a merge copies. */
  metadata: Map<string, string>;
  schema?: McapTypes.Schema;
}

export interface RecordedMessage {
  topic: string;
  channel: RecordedChannel;
  /** Frame number the message belonged to. */
  seq: number;
  /** ns since the epoch. */
  logTime: bigint;
  publishTime: bigint;
  data: Uint8Array;
}

export class Recording {
  private constructor(
    readonly file: string,
    private readonly fh: FileHandle,
    private readonly reader: McapIndexedReader,
    readonly channels: RecordedChannel[],
    readonly metadata: Record<string, string>,
  ) {}

  static async open(file: string): Promise<Recording> {
    let fh: FileHandle;
    try {
      fh = await open(file, 'r');
    } catch (e) {
      throw new RecordingError(`${file}: cannot open the recording (${(e as Error).message})`);
    }
    try {
      const { size } = await fh.stat();
      const reader = await McapIndexedReader.Initialize({ readable: new FileReadable(fh, BigInt(size)) });
      const counts = reader.statistics?.channelMessageCounts;
      const channels = [...reader.channelsById.values()].map((c: McapTypes.Channel) => {
        const schema = reader.schemasById.get(c.schemaId);
        return {
          id: c.id,
          topic: c.topic,
          type: c.metadata.get('xauto_type') ?? schema?.name ?? '',
          encoding: c.messageEncoding,
          qos: c.metadata.get('qos'),
          messages: Number(counts?.get(c.id) ?? 0n),
          metadata: c.metadata,
          schema,
        };
      });
      const metadata: Record<string, string> = {};
      for await (const m of reader.readMetadata({ name: 'xauto' })) for (const [k, v] of m.metadata) metadata[k] = v;
      return new Recording(file, fh, reader, channels, metadata);
    } catch (e) {
      await fh.close();
      if (e instanceof RecordingError) throw e;
      throw new RecordingError(`${file}: not a readable MCAP file (${(e as Error).message})`);
    }
  }

  channel(topic: string): RecordedChannel | undefined {
    return this.channels.find((c) => c.topic === topic);
  }

  /** Log-time span of the recording (ns). */
  get span(): { start: bigint; end: bigint } {
    const s = this.reader.statistics;
    return { start: s?.messageStartTime ?? 0n, end: s?.messageEndTime ?? 0n };
  }

  /** Messages in log-time order (optionally of some topics only). */
  async *messages(topics?: readonly string[]): AsyncGenerator<RecordedMessage> {
    const byId = new Map(this.channels.map((c) => [c.id, c]));
    for await (const m of this.reader.readMessages({ topics, validateCrcs: true })) {
      const channel = byId.get(m.channelId)!;
      yield { topic: channel.topic, channel, seq: m.sequence, logTime: m.logTime, publishTime: m.publishTime, data: m.data };
    }
  }

  /** A message's value, as the stage that published it had it. */
  static value(m: RecordedMessage): unknown {
    // A copy of its own: typed-array fields are then views into memory aligned as a fresh buffer.
    return decode(m.channel.encoding, m.channel.type, m.data.slice());
  }

  close(): Promise<void> {
    return this.fh.close();
  }
}

export class RecordingError extends Error {
  override name = 'RecordingError';
}
