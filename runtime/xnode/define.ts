import type { ParamSpec, ParamType, ParamValue, XNodeDef, XNodeSpec } from './types.js';

const TYPE_NAME = /^[a-z][a-z0-9_]*\/[a-z][a-z0-9_]*$/;
const PORT_TYPE = /^([A-Za-z][A-Za-z0-9_]*\/msg\/[A-Z][A-Za-z0-9]*|xauto\/[A-Z][A-Za-z0-9]*)$/;

/** Defines an XNODE: checks the spec once, here, so the runtime can trust it later. */
export function defineXNode(spec: XNodeSpec): XNodeDef {
  const where = `defineXNode(${JSON.stringify(spec.type)})`;
  if (!TYPE_NAME.test(spec.type)) throw new Error(`${where}: type must look like 'package/name' (lower case)`);
  const inputs = spec.inputs ?? {};
  const outputs = spec.outputs ?? {};
  for (const [port, p] of [...Object.entries(inputs), ...Object.entries(outputs)]) {
    if (!PORT_TYPE.test(p.type)) {
      throw new Error(`${where}: port '${port}' has type '${p.type}'; expected 'pkg/msg/Type' or 'xauto/Type'`);
    }
  }
  const params = spec.params ?? {};
  for (const [name, p] of Object.entries(params)) {
    const err = checkParam(p, p.default);
    if (err) throw new Error(`${where}: default of parameter '${name}': ${err}`);
  }
  if (spec.impls.length === 0) throw new Error(`${where}: needs at least one implementation`);
  const names = new Set<string>();
  for (const impl of spec.impls) {
    if (names.has(impl.name)) throw new Error(`${where}: implementation '${impl.name}' defined twice`);
    names.add(impl.name);
  }
  if (Object.keys(inputs).length === 0 && !((spec.rateParam ?? 'rate') in params)) {
    throw new Error(`${where}: a source (no inputs) needs a rate parameter ('rate' or rateParam)`);
  }
  for (const [port, p] of Object.entries(inputs)) {
    if (p.clear && !p.latched) throw new Error(`${where}: input '${port}' is 'clear' but not latched; only a latched input can be cleared when taken`);
    if (spec.timer && !(p.latched && p.optional)) {
      throw new Error(`${where}: input '${port}' of a timer-driven XNODE must be latched and optional (its timer runs it, with what the inputs hold)`);
    }
  }
  if (spec.timer && !((spec.rateParam ?? 'rate') in params)) throw new Error(`${where}: a timer-driven XNODE needs a rate parameter ('rate' or rateParam)`);
  if (spec.join !== undefined && spec.join !== 'frame' && spec.join !== 'latest') throw new Error(`${where}: join must be 'frame' or 'latest'`);
  return { ...spec, inputs, outputs, params };
}

const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v);

function checkScalar(type: string, v: unknown): boolean {
  switch (type) {
    case 'int':
      return isInt(v);
    case 'float':
      return typeof v === 'number' && Number.isFinite(v);
    case 'bool':
      return typeof v === 'boolean';
    default:
      return typeof v === 'string';
  }
}

/** Returns why `value` does not fit `spec`, or undefined when it does. */
export function checkParam(spec: ParamSpec, value: unknown): string | undefined {
  const list = spec.type.endsWith('[]');
  const base = list ? spec.type.slice(0, -2) : spec.type;
  if (list) {
    if (!Array.isArray(value) || !value.every((v) => checkScalar(base, v))) return `expected a list of ${base}`;
  } else if (!checkScalar(base, value)) {
    return `expected ${a(base)}, got ${JSON.stringify(value)}`;
  }
  if (spec.choices && !spec.choices.some((c) => c === value)) {
    return `expected one of ${spec.choices.map((c) => JSON.stringify(c)).join(', ')}`;
  }
  if (typeof value === 'number') {
    if (spec.min !== undefined && value < spec.min) return `expected >= ${spec.min}`;
    if (spec.max !== undefined && value > spec.max) return `expected <= ${spec.max}`;
  }
  return undefined;
}

const a = (t: string) => (t === 'int' ? 'an int' : `a ${t}`);

/**
 * Converts a launch-file value to the declared type the way a ROS2 node's declared parameter
 * accepts it: ints are accepted for floats; strings are parsed when the type asks for a number
 * or bool (values from `$(var)` are strings). Returns [value] or [undefined, reason].
 */
export function coerceParam(spec: ParamSpec, value: ParamValue): [ParamValue] | [undefined, string] {
  let v: unknown = value;
  const base = spec.type.replace('[]', '') as ParamType;
  const coerceOne = (x: unknown): unknown => {
    if (typeof x === 'string' && base !== 'string') {
      const t = x.trim();
      if (base === 'bool' && /^(true|false)$/i.test(t)) return t.toLowerCase() === 'true';
      if ((base === 'int' || base === 'float') && t !== '' && Number.isFinite(Number(t))) return Number(t);
    }
    if (base === 'string' && (typeof x === 'number' || typeof x === 'boolean')) return String(x);
    return x;
  };
  v = Array.isArray(v) ? v.map(coerceOne) : coerceOne(v);
  const err = checkParam(spec, v);
  return err ? [undefined, err] : [v as ParamValue];
}
