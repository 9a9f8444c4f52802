// QoS profiles as ROS2 names them (rmw_qos_profile_*), mapped onto DDS policies by the transports.

export type Reliability = 'reliable' | 'best_effort';
export type Durability = 'volatile' | 'transient_local';
export type History = 'keep_last' | 'keep_all';

export interface QosProfile {
  reliability: Reliability;
  durability: Durability;
  history: History;
  depth: number;
  /** Maximum period between samples; missing it raises a deadline_missed event. */
  deadlineMs?: number;
  lifespanMs?: number;
  liveliness?: 'automatic' | 'manual_by_topic';
  leaseMs?: number;
}

export const QOS_PROFILES: Readonly<Record<string, QosProfile>> = {
  /** rmw_qos_profile_default */
  default: { reliability: 'reliable', durability: 'volatile', history: 'keep_last', depth: 10 },
  /** rmw_qos_profile_sensor_data */
  sensor_data: { reliability: 'best_effort', durability: 'volatile', history: 'keep_last', depth: 5 },
  /** rmw_qos_profile_services_default */
  services_default: { reliability: 'reliable', durability: 'volatile', history: 'keep_last', depth: 10 },
  /** rmw_qos_profile_parameters */
  parameters: { reliability: 'reliable', durability: 'volatile', history: 'keep_last', depth: 1000 },
  /** rmw_qos_profile_system_default as Cyclone applies it */
  system_default: { reliability: 'reliable', durability: 'volatile', history: 'keep_last', depth: 1 },
  /** what `ros2 topic pub` uses for latched topics (and /tf_static, /robot_description) */
  latched: { reliability: 'reliable', durability: 'transient_local', history: 'keep_last', depth: 1 },
};

export class QosError extends Error {
  override name = 'QosError';
}

/**
 * Resolves a profile name (`default`, `sensor_data`, ...), a partial profile (merged over
 * `default`), or a compact spec `reliable,transient_local,keep_last:5,deadline:100ms`.
 */
export function resolveQos(qos?: string | Partial<QosProfile>): QosProfile {
  if (qos === undefined) return { ...QOS_PROFILES.default! };
  if (typeof qos === 'object') return validate({ ...QOS_PROFILES.default!, ...qos }, JSON.stringify(qos));
  const named = QOS_PROFILES[qos];
  if (named) return { ...named };
  const p: QosProfile = { ...QOS_PROFILES.default! };
  for (const raw of qos.split(',').map((s) => s.trim()).filter(Boolean)) {
    const [key, val] = raw.split(':') as [string, string | undefined];
    if (key === 'reliable' || key === 'best_effort') p.reliability = key;
    else if (key === 'volatile' || key === 'transient_local') p.durability = key;
    else if (key === 'keep_all') p.history = 'keep_all';
    else if (key === 'keep_last' || key === 'depth') {
      p.history = 'keep_last';
      if (val !== undefined) p.depth = Number(val);
    } else if (key === 'deadline') p.deadlineMs = durationMs(val, raw);
    else if (key === 'lifespan') p.lifespanMs = durationMs(val, raw);
    else if (QOS_PROFILES[key]) Object.assign(p, QOS_PROFILES[key]);
    else {
      throw new QosError(
        `QoS '${qos}': unknown item '${raw}'; expected a profile (${Object.keys(QOS_PROFILES).join(', ')}) or reliable|best_effort, volatile|transient_local, keep_last:N, keep_all, deadline:100ms`,
      );
    }
  }
  return validate(p, qos);
}

function durationMs(val: string | undefined, raw: string): number {
  const m = val ? /^(\d+(?:\.\d+)?)(ms|s|us)?$/.exec(val) : null;
  if (!m) throw new QosError(`QoS item '${raw}': expected a duration such as 100ms or 0.5s`);
  const n = Number(m[1]);
  return m[2] === 's' ? n * 1000 : m[2] === 'us' ? n / 1000 : n;
}

function validate(p: QosProfile, where: string): QosProfile {
  if (p.reliability !== 'reliable' && p.reliability !== 'best_effort') throw new QosError(`QoS ${where}: reliability must be reliable or best_effort`);
  if (p.durability !== 'volatile' && p.durability !== 'transient_local') throw new QosError(`QoS ${where}: durability must be volatile or transient_local`);
  if (p.history !== 'keep_last' && p.history !== 'keep_all') throw new QosError(`QoS ${where}: history must be keep_last or keep_all`);
  if (!Number.isInteger(p.depth) || p.depth < 1) throw new QosError(`QoS ${where}: depth must be an integer >= 1`);
  return p;
}

/** DDS QoS policy ids (DDS_*_QOS_POLICY_ID) to names, for incompatible-QoS reports. */
export const QOS_POLICY_NAMES: Readonly<Record<number, string>> = {
  1: 'user_data', 2: 'durability', 3: 'presentation', 4: 'deadline', 5: 'latency_budget', 6: 'ownership',
  7: 'ownership_strength', 8: 'liveliness', 9: 'time_based_filter', 10: 'partition', 11: 'reliability',
  12: 'destination_order', 13: 'history', 14: 'resource_limits', 15: 'entity_factory', 16: 'writer_data_lifecycle',
  17: 'reader_data_lifecycle', 18: 'topic_data', 19: 'group_data', 20: 'transport_priority', 21: 'lifespan',
  22: 'durability_service', 23: 'property', 24: 'type_consistency_enforcement', 25: 'data_representation',
};
