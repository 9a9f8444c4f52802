// Ros2Context: typed publishers and rxjs subscriptions over a transport, with the message
// registry doing CDR, and counters for what was sent, received, refused and mismatched.
import { Observable, Subject } from 'rxjs';
import { decodeSample, MessageDecodeError, messageRegistry, type MessageRegistry } from './messages.js';
import { canonicalType, normalizeTopic } from './names.js';
import { resolveQos, type QosProfile } from './qos.js';
import type { ReaderOptions, TopicEndpointInfo, Transport, TransportEvent } from './transport.js';

export interface Ros2Stats {
  sent: number;
  received: number;
  bytes_sent: number;
  bytes_received: number;
  /** Samples that did not decode as their type (plus those the transport refused on arrival). */
  dropped_malformed: number;
  qos_incompatible: number;
  deadline_missed: number;
  /** Samples a reader never got (gaps in best-effort streams), as DDS reports them. */
  sample_lost: number;
  /** Samples a reader refused for lack of resources. */
  sample_rejected: number;
  /** Samples pushed out of a reader's keep_last history before they were taken (DDS counts these nowhere). */
  history_overwritten: number;
}

export interface Ros2Event {
  topic: string;
  type: string;
  endpoint: 'publisher' | 'subscriber';
  event: TransportEvent;
  /** A readable one-line description (for logs and the CLI). */
  message: string;
}

export interface Ros2Publisher<T = unknown> {
  readonly topic: string;
  readonly type: string;
  publish(msg: T): void;
  /** Publishes bytes that are already CDR (encapsulation header included). */
  publishRaw(cdr: Uint8Array): void;
  /** Subscribers currently matched. */
  matched(): number;
  /** Resolves true once at least `count` subscribers are matched, false on timeout. */
  waitForSubscribers(count?: number, timeoutMs?: number): Promise<boolean>;
  /** Resolves true once matched reliable subscribers acknowledged all samples, false on timeout. */
  flush(timeoutMs?: number): Promise<boolean>;
  close(): void;
}

export interface TopicInfo {
  name: string;
  types: string[];
  publishers: number;
  subscribers: number;
}

export interface SubscribeOptions {
  /** Called for a sample that does not decode (it is dropped and counted either way). */
  onMalformed?: (err: MessageDecodeError, bytes: Uint8Array) => void;
  /**
   * Called when the subscription closes with the samples the transport refused on arrival
   * (before JavaScript saw them) since it opened; each refusal is reported to one subscription.
   */
  onRefused?: (count: number) => void;
  /** Called when the subscription closes with the samples its keep_last history pushed out untaken. */
  onOverwritten?: (count: number) => void;
}

/**
 * From this size bound on, publish() serializes into a sample the transport lends: below it,
 * a copy out of the publisher's kept buffer costs less than setting a loan up.
 */
const LOAN_MIN_BYTES = 64 * 1024;

