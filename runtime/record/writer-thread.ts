// The MCAP writer on a thread of its own: the recorder (main thread) serializes each message
// when it is published into a shared ring and hands over where it lies (or, ring full, the
// bytes themselves, moved); chunking, CRCs, indexes and file writes happen here, off the
// pipeline's event loop. Ring bytes are freed once @mcap/core has copied them into its chunk.
import { McapWriter, type IWritable } from '@mcap/core';
import { closeSync, openSync, writeSync } from 'node:fs';
import { parentPort } from 'node:worker_threads';

export type ToWriter =
  | { op: 'start'; file: string; metadata?: Record<string, string>; ring: SharedArrayBuffer; used: SharedArrayBuffer; timeOrigin: number }
  | { op: 'channel'; key: number; topic: string; messageEncoding: string; schema?: { name: string; data: Uint8Array }; metadata: Record<string, string> }
  | {
      op: 'messages';
      keys: Uint32Array;
      seqs: Uint32Array;
      /** performance.now() ms on the recorder's thread. */
      logMs: Float64Array;
      publishMs: Float64Array;
      /** Ring offset of each message; -1: the message is own[frees[i]]. */
      offsets: Int32Array;
      lengths: Uint32Array;
      /** Ring bytes each message frees once written. */
      frees: Uint32Array;
      own: Uint8Array[];
    }
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
let ring: Uint8Array = new Uint8Array(0);
let used: Int32Array = new Int32Array(1);
let originNs = 0n;
/** ns since the epoch of a performance.now() reading on the recorder's thread. */
const ns = (ms: number) => originNs + BigInt(Math.round(ms * 1e6));
let failed: Error | undefined;

async function handle(m: ToWriter): Promise<void> {
  switch (m.op) {
    case 'start':
      ring = new Uint8Array(m.ring);
      used = new Int32Array(m.used);
      originNs = BigInt(Math.round(m.timeOrigin * 1e6));
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
      for (let i = 0; i < m.keys.length; i++) {
        const at = m.offsets[i]!;
        const data = at < 0 ? m.own[m.frees[i]!]! : ring.subarray(at, at + m.lengths[i]!);
        await writer!.addMessage({ channelId: channels.get(m.keys[i]!)!, sequence: m.seqs[i]!, logTime: ns(m.logMs[i]!), publishTime: ns(m.publishMs[i]!), data });
        if (at >= 0) Atomics.sub(used, 0, m.frees[i]!);
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
