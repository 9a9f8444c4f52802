// The MCAP writer on a thread of its own: the recorder (main thread) serializes each message
// when it is published into a shared ring and hands over where it lies (or, ring full, the
// bytes themselves, moved); chunking, CRCs, indexes and file writes happen here, off the
// pipeline's event loop. A batch's messages go from the ring to the file in one writev
// (mcap-file.ts), and their ring bytes are freed right after.
import { closeSync, openSync } from 'node:fs';
import { parentPort } from 'node:worker_threads';
import { McapFile } from './mcap-file.js';

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

export type FromWriter = { op: 'ready' } | { op: 'closed' } | { op: 'error'; message: string };

let fd = -1;
let file: McapFile | undefined;
let nextSchemaId = 1;
const schemas = new Map<string, number>();
let ring: Uint8Array = new Uint8Array(0);
let used: Int32Array = new Int32Array(1);
/** ns since the origin (the recorder thread's performance.now() 0) of one of its readings: no bigint per message. */
const ns = (ms: number) => Math.round(ms * 1e6);
let failed: Error | undefined;

/** Gives a batch's ring bytes back to the recorder. */
function free(m: Extract<ToWriter, { op: 'messages' }>): void {
  let freed = 0;
  for (let i = 0; i < m.keys.length; i++) if (m.offsets[i]! >= 0) freed += m.frees[i]!;
  Atomics.sub(used, 0, freed);
}

function handle(m: ToWriter): void {
  switch (m.op) {
    case 'start':
      ring = new Uint8Array(m.ring);
      used = new Int32Array(m.used);
      fd = openSync(m.file, 'w');
      file = new McapFile(fd, { originNs: BigInt(Math.round(m.timeOrigin * 1e6)) });
      file.start({ profile: 'ros2', library: 'xauto' }, m.metadata ? { name: 'xauto', metadata: new Map(Object.entries(m.metadata)) } : undefined);
      parentPort!.postMessage({ op: 'ready' } satisfies FromWriter);
      return;
    case 'channel': {
      let schemaId = 0;
      if (m.schema) {
        schemaId = schemas.get(m.schema.name) ?? nextSchemaId++;
        if (!schemas.has(m.schema.name)) file!.addSchema({ id: schemaId, name: m.schema.name, encoding: 'ros2msg', data: m.schema.data });
        schemas.set(m.schema.name, schemaId);
      }
      file!.addChannel({ id: m.key, topic: m.topic, messageEncoding: m.messageEncoding, schemaId, metadata: new Map(Object.entries(m.metadata)) });
      return;
    }
    case 'messages':
      try {
        for (let i = 0; i < m.keys.length; i++) {
          const at = m.offsets[i]!;
          const data = at < 0 ? m.own[m.frees[i]!]! : ring.subarray(at, at + m.lengths[i]!);
          file!.add(m.keys[i]!, m.seqs[i]!, ns(m.logMs[i]!), ns(m.publishMs[i]!), data);
        }
        file!.flush(); // the ring's bytes are in the file: the recorder may reuse them
      } finally {
        free(m);
      }
      return;
    case 'end':
      file!.end();
      closeSync(fd);
      fd = -1;
      return;
  }
}

parentPort!.on('message', (m: ToWriter) => {
  if (!failed) {
    try {
      handle(m);
    } catch (e) {
      failed = e as Error;
      if (m.op === 'start') parentPort!.postMessage({ op: 'error', message: failed.message } satisfies FromWriter);
    }
  } else if (m.op === 'messages') free(m); // nothing more is written (close() says why); the recorder goes on
  if (m.op === 'end') {
    if (fd >= 0 && failed) {
      try {
        closeSync(fd);
      } catch {
        // already closed
      }
    }
    parentPort!.postMessage(failed ? ({ op: 'error', message: failed.message } satisfies FromWriter) : ({ op: 'closed' } satisfies FromWriter));
  }
});
