// ROS2 interop: messages (CDR), transports (native Cyclone DDS, rclnodejs), rxjs topics.
import { Ros2Context } from './context.js';
import { DdsTransport } from './dds-transport.js';
import { domainFromEnv, Ros2NameError } from './names.js';
import { RclnodejsTransport, RclnodejsUnavailable } from './rclnodejs-transport.js';
import type { Transport } from './transport.js';

export { Ros2Context } from './context.js';
export type { Ros2Event, Ros2Publisher, Ros2Stats, SubscribeOptions, TopicInfo } from './context.js';
export { decodeCdr, MessageDecodeError, MessageRegistry, MessageTypeError, messageRegistry } from './messages.js';
export type { CompiledType, MessageDefinition, MessageRegistryOptions } from './messages.js';
export { canonicalType, ddsToTopic, ddsToType, domainFromEnv, normalizeTopic, Ros2NameError, topicToDds, typeToDds } from './names.js';
export { QOS_PROFILES, QosError, resolveQos } from './qos.js';
export type { Durability, History, QosProfile, Reliability } from './qos.js';
export { RclnodejsTransport, RclnodejsUnavailable } from './rclnodejs-transport.js';
export { DdsUnavailable } from './dds-native.js';
export { DdsTransport } from './dds-transport.js';
export type { RawReader, RawWriter, ReaderOptions, TopicEndpointInfo, Transport, TransportEvent } from './transport.js';
export { MessageValueError, messageToYaml, toMessage } from './values.js';

export interface OpenRos2Options {
  /** DDS domain; defaults to ROS_DOMAIN_ID (0 when unset). */
  domainId?: number;
  /**
   * 'dds': native Cyclone DDS (no ROS2 install needed); 'rclnodejs': through a sourced ROS2;
   * 'auto' (default): rclnodejs when a distro is sourced and usable, else dds.
   */
  transport?: 'dds' | 'rclnodejs' | 'auto';
  nodeName?: string;
  /**
   * Native DDS only: microseconds this thread's event loop polls instead of sleeping after each
   * publish, so a reply arrives without a thread wake-up (request/reply latency for a core's
   * time during the window). Default: XAUTO_DDS_BUSY_POLL_US, else 0 (off).
   */
  busyPollUs?: number;
}

export async function openRos2(opts: OpenRos2Options = {}): Promise<Ros2Context> {
  const domainId = opts.domainId ?? domainFromEnv();
  if (!Number.isInteger(domainId) || domainId < 0 || domainId > 232) {
    throw new Ros2NameError(`DDS domain ${domainId}: expected an integer between 0 and 232`);
  }
  const nodeName = opts.nodeName ?? 'xauto';
  const kind = opts.transport ?? 'auto';
  const busyPollUs = opts.busyPollUs ?? busyPollFromEnv();
  let transport: Transport;
  if (kind === 'dds') transport = new DdsTransport(domainId, { busyPollUs });
  else if (kind === 'rclnodejs') transport = await RclnodejsTransport.open({ domainId, nodeName });
  else {
    try {
      transport = process.env.AMENT_PREFIX_PATH ? await RclnodejsTransport.open({ domainId, nodeName }) : new DdsTransport(domainId, { busyPollUs });
    } catch (err) {
      if (!(err instanceof RclnodejsUnavailable)) throw err;
      console.warn(`xauto ros2: ${err.message}; using the native DDS transport`);
      transport = new DdsTransport(domainId, { busyPollUs });
    }
  }
  return new Ros2Context(transport, { nodeName });
}

/** XAUTO_DDS_BUSY_POLL_US: the busy-poll window (us), 0 when unset. */
export function busyPollFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.XAUTO_DDS_BUSY_POLL_US;
  if (raw === undefined || raw.trim() === '') return 0;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0 || n > 1e6) throw new Error(`xauto ros2: XAUTO_DDS_BUSY_POLL_US='${raw}': expected microseconds between 0 and 1000000`);
  return n;
}
