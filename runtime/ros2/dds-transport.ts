// The native Cyclone DDS transport: one DDS participant per context, topics with the raw-CDR
// serializer type, ROS2 naming (rt/ prefix, pkg::msg::dds_::T_).
import { ddsAddon, type BusyPoll, type DdsAddon, type NativeEndpoint, type NativeStatusEvent } from './dds-native.js';
import { ddsToTopic, ddsToType, topicToDds, typeToDds } from './names.js';
import { QOS_POLICY_NAMES, type QosProfile } from './qos.js';
import type { RawReader, RawWriter, ReaderOptions, TopicEndpointInfo, Transport, TransportEvent } from './transport.js';

function toEvent(e: NativeStatusEvent): TransportEvent {
  switch (e.kind) {
    case 'incompatible_qos':
      return { kind: 'incompatible_qos', policy: QOS_POLICY_NAMES[e.policy] ?? `policy ${e.policy}`, total: e.total };
    case 'matched':
      return { kind: 'matched', current: e.current };
    case 'sample_lost':
    case 'sample_rejected':
      return { kind: e.kind, total: e.total, change: e.change };
    default:
      return { kind: e.kind, total: e.total };
  }
}

export class DdsTransport implements Transport {
  readonly name = 'dds' as const;
  readonly domainId: number;
  #dds: DdsAddon;
  #participant: number;
  #topics = new Map<string, number>();
  #endpoints = new Set<number>();
  #readers = new Map<number, string>();
  #writers = new Map<number, string>();
  #closed = false;
  /** The thread's busy-poll setting before this transport set its own (restored at close). */
  #prevPoll: BusyPoll | undefined;

  /**
   * busyPoll: after a write, this thread's event loop polls for `us` instead of sleeping
   * (native/dds/busy_poll.cc), so a reply is taken without a thread wake-up; it costs the
   * thread's core for the window. Adaptive: only writes that replies have followed open it.
   * It applies to the whole thread. Unset: the thread's setting is left as it is.
   */
  constructor(domainId: number, opts: { busyPoll?: BusyPoll } = {}) {
    applyLocalhostOnly();
    this.#dds = ddsAddon();
    this.domainId = domainId;
    this.#participant = this.#dds.createParticipant(domainId);
    if (opts.busyPoll) this.#prevPoll = this.#dds.busyPoll(opts.busyPoll.us, opts.busyPoll.adaptive);
  }

