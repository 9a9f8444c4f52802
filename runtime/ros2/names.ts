// ROS2 <-> DDS naming (as rmw_cyclonedds maps them): topic `/a/b` is DDS topic `rt/a/b`,
// type `pkg/msg/T` is DDS type `pkg::msg::dds_::T_`.

export class Ros2NameError extends Error {
  override name = 'Ros2NameError';
}

const TOKEN = /^[A-Za-z][A-Za-z0-9_]*$/;

/** Fully qualified ROS2 topic name (`/ns/name`), validated like rcl does for plain names. */
export function normalizeTopic(topic: string, namespace = '/'): string {
  if (typeof topic !== 'string' || topic.length === 0) throw new Ros2NameError('topic name is empty');
  let full = topic.startsWith('/') ? topic : `${namespace.replace(/\/+$/, '')}/${topic}`;
  if (!full.startsWith('/')) full = `/${full}`;
  if (full.length > 1 && full.endsWith('/')) throw new Ros2NameError(`topic '${topic}': must not end with '/'`);
  for (const part of full.slice(1).split('/')) {
    if (!/^[A-Za-z_~{][A-Za-z0-9_{}]*$/.test(part) || part.includes('__')) {
      throw new Ros2NameError(`topic '${topic}': token '${part}' must start with a letter or '_' and contain only letters, digits and single '_'`);
    }
  }
  return full;
}

export function topicToDds(topic: string): string {
  return `rt${normalizeTopic(topic)}`;
}

/** ROS2 topic for a DDS topic name, or undefined for DDS topics that are not ROS2 topics. */
export function ddsToTopic(dds: string): string | undefined {
  return dds.startsWith('rt/') ? dds.slice(2) : undefined;
}

export interface TypeName {
  pkg: string;
  /** Interface kind folder: 'msg' (services and actions are not carried here). */
  kind: string;
  name: string;
}

/** Parses `pkg/msg/T`, `pkg/T` or `pkg::msg::T` / `pkg::msg::dds_::T_`. */
export function parseTypeName(type: string): TypeName {
  const clean = type.trim();
  let parts: string[];
  if (clean.includes('::')) {
    parts = clean.split('::').filter((p) => p !== 'dds_');
    const last = parts[parts.length - 1];
    if (clean.includes('::dds_::') && last?.endsWith('_')) parts[parts.length - 1] = last.slice(0, -1);
  } else parts = clean.split('/');
  if (parts.length === 2) parts = [parts[0] as string, 'msg', parts[1] as string];
  if (parts.length !== 3 || !parts.every((p) => TOKEN.test(p))) {
    throw new Ros2NameError(`message type '${type}': expected 'package/msg/Type' (e.g. std_msgs/msg/String)`);
  }
  const [pkg, kind, name] = parts as [string, string, string];
  return { pkg, kind, name };
}

/** Canonical ROS2 type name `pkg/msg/T`. */
export function canonicalType(type: string): string {
  const t = parseTypeName(type);
  return `${t.pkg}/${t.kind}/${t.name}`;
}

export function typeToDds(type: string): string {
  const t = parseTypeName(type);
  return `${t.pkg}::${t.kind}::dds_::${t.name}_`;
}

/** ROS2 type for a DDS type name, or undefined when it does not follow the ROS2 pattern. */
export function ddsToType(dds: string): string | undefined {
  const m = /^([A-Za-z][A-Za-z0-9_]*)::([A-Za-z]+)::dds_::([A-Za-z][A-Za-z0-9_]*)_$/.exec(dds);
  return m ? `${m[1]}/${m[2]}/${m[3]}` : undefined;
}

/** ROS_DOMAIN_ID from the environment (0 when unset), validated. */
export function domainFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.ROS_DOMAIN_ID;
  if (raw === undefined || raw.trim() === '') return 0;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > 232) {
    throw new Ros2NameError(`ROS_DOMAIN_ID='${raw}': expected an integer between 0 and 232`);
  }
  return n;
}
