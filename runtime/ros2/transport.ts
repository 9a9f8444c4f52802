// What a ROS2 transport provides: typed topics carried as CDR bytes. The context above it
// (context.ts) does (de)serialization, rxjs streams and statistics the same way for all.
import type { QosProfile } from './qos.js';

export interface TopicEndpointInfo {
  kind: 'publisher' | 'subscriber';
  /** ROS2 topic name (`/a/b`); DDS-only topics keep their DDS name. */
  topic: string;
  /** ROS2 type name (`pkg/msg/T`); non-ROS2 types keep their DDS name. */
  type: string;
  /** Participant (process-level node) the endpoint belongs to. */
  participant: string;
  qos: Partial<QosProfile>;
}

export type TransportEvent =
  | { kind: 'incompatible_qos'; policy: string; total: number }
  | { kind: 'deadline_missed'; total: number }
  /** Samples the reader never got (a gap in a best-effort stream), `change` since the last event. */
  | { kind: 'sample_lost'; total: number; change: number }
  /** Samples the reader refused for lack of resources (history/resource limits). */
  | { kind: 'sample_rejected'; total: number; change: number }
  | { kind: 'matched'; current: number };

export interface RawWriter {
  /**
   * Sends one CDR-encoded sample (encapsulation header included): `cdr`'s first `length` bytes
   * (default: all); the bytes may be reused after.
   */
  write(cdr: Uint8Array, length?: number): void;
  /**
   * Where the transport can: `size` bytes of an outgoing sample's own memory to serialize into
   * (no copy on the way out). Ownership: the caller's until commit(), which sends its first
   * `length` bytes and takes the memory back: the array reads as empty afterwards. A loan never
   * committed is simply dropped.
   */
  loan?(size: number): Uint8Array;
  commit?(loan: Uint8Array, length: number): void;
  /** Subscribers currently matched. */
  matched(): number;
  /** True once matched reliable subscribers acknowledged everything written. */
  acked(): boolean;
  close(): void;
}

export interface ReaderOptions {
  /**
   * The samples' bytes are onData's only while it runs: the transport may take them back when
   * it returns (native DDS detaches them: the array then reads as empty and its methods throw),
   * so their memory is reused at once instead of when the GC finds it. A consumer that keeps
   * bytes past the call copies them. Without it, samples are the consumer's to keep.
   */
  lend?: boolean;
}

export interface RawReader {
  matched(): number;
  /** Samples the transport itself refused as malformed before they reached JavaScript. */
  refused(): number;
  /** Samples pushed out of the reader's keep_last history before they were taken (0 where unknown). */
  overwritten(): number;
  close(): void;
}

export interface Transport {
  readonly name: 'dds' | 'rclnodejs';
  readonly domainId: number;
  createWriter(topic: string, type: string, qos: QosProfile, onEvent: (e: TransportEvent) => void): RawWriter;
  createReader(
    topic: string,
    type: string,
    qos: QosProfile,
    onData: (cdr: Uint8Array) => void,
    onEvent: (e: TransportEvent) => void,
    opts?: ReaderOptions,
  ): RawReader;
  endpoints(): Promise<TopicEndpointInfo[]>;
  close(): void;
}