  #topic(topic: string, type: string): number {
    const ddsTopic = topicToDds(topic);
    const ddsType = typeToDds(type);
    const key = `${ddsTopic}\u0000${ddsType}`;
    let t = this.#topics.get(key);
    if (t === undefined) {
      t = this.#dds.createTopic(this.#participant, ddsTopic, ddsType);
      this.#topics.set(key, t);
    }
    return t;
  }

  createWriter(topic: string, type: string, qos: QosProfile, onEvent: (e: TransportEvent) => void): RawWriter {
    this.#check();
    const dds = this.#dds;
    const w = dds.createWriter(this.#participant, this.#topic(topic, type), qos, (e) => onEvent(toEvent(e)));
    this.#endpoints.add(w);
    this.#writers.set(w, topic);
    return {
      write: (cdr, length) => dds.write(w, cdr, length ?? cdr.byteLength),
      loan: (size) => dds.loan(w, size),
      commit: (loan, length) => dds.commit(w, loan, length),
      matched: () => dds.matched(w),
      acked: () => dds.acked(w),
      close: () => {
        this.#writers.delete(w);
        if (this.#endpoints.delete(w)) dds.deleteEndpoint(w);
      },
    };
  }

  createReader(
    topic: string,
    type: string,
    qos: QosProfile,
    onData: (cdr: Uint8Array) => void,
    onEvent: (e: TransportEvent) => void,
    opts: ReaderOptions = {},
  ): RawReader {
    this.#check();
    const dds = this.#dds;
    const r = dds.createReader(this.#participant, this.#topic(topic, type), qos, onData, (e) => onEvent(toEvent(e)), opts.lend === true);
    this.#endpoints.add(r);
    this.#readers.set(r, topic);
    return {
      matched: () => dds.matched(r),
      refused: () => dds.malformed(r),
      overwritten: () => dds.overwritten(r),
      close: () => {
        this.#readers.delete(r);
        if (this.#endpoints.delete(r)) dds.deleteEndpoint(r);
      },
    };
  }

  /**
   * Where arriving samples of `topic` spent their time since the last call (for benchmarks):
   * from Cyclone's listener thread signalling (or this thread's last write returning, when
   * later) to the JS thread taking them (`wakeUs`), from
   * there to the JS data callback (`takeUs`: dds_takecdr and the sample's ArrayBuffer), and in
   * each JS data callback: decode, rxjs and the application (`deliverUs`).
   */
  arrivalTimings(topic: string): { wakeUs: number[]; takeUs: number[]; deliverUs: number[] } {
    const out = { wakeUs: [] as number[], takeUs: [] as number[], deliverUs: [] as number[] };
    for (const [r, t] of this.#readers) {
      if (t !== topic) continue;
      const { wakeUs = [], takeUs = [], deliverUs = [] } = this.#dds.timing(r);
      out.wakeUs.push(...wakeUs);
      out.takeUs.push(...takeUs);
      out.deliverUs.push(...deliverUs);
    }
    return out;
  }

  /**
   * A topic relay inside the native layer: every sample on `from` is written to `to` from
   * Cyclone's receive thread, bytes unchanged, without a JavaScript round trip (as the C relay
   * the tests use does). For forwarding where nothing in JavaScript looks at the samples.
   */
  relay(from: string, to: string, type: string, qos: QosProfile): { relayed(): number; matched(): number; close(): void } {
    this.#check();
    const dds = this.#dds;
    const w = dds.createWriter(this.#participant, this.#topic(to, type), qos, () => {});
    this.#endpoints.add(w);
    const r = dds.createReader(this.#participant, this.#topic(from, type), qos, undefined, () => {});
    this.#endpoints.add(r);
    dds.relay(r, w);
    return {
      relayed: () => (this.#endpoints.has(r) ? dds.relay(r) : 0),
      /** Subscribers of `to` matched by the relay's writer. */
      matched: () => (this.#endpoints.has(w) ? dds.matched(w) : 0),
      close: () => {
        for (const e of [r, w]) if (this.#endpoints.delete(e)) dds.deleteEndpoint(e);
      },
    };
  }

  /** Each dds_writecdr call of `topic`'s writers since the last call (us): Cyclone's send on the calling thread. */
  sendTimings(topic: string): number[] {
    const out: number[] = [];
    for (const [w, t] of this.#writers) if (t === topic) out.push(...(this.#dds.timing(w).sendUs ?? []));
    return out;
  }

  async endpoints(): Promise<TopicEndpointInfo[]> {
    this.#check();
    return this.#dds.endpoints(this.#participant).filter((e) => !e.topic.startsWith('DCPS')).map(toInfo);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const e of this.#endpoints) this.#dds.deleteEndpoint(e);
    this.#endpoints.clear();
    for (const t of this.#topics.values()) this.#dds.deleteEntity(t);
    this.#topics.clear();
    this.#dds.deleteEntity(this.#participant);
    if (this.#prevPoll !== undefined) this.#dds.busyPoll(this.#prevPoll.us, this.#prevPoll.adaptive);
  }

  #check(): void {
    if (this.#closed) throw new Error('xauto ros2: context is closed');
  }
}

/**
 * ROS_LOCALHOST_ONLY=1 (Humble/Iron) or ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST (Jazzy) keep
 * ROS2 traffic on loopback; without a Cyclone config of the user's own, do the same here.
 * Cyclone reads CYCLONEDDS_URI (which may hold the XML itself) when the first participant opens.
 */
function applyLocalhostOnly(env: NodeJS.ProcessEnv = process.env): void {
  const local = env.ROS_LOCALHOST_ONLY === '1' || env.ROS_AUTOMATIC_DISCOVERY_RANGE?.toUpperCase() === 'LOCALHOST';
  if (!local || env.CYCLONEDDS_URI) return;
  env.CYCLONEDDS_URI =
    '<CycloneDDS><Domain Id="any"><General><Interfaces><NetworkInterface address="127.0.0.1"/></Interfaces>' +
    '<AllowMulticast>false</AllowMulticast></General><Discovery><ParticipantIndex>auto</ParticipantIndex>' +
    '<MaxAutoParticipantIndex>100</MaxAutoParticipantIndex><Peers><Peer Address="127.0.0.1"/></Peers></Discovery></Domain></CycloneDDS>';
}

function toInfo(e: NativeEndpoint): TopicEndpointInfo {
  const qos: TopicEndpointInfo['qos'] = {};
  if (e.reliability) qos.reliability = e.reliability;
  if (e.durability === 'volatile' || e.durability === 'transient_local') qos.durability = e.durability;
  if (e.history) qos.history = e.history;
  if (e.depth !== undefined) qos.depth = e.depth;
  if (e.deadlineMs !== undefined) qos.deadlineMs = e.deadlineMs;
  return {
    kind: e.kind,
    topic: ddsToTopic(e.topic) ?? e.topic,
    type: ddsToType(e.type) ?? e.type,
    participant: e.participant,
    qos,
  };
}
