// Typed face of the xauto_dds addon (native/dds).
import { loadAddon } from '../util/native.js';
import type { QosProfile } from './qos.js';

export interface NativeStatusEvent {
  kind: 'incompatible_qos' | 'deadline_missed' | 'sample_lost' | 'sample_rejected' | 'matched';
  total: number;
  change: number;
  policy: number;
  current: number;
}

export interface NativeEndpoint {
  kind: 'publisher' | 'subscriber';
  topic: string;
  type: string;
  guid: string;
  participant: string;
  reliability?: 'reliable' | 'best_effort';
  durability?: 'volatile' | 'transient_local' | 'transient';
  history?: 'keep_last' | 'keep_all';
  depth?: number;
  deadlineMs?: number;
}

export interface DdsAddon {
  createParticipant(domainId: number): number;
  createTopic(participant: number, ddsTopic: string, ddsType: string): number;
  createWriter(participant: number, topic: number, qos: QosProfile, onEvent: (e: NativeStatusEvent) => void): number;
  createReader(
    participant: number,
    topic: number,
    qos: QosProfile,
    /** Absent for a relaying reader (relay()). */
    onData: ((cdr: Uint8Array) => void) | undefined,
    onEvent: (e: NativeStatusEvent) => void,
    /** Lend each sample to onData only while it runs: detached when it returns. */
    lend?: boolean,
  ): number;
  /** Sends the first `length` bytes of `cdr` (copied once into a pooled DDS sample). */
  write(writer: number, cdr: Uint8Array, length: number): void;
  /**
   * A DDS sample's own memory, `size` bytes, to serialize into; commit() sends it and detaches
   * the Uint8Array (it reads as empty after, so it cannot touch the sample being sent).
   */
  loan(writer: number, size: number): Uint8Array;
  /** Sends the first `length` bytes of a loan of this writer; the loan is spent either way. */
  commit(writer: number, loan: Uint8Array, length: number): void;
  matched(endpoint: number): number;
  acked(writer: number): boolean;
  /**
   * This thread's event loop polls without sleeping for `us` after each write (0: off; adaptive:
   * only after writes that replies follow, native/dds/busy_poll.cc); returns the previous setting.
   */
  busyPoll(us: number, adaptive?: boolean): BusyPoll;
  /** Event-loop turns this thread has busy-polled through so far. */
  busyPollTurns(): number;
  /** Writes on this thread that opened a polling window so far. */
  busyPollWrites(): number;
  malformed(reader: number): number;
  /** Samples the reader's keep_last history pushed out before they were taken. */
  overwritten(reader: number): number;
  /**
   * Recent timings (us, then cleared): a reader's listener wake-up to JS take, take to its data
   * callback, and each data callback; a writer's dds_writecdr calls.
   */
  timing(endpoint: number): { wakeUs?: Float32Array; takeUs?: Float32Array; deliverUs?: Float32Array; sendUs?: Float32Array };
  /** Relays every sample `reader` gets to `writer` on Cyclone's receive thread; with the reader alone, the count relayed. */
  relay(reader: number, writer?: number): number;
  deleteEndpoint(endpoint: number): void;
  deleteEntity(entity: number): void;
  endpoints(participant: number): NativeEndpoint[];
  shutdown(): void;
  version(): string;
}

let addon: DdsAddon | undefined;

export class DdsUnavailable extends Error {
  override name = 'DdsUnavailable';
}

/** Loads the addon once; stops DDS cleanly when the process exits. */
export function ddsAddon(): DdsAddon {
  if (addon) return addon;
  let a: DdsAddon;
  try {
    a = loadAddon<DdsAddon>('dds');
  } catch (err) {
    throw new DdsUnavailable(`native DDS transport unavailable: ${(err as Error).message} (it needs Cyclone DDS 0.10: apt-get install cyclonedds-dev)`);
  }
  process.once('exit', () => a.shutdown());
  addon = a;
  return a;
}

/** A thread's busy-poll setting: the window after a write (us; 0 off), and whether only writes that replies follow open it. */
export interface BusyPoll {
  us: number;
  adaptive: boolean;
}
