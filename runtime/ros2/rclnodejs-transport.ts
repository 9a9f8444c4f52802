// The rclnodejs transport: used when a ROS2 distro is sourced. Messages still travel as CDR
// (raw publish / isRaw subscriptions), so the context above is the same as for native DDS.
import type { QosProfile } from './qos.js';
import type { RawReader, RawWriter, TopicEndpointInfo, Transport, TransportEvent } from './transport.js';

/** The part of rclnodejs this transport uses (so a stand-in can be injected where ROS2 is absent). */
export interface RclnodejsLike {
  init(): Promise<void>;
  createNode(name: string, namespace?: string): RclNodeLike;
  QoS: new (history: number, depth: number, reliability: number, durability: number) => unknown;
  shutdown(): void;
}

export interface RclNodeLike {
  createPublisher(type: string, topic: string, options: { qos: unknown }): { publish(msg: Buffer): void; subscriptionCount?: number };
  createSubscription(type: string, topic: string, options: { qos: unknown; isRaw: boolean }, cb: (msg: Buffer) => void): unknown;
  destroyPublisher(p: unknown): void;
  destroySubscription(s: unknown): void;
  getTopicNamesAndTypes(): Array<{ name: string; types: string[] }>;
  countPublishers(topic: string): number;
  countSubscribers(topic: string): number;
  spin(timeoutMs?: number): void;
  destroy(): void;
}

export class RclnodejsUnavailable extends Error {
  override name = 'RclnodejsUnavailable';
}

const HISTORY = { keep_last: 1, keep_all: 2 } as const;
const RELIABILITY = { reliable: 1, best_effort: 2 } as const;
const DURABILITY = { transient_local: 1, volatile: 2 } as const;

/** Loads rclnodejs by dynamic import; throws RclnodejsUnavailable with a one-line reason. */
export async function loadRclnodejs(): Promise<RclnodejsLike> {
  if (!process.env.AMENT_PREFIX_PATH) {
    throw new RclnodejsUnavailable('rclnodejs transport needs a sourced ROS2 distro (AMENT_PREFIX_PATH is not set; run `source /opt/ros/<distro>/setup.bash`)');
  }
  try {
    const name = 'rclnodejs';
    const mod = (await import(name)) as { default?: RclnodejsLike } & RclnodejsLike;
    return mod.default ?? mod;
  } catch (err) {
    throw new RclnodejsUnavailable(`rclnodejs is not usable: ${(err as Error).message.split('\n')[0]} (install it with \`npm install rclnodejs\` in a shell where ROS2 is sourced)`);
  }
}

export class RclnodejsTransport implements Transport {
  readonly name = 'rclnodejs' as const;
  readonly domainId: number;
  #rcl: RclnodejsLike;
  #node: RclNodeLike;
  #closers = new Set<() => void>();
  #closed = false;

  private constructor(rcl: RclnodejsLike, node: RclNodeLike, domainId: number) {
    this.#rcl = rcl;
    this.#node = node;
    this.domainId = domainId;
  }

  /** rclnodejs reads ROS_DOMAIN_ID itself; `domainId` is set there before init. */
  static async open(opts: { domainId: number; nodeName: string; rclnodejs?: RclnodejsLike }): Promise<RclnodejsTransport> {
    const rcl = opts.rclnodejs ?? (await loadRclnodejs());
    process.env.ROS_DOMAIN_ID = String(opts.domainId);
    await rcl.init();
    const node = rcl.createNode(opts.nodeName);
    node.spin();
    return new RclnodejsTransport(rcl, node, opts.domainId);
  }

  #qos(q: QosProfile): unknown {
    return new this.#rcl.QoS(HISTORY[q.history], q.depth, RELIABILITY[q.reliability], DURABILITY[q.durability]);
  }

  createWriter(topic: string, type: string, qos: QosProfile, _onEvent: (e: TransportEvent) => void): RawWriter {
    const pub = this.#node.createPublisher(type, topic, { qos: this.#qos(qos) });
    const close = (): void => {
      if (this.#closers.delete(close)) this.#node.destroyPublisher(pub);
    };
    this.#closers.add(close);
    return {
      // A Buffer is published as an already serialized message.
      write: (cdr, length = cdr.byteLength) => pub.publish(Buffer.from(cdr.buffer, cdr.byteOffset, length)),
      matched: () => this.#node.countSubscribers(topic),
      // rcl offers no acknowledgement query; callers keep a short grace period instead.
      acked: () => true,
      close,
    };
  }

  createReader(topic: string, type: string, qos: QosProfile, onData: (cdr: Uint8Array) => void, _onEvent: (e: TransportEvent) => void): RawReader {
    const sub = this.#node.createSubscription(type, topic, { qos: this.#qos(qos), isRaw: true }, (msg) => onData(msg));
    const close = (): void => {
      if (this.#closers.delete(close)) this.#node.destroySubscription(sub);
    };
    this.#closers.add(close);
    return { matched: () => this.#node.countPublishers(topic), refused: () => 0, overwritten: () => 0, close };
  }

  async endpoints(): Promise<TopicEndpointInfo[]> {
    const out: TopicEndpointInfo[] = [];
    for (const t of this.#node.getTopicNamesAndTypes()) {
      const type = t.types[0] ?? '';
      for (let i = 0; i < this.#node.countPublishers(t.name); i++) out.push({ kind: 'publisher', topic: t.name, type, participant: '', qos: {} });
      for (let i = 0; i < this.#node.countSubscribers(t.name); i++) out.push({ kind: 'subscriber', topic: t.name, type, participant: '', qos: {} });
    }
    return out;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const c of [...this.#closers]) c();
    this.#node.destroy();
    this.#rcl.shutdown();
  }
}