export class Ros2Context {
  readonly transport: Transport;
  readonly registry: MessageRegistry;
  readonly nodeName: string;
  #stats: Ros2Stats = {
    sent: 0, received: 0, bytes_sent: 0, bytes_received: 0,
    dropped_malformed: 0, qos_incompatible: 0, deadline_missed: 0, sample_lost: 0, sample_rejected: 0, history_overwritten: 0,
  };
  #refusedBy = new Set<{ refused(): number; overwritten(): number }>();
  #refusedClosed = 0;
  #overwrittenClosed = 0;
  /** Per type: transport refusals already reported to a subscription's onRefused. */
  #refusedReported = new Map<string, number>();
  #events = new Subject<Ros2Event>();
  #closers = new Set<() => void>();
  #closed = false;

  constructor(transport: Transport, opts: { registry?: MessageRegistry; nodeName?: string } = {}) {
    this.transport = transport;
    this.registry = opts.registry ?? messageRegistry();
    this.nodeName = opts.nodeName ?? 'xauto';
  }

  /** Status events: incompatible QoS, missed deadlines, lost samples, matches. */
  get events(): Observable<Ros2Event> {
    return this.#events.asObservable();
  }

  publisher<T = unknown>(topic: string, type: string, qos?: string | Partial<QosProfile>): Ros2Publisher<T> {
    const name = normalizeTopic(topic);
    const t = canonicalType(type);
    const compiled = this.registry.compile(t);
    const profile = resolveQos(qos);
    const raw = this.transport.createWriter(name, t, profile, (e) => this.#onEvent(name, t, 'publisher', e));
    const stats = this.#stats;
    const writer = compiled.writer;
    const codec = compiled.codec;
    let closed = false;
    let scratch = new ArrayBuffer(256);
    let scratchU8 = new Uint8Array(scratch);
    const close = (): void => {
      if (closed) return;
      closed = true;
      this.#closers.delete(close);
      raw.close();
    };
    this.#closers.add(close);
    const publishRaw = (cdr: Uint8Array): void => {
      raw.write(cdr);
      stats.sent++;
      stats.bytes_sent += cdr.byteLength;
    };
    // The compiled codec writes into the publisher's buffer (grown to the message's size bound,
    // then kept), and the transport takes its first `length` bytes: no allocation per message.
    // A large message is serialized straight into the outgoing sample the transport lends, so
    // its bytes are written once instead of serialized and then copied.
    const publishCompiled = (msg: T): void => {
      let length: number;
      let loan: Uint8Array | undefined;
      try {
        const bound = codec!.maxSize(msg);
        if (bound >= LOAN_MIN_BYTES && raw.loan) {
          loan = raw.loan(bound);
          length = codec!.encodeInto(msg, loan);
        } else {
          if (bound > scratchU8.byteLength) scratchU8 = new Uint8Array(Math.max(bound, scratchU8.byteLength * 2));
          length = codec!.encodeInto(msg, scratchU8);
        }
      } catch (err) {
        throw new Error(`${name} (${t}): message does not serialize: ${(err as Error).message}`);
      }
      if (loan) raw.commit!(loan, length);
      else raw.write(scratchU8, length);
      stats.sent++;
      stats.bytes_sent += length;
    };
    return {
      topic: name,
      type: t,
      publish: (msg: T) => {
        if (closed) throw new Error(`xauto ros2: publisher on ${name} is closed`);
        if (codec) return publishCompiled(msg);
        let cdr: Uint8Array;
        try {
          // Serialize into a buffer kept by the publisher: no allocation per message, and one
          // pass over the message (CdrWriter grows the buffer itself when it is too small, so
          // no size pass first); a grown buffer is kept for the next message.
          // MessageWriter hands `output` to CdrWriter, which takes it as its ArrayBuffer.
          cdr = writer.writeMessage(msg, scratch as unknown as Uint8Array);
          if (cdr.buffer !== scratch) scratch = cdr.buffer as ArrayBuffer;
        } catch (err) {
          throw new Error(`${name} (${t}): message does not serialize: ${(err as Error).message}`);
        }
        publishRaw(cdr);
      },
      publishRaw,
      matched: () => raw.matched(),
      waitForSubscribers: (count = 1, timeoutMs = 5000) => waitFor(() => raw.matched() >= count, timeoutMs),
      flush: (timeoutMs = 2000) => waitFor(() => raw.acked(), timeoutMs),
      close,
    };
  }

  /**
   * Messages on `topic` as plain objects in @foxglove/rosmsg2-serialization's layout. Each
   * subscription opens its own reader; unsubscribing closes it. Samples that do not decode are
   * dropped and counted (stats().dropped_malformed), never thrown into the stream.
   */
  subscribe<T = unknown>(topic: string, type: string, qos?: string | Partial<QosProfile>, opts: SubscribeOptions = {}): Observable<T> {
    const t = canonicalType(type);
    const compiled = this.registry.compile(t);
    const stats = this.#stats;
    return new Observable<T>((sub) => {
      const name = normalizeTopic(topic);
      const closeRaw = this.#openReader(name, t, qos, (cdr) => {
        let msg: T;
        try {
          msg = decodeSample<T>(compiled, cdr);
        } catch (err) {
          stats.dropped_malformed++;
          opts.onMalformed?.(new MessageDecodeError(`${name} (${t}): CDR payload of ${cdr.byteLength} bytes does not decode (${(err as Error).message})`), cdr);
          return;
        }
        stats.received++;
        stats.bytes_received += cdr.byteLength;
        sub.next(msg);
      }, () => sub.complete(), opts.onRefused, opts.onOverwritten);
      return closeRaw;
    });
  }

  /**
   * CDR samples on `topic` without decoding (for relays, recorders and `topic hz`). With
   * `lend`, each sample is the subscriber's only during its next() call (see ReaderOptions):
   * for consumers that finish with the bytes before returning, whose large samples then go
   * back to the transport at once instead of when V8's GC finds them.
   */
  subscribeRaw(topic: string, type: string, qos?: string | Partial<QosProfile>, opts: ReaderOptions = {}): Observable<Uint8Array> {
    const t = canonicalType(type);
    const stats = this.#stats;
    return new Observable<Uint8Array>((sub) => {
      const name = normalizeTopic(topic);
      return this.#openReader(name, t, qos, (cdr) => {
        stats.received++;
        stats.bytes_received += cdr.byteLength;
        sub.next(cdr);
      }, () => sub.complete(), undefined, undefined, opts);
    });
  }

  #openReader(
    name: string,
    type: string,
    qos: string | Partial<QosProfile> | undefined,
    onData: (cdr: Uint8Array) => void,
    onClose: () => void,
    onRefused?: (count: number) => void,
    onOverwritten?: (count: number) => void,
    readerOpts?: ReaderOptions,
  ): () => void {
    if (this.#closed) throw new Error('xauto ros2: context is closed');
    const raw = this.transport.createReader(name, type, resolveQos(qos), onData, (e) => this.#onEvent(name, type, 'subscriber', e), readerOpts);
    this.#refusedBy.add(raw);
    const refusedAtOpen = raw.refused();
    let closed = false;
    const close = (): void => {
      if (closed) return;
      closed = true;
      this.#closers.delete(closeAndComplete);
      const refused = raw.refused();
      const overwritten = raw.overwritten();
      this.#refusedClosed += refused;
      this.#overwrittenClosed += overwritten;
      this.#refusedBy.delete(raw);
      raw.close();
      if (overwritten > 0) onOverwritten?.(overwritten);
      if (onRefused) {
        const from = Math.max(refusedAtOpen, this.#refusedReported.get(type) ?? 0);
        this.#refusedReported.set(type, Math.max(refused, this.#refusedReported.get(type) ?? 0));
        if (refused > from) onRefused(refused - from);
      }
    };
    const closeAndComplete = (): void => {
      close();
      onClose();
    };
    this.#closers.add(closeAndComplete);
    return close;
  }

  /** Topics seen on the graph (this process included), with their types and endpoint counts. */
  async topics(): Promise<TopicInfo[]> {
    const byName = new Map<string, TopicInfo>();
    for (const e of await this.transport.endpoints()) {
      let t = byName.get(e.topic);
      if (!t) byName.set(e.topic, (t = { name: e.topic, types: [], publishers: 0, subscribers: 0 }));
      if (!t.types.includes(e.type)) t.types.push(e.type);
      if (e.kind === 'publisher') t.publishers++;
      else t.subscribers++;
    }
    return [...byName.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  /** Every endpoint discovered, with its QoS (for `topic info --verbose`). */
  endpoints(): Promise<TopicEndpointInfo[]> {
    return this.transport.endpoints();
  }

  stats(): Ros2Stats {
    let refused = this.#refusedClosed;
    let overwritten = this.#overwrittenClosed;
    for (const r of this.#refusedBy) {
      refused += r.refused();
      overwritten += r.overwritten();
    }
    return { ...this.#stats, dropped_malformed: this.#stats.dropped_malformed + refused, history_overwritten: overwritten };
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const c of [...this.#closers]) c();
    this.#events.complete();
    this.transport.close();
  }

  #onEvent(topic: string, type: string, endpoint: 'publisher' | 'subscriber', e: TransportEvent): void {
    let message: string;
    switch (e.kind) {
      case 'incompatible_qos':
        this.#stats.qos_incompatible++;
        message = `${topic}: ${endpoint} QoS incompatible with a remote ${endpoint === 'publisher' ? 'subscriber' : 'publisher'} (policy: ${e.policy})`;
        break;
      case 'deadline_missed':
        this.#stats.deadline_missed++;
        message = `${topic}: ${endpoint} missed its deadline (${e.total} so far)`;
        break;
      case 'sample_lost':
        this.#stats.sample_lost += Math.max(0, e.change);
        message = `${topic}: ${e.change} sample(s) lost (${e.total} so far)`;
        break;
      case 'sample_rejected':
        this.#stats.sample_rejected += Math.max(0, e.change);
        message = `${topic}: ${e.change} sample(s) rejected for lack of resources (${e.total} so far)`;
        break;
      case 'matched':
        message = `${topic}: ${endpoint} matched ${e.current} remote endpoint(s)`;
        break;
    }
    this.#events.next({ topic, type, endpoint, event: e, message });
  }
}

function waitFor(pred: () => boolean, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    if (pred()) return resolve(true);
    const start = Date.now();
    const timer = setInterval(() => {
      if (pred()) {
        clearInterval(timer);
        resolve(true);
      } else if (Date.now() - start >= timeoutMs) {
        clearInterval(timer);
        resolve(false);
      }
    }, 10);
  });
}
