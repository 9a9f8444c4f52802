// The MCAP writer on a thread of its own: the recorder (main thread) serializes each message
// when it is published and hands the bytes over (moved, not copied); chunking, CRCs, indexes
// and file writes happen here, off the pipeline's event loop.
import { McapWriter, type IWritable } from '@mcap/core';
import { closeSync, openSync, writeSync } from 'node:fs';
import { parentPort } from 'node:worker_threads';

export type ToWriter =
  | { op: 'start'; file: string; metadata?: Record<string, string> }
  | { op: 'channel'; key: number; topic: string; messageEncoding: string; schema?: { name: string; data: Uint8Array }; metadata: Record<string, string> }
  | { op: 'messages'; keys: Uint32Array; seqs: Uint32Array; logTimes: BigUint64Array; publishTimes: BigUint64Array; data: Uint8Array[] }
  | { op: 'end' };

export type FromWriter = { op: 'closed' } | { op: 'error'; message: string };

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

let fd = -1;
let writer: McapWriter | undefined;
const channels = new Map<number, number>();
const schemas = new Map<string, number>();
let chain: Promise<unknown> = Promise.resolve();
let failed: Error | undefined;

async function handle(m: ToWriter): Promise<void> {
  switch (m.op) {
    case 'start':
      fd = openSync(m.file, 'w');
      writer = new McapWriter({ writable: new FileWritable(fd), chunkSize: 1 << 20 });
      await writer.start({ profile: 'ros2', library: 'xauto' });
      if (m.metadata) await writer.addMetadata({ name: 'xauto', metadata: new Map(Object.entries(m.metadata)) });
      return;
    case 'channel': {
      let schemaId = 0;
      if (m.schema) {
        schemaId = schemas.get(m.schema.name) ?? (await writer!.registerSchema({ name: m.schema.name, encoding: 'ros2msg', data: m.schema.data }));
        schemas.set(m.schema.name, schemaId);
      }
      channels.set(m.key, await writer!.registerChannel({ topic: m.topic, messageEncoding: m.messageEncoding, schemaId, metadata: new Map(Object.entries(m.metadata)) }));
      return;
    }
    case 'messages':
      for (let i = 0; i < m.data.length; i++) {
        await writer!.addMessage({ channelId: channels.get(m.keys[i]!)!, sequence: m.seqs[i]!, logTime: m.logTimes[i]!, publishTime: m.publishTimes[i]!, data: m.data[i]! });
      }
      return;
    case 'end':
      await writer!.end();
      closeSync(fd);
      return;
  }
}

parentPort!.on('message', (m: ToWriter) => {
  chain = chain.then(() => (failed ? undefined : handle(m))).catch((e: Error) => {
    failed ??= e;
  });
  if (m.op === 'end') {
    void chain.then(() => {
      if (fd >= 0 && failed) {
        try {
          closeSync(fd);
        } catch {
          // already closed
        }
      }
      parentPort!.postMessage(failed ? ({ op: 'error', message: failed.message } satisfies FromWriter) : ({ op: 'closed' } satisfies FromWriter));
    });
  }
});
