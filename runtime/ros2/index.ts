// ROS2 interop: messages (CDR), transports (native Cyclone DDS, rclnodejs), rxjs topics.
import { Ros2Context } from './context.js';
import type { BusyPoll } from './dds-native.js';
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
   * time during the window); 0: never. Default: XAUTO_DDS_BUSY_POLL_US, else adaptive
   * (ADAPTIVE_POLL_US after the writes that replies follow; a thread that only publishes never polls).
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
  const busyPoll = opts.busyPollUs !== undefined ? checkedPoll(opts.busyPollUs, 'busyPollUs') : busyPollFromEnv();
  let transport: Transport;
  if (kind === 'dds') transport = new DdsTransport(domainId, { busyPoll });
  else if (kind === 'rclnodejs') transport = await RclnodejsTransport.open({ domainId, nodeName });
  else {
    try {
      transport = process.env.AMENT_PREFIX_PATH ? await RclnodejsTransport.open({ domainId, nodeName }) : new DdsTransport(domainId, { busyPoll });
    } catch (err) {
      if (!(err instanceof RclnodejsUnavailable)) throw err;
      console.warn(`xauto ros2: ${err.message}; using the native DDS transport`);
      transport = new DdsTransport(domainId, { busyPoll });
    }
  }
  return new Ros2Context(transport, { nodeName });
}

/**
 * The adaptive busy-poll window (us): a few loopback round trips of a 2-core VM (60-80 us), so
 * the reply to a request is taken while the loop polls; it opens only after writes that
 * replies follow (native/dds/busy_poll.cc).
 */
export const ADAPTIVE_POLL_US = 150;

/** XAUTO_DDS_BUSY_POLL_US: a window after every write (us; 0: never); unset: adaptive. */
export function busyPollFromEnv(env: NodeJS.ProcessEnv = process.env): BusyPoll {
  const raw = env.XAUTO_DDS_BUSY_POLL_US;
  if (raw === undefined || raw.trim() === '') return { us: ADAPTIVE_POLL_US, adaptive: true };
  return checkedPoll(Number(raw), `XAUTO_DDS_BUSY_POLL_US='${raw}'`);
}

function checkedPoll(n: number, what: string): BusyPoll {
  if (!Number.isFinite(n) || n < 0 || n > 1e6) throw new Error(`xauto ros2: ${what}: expected microseconds between 0 and 1000000`);
  return { us: n, adaptive: false };
}
