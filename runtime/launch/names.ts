// ROS names: namespaces and topic names, resolved and validated as ROS2 does (rcl rules).
const TOKEN = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Why `name` is not a valid ROS name (topic or namespace), or undefined when it is. */
export function invalidName(name: string, what: string): string | undefined {
  if (name === '') return `${what} must not be empty`;
  if (name.startsWith('~')) return `${what} '${name}' is a private name ('~'), which is not allowed here`;
  if (name.includes('//')) return `${what} '${name}' must not contain '//'`;
  if (name.length > 1 && name.endsWith('/')) return `${what} '${name}' must not end with '/'`;
  for (const tok of name.split('/')) {
    if (tok === '') continue;
    if (!TOKEN.test(tok)) {
      return `${what} '${name}' has an invalid token '${tok}'; expected letters, digits and '_' (not starting with a digit) separated by '/'`;
    }
  }
  return undefined;
}

/** Joins namespaces like launch_ros prefix_namespace: an absolute `ns` replaces the base. */
export function joinNamespace(base: string, ns: string | undefined): string {
  if (ns === undefined || ns === '') return base;
  if (ns.startsWith('/')) return ns === '/' ? '/' : ns.replace(/\/+$/, '');
  const b = base === '/' ? '' : base;
  return `${b}/${ns.replace(/\/+$/, '')}`;
}

/** Expands a topic name against a namespace: relative names get the namespace prefix. */
export function expandTopic(name: string, ns: string): string {
  if (name.startsWith('/')) return name;
  return `${ns === '/' ? '' : ns}/${name}`;
}

/** Whether `name` is a valid node name (one token). */
export function validNodeName(name: string): boolean {
  return TOKEN.test(name);
}
