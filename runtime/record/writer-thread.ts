// The MCAP writer on a thread of its own: the recorder (main thread) serializes each message
// when it is published into a shared ring and publishes a descriptor of where it lies in a
// shared queue (handoff.ts); here the queue is drained in order, each round's messages go from
// the ring to the file in one writev (mcap-file.ts), and their ring bytes are freed right
// after. Channels, messages that found the ring full and the end come through a port read
// synchronously, each where its descriptor sits in the queue. Between rounds the thread sleeps
// on the queue's tail: this thread has no event loop to serve.
import { closeSync, openSync } from 'node:fs';
import { parentPort, receiveMessageOnPort, workerData, type MessagePort } from 'node:worker_threads';
import { CONTROL, Descriptors, HEAD, IDLE_MS, ON_PORT, SLEEPING, TAIL, USED, type HandoffMemory } from './handoff.js';
import { McapFile } from './mcap-file.js';

export interface WriterData {
  file: string;
  metadata?: Record<string, string>;
  ring: SharedArrayBuffer;
  queue: HandoffMemory;
  port: MessagePort;
  /** performance.timeOrigin on the recorder's thread. */
  timeOrigin: number;
}

/** What comes through the port. */
export type ToWriter =
  | { op: 'channel'; key: number; topic: string; messageEncoding: string; schema?: { name: string; data: Uint8Array }; metadata: Record<string, string> }
  | { op: 'data'; data: Uint8Array }
  | { op: 'end' };

export type FromWriter = { op: 'ready' } | { op: 'closed' } | { op: 'error'; message: string };

const d = workerData as WriterData;
const ring = new Uint8Array(d.ring);
const q = new Descriptors(d.queue);
const ctl = q.control;
/** ns since the origin (the recorder thread's performance.now() 0) of one of its readings: no bigint per message. */
const ns = (ms: number) => Math.round(ms * 1e6);
const schemas = new Map<string, number>();
let failed: Error | undefined;
let fd = -1;
let file: McapFile | undefined;

/** The port message a descriptor stands for: posted before the descriptor, so already there. */
function fromPort(): ToWriter {
  const got = receiveMessageOnPort(d.port);
  if (!got) throw new Error('recording hand-over out of step: a descriptor without its port message');
  return got.message as ToWriter;
}

function control(m: ToWriter): boolean {
  if (m.op === 'end') return true;
  if (m.op === 'channel' && !failed) {
    let schemaId = 0;
    if (m.schema) {
      schemaId = schemas.get(m.schema.name) ?? schemas.size + 1;
      if (!schemas.has(m.schema.name)) file!.addSchema({ id: schemaId, name: m.schema.name, encoding: 'ros2msg', data: m.schema.data });
      schemas.set(m.schema.name, schemaId);
    }
    file!.addChannel({ id: m.key, topic: m.topic, messageEncoding: m.messageEncoding, schemaId, metadata: new Map(Object.entries(m.metadata)) });
  }
  return false;
}

/** `f()`, or undefined once it throws: the first failure is kept for close() and nothing more is written, but the queue is still drained in step. */
function attempt<T>(f: () => T): T | undefined {
  try {
    return f();
  } catch (e) {
    failed ??= e as Error;
    return undefined;
  }
}

/** Drains the queue until the end: one round per wake-up. */
function run(): void {
  let head = Atomics.load(ctl, HEAD);
  for (;;) {
    const tail = Atomics.load(ctl, TAIL);
    if (tail === head) {
      Atomics.store(ctl, SLEEPING, 1);
      Atomics.wait(ctl, TAIL, head, IDLE_MS); // returns at once if a descriptor came meanwhile
      Atomics.store(ctl, SLEEPING, 0);
      continue;
    }
    let freed = 0;
    let ended = false;
    for (; head !== tail && !ended; head = (head + 1) | 0) {
      const s = head & q.mask;
      const key = q.key(s);
      if (key === CONTROL) {
        ended = attempt(() => control(fromPort())) ?? false;
        continue;
      }
      const at = q.offset(s);
      let data: Uint8Array | undefined;
      if (at === ON_PORT) data = attempt(() => (fromPort() as Extract<ToWriter, { op: 'data' }>).data);
      else {
        data = ring.subarray(at, at + q.length(s));
        freed += q.frees(s);
      }
      if (!failed && data) attempt(() => file!.add(key, q.seq(s), ns(q.logMs(s)), ns(q.publishMs(s)), data));
    }
    if (!failed) attempt(() => file!.flush()); // the ring's bytes are in the file: the recorder may reuse them
    Atomics.sub(ctl, USED, freed);
    Atomics.store(ctl, HEAD, head);
    if (ended) return;
  }
}

try {
  fd = openSync(d.file, 'w');
  file = new McapFile(fd, { originNs: BigInt(Math.round(d.timeOrigin * 1e6)) });
  file.start({ profile: 'ros2', library: 'xauto' }, d.metadata ? { name: 'xauto', metadata: new Map(Object.entries(d.metadata)) } : undefined);
  parentPort!.postMessage({ op: 'ready' } satisfies FromWriter);
} catch (e) {
  failed = e as Error;
  parentPort!.postMessage({ op: 'error', message: failed.message } satisfies FromWriter);
}
run();
try {
  if (!failed) file!.end();
} catch (e) {
  failed = e as Error;
}
if (fd >= 0) {
  try {
    closeSync(fd);
  } catch (e) {
    failed ??= e as Error;
  }
}
parentPort!.postMessage(failed ? ({ op: 'error', message: failed.message } satisfies FromWriter) : ({ op: 'closed' } satisfies FromWriter));
