// ROS2 parameter values, typed in two steps as ros2 does it:
//  1. launch time (launch/launch_ros): strings are read with PyYAML's YAML 1.1 resolvers
//     (`1`->int, `1.0`->double, `yes`->bool, `12:30`->int 750) and lists must be uniform;
//  2. node start (rcl_yaml_param_parser): what launch_ros hands over as YAML is read again
//     with rcl's own rules, so a launch-time string that PyYAML writes unquoted can change
//     type (`1e3`->double, `y`->bool); parameter files are read with rcl's rules only.
// Integers are 64-bit: kept exact as decimal strings where a JS number would round them.
import { isMap, isScalar, isSeq, parseDocument, type Node, type YAMLMap, type YAMLSeq } from 'yaml';
import type { ParamType, ParamValue, SourcePos } from './types.js';
import { LaunchError } from './types.js';

export interface TypedValue {
  value: ParamValue;
  type: ParamType;
}

/** One scalar; ints as bigint (exact), `null` and `other` (timestamps, ...) are not valid values. */
export type Scalar =
  | { type: 'bool'; v: boolean }
  | { type: 'int'; v: bigint }
  | { type: 'double'; v: number }
  | { type: 'string'; v: string }
  | { type: 'null' }
  | { type: 'other'; what: string };

const BOOL_TRUE = new Set(['yes', 'Yes', 'YES', 'true', 'True', 'TRUE', 'on', 'On', 'ON']);
const BOOL_FALSE = new Set(['no', 'No', 'NO', 'false', 'False', 'FALSE', 'off', 'Off', 'OFF']);
// PyYAML's implicit resolvers (resolver.py), YAML 1.1.
const INT_RE = /^(?:[-+]?0b[01_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$/;
const FLOAT_RE = /^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9_]+(?:[eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$/;
const TIMESTAMP_RE = /^(?:[0-9]{4}-[0-9]{2}-[0-9]{2}|[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(?:[Tt]|[ \t]+)[0-9]{1,2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9]{1,2}(?::[0-9]{2})?))?)$/;

const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;

/** Resolves a plain (unquoted) YAML scalar as PyYAML's safe_load does. */
export function resolvePlain(s: string): Scalar {
  if (s === '' || s === '~' || s === 'null' || s === 'Null' || s === 'NULL') return { type: 'null' };
  if (BOOL_TRUE.has(s)) return { type: 'bool', v: true };
  if (BOOL_FALSE.has(s)) return { type: 'bool', v: false };
  if (INT_RE.test(s)) {
    const t = s.replace(/_/g, '');
    const neg = t.startsWith('-');
    const body = t.replace(/^[-+]/, '');
    let v: bigint;
    if (body.includes(':')) v = body.split(':').reduce((acc, d) => acc * 60n + BigInt(d), 0n);
    else if (body.startsWith('0b')) v = BigInt(body);
    else if (body.startsWith('0x')) v = BigInt(body);
    else if (body.length > 1 && body.startsWith('0')) v = BigInt(`0o${body.slice(1)}`);
    else v = BigInt(body);
    return { type: 'int', v: neg ? -v : v };
  }
  if (FLOAT_RE.test(s)) {
    const t = s.replace(/_/g, '').toLowerCase();
    if (t.endsWith('.inf')) return { type: 'double', v: t.startsWith('-') ? -Infinity : Infinity };
    if (t.endsWith('.nan')) return { type: 'double', v: NaN };
    if (t.includes(':')) {
      const neg = t.startsWith('-');
      const parts = t.replace(/^[-+]/, '').split(':');
      const v = parts.reduce((acc, d) => acc * 60 + Number(d), 0);
      return { type: 'double', v: neg ? -v : v };
    }
    return { type: 'double', v: Number(t) };
  }
  if (TIMESTAMP_RE.test(s)) return { type: 'other', what: 'a timestamp' };
  return { type: 'string', v: s };
}

/** Whether PyYAML's `yaml.dump` writes string `s` unquoted (so rcl re-reads it with its own rules). */
export function dumpsPlain(s: string): boolean {
  if (s === '' || /^[\s]|[\s]$/.test(s) || !/^[\x20-\x7e]*$/.test(s)) return false;
  if (/^[#,[\]{}&*!|>'"%@`]/.test(s)) return false;
  if (/^[?:-]/.test(s) && (s.length === 1 || s[1] === ' ')) return false;
  if (s.includes(': ') || s.endsWith(':') || s.includes(' #')) return false;
  return resolvePlain(s).type === 'string';
}

const RCL_TRUE = new Set(['Y', 'y', 'yes', 'Yes', 'YES', 'true', 'True', 'TRUE', 'on', 'On', 'ON']);
const RCL_FALSE = new Set(['N', 'n', 'no', 'No', 'NO', 'false', 'False', 'FALSE', 'off', 'Off', 'OFF']);
const STRTOLL_RE = /^[+-]?(?:0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)$/;
const STRTOD_RE = /^[+-]?(?:(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|0[xX](?:[0-9a-fA-F]+\.?[0-9a-fA-F]*|\.[0-9a-fA-F]+)(?:[pP][+-]?[0-9]+)?|inf(?:inity)?|nan)$/i;

/** C strtod of a string STRTOD_RE accepts; undefined where it sets ERANGE (overflow, underflow). */
function strtod(s: string): number | undefined {
  const neg = s.startsWith('-');
  const body = s.replace(/^[+-]/, '').toLowerCase();
  let v: number;
  if (body.startsWith('inf')) return neg ? -Infinity : Infinity;
  if (body === 'nan') return NaN;
  if (body.startsWith('0x')) {
    const m = /^0x([0-9a-f]*)\.?([0-9a-f]*)(?:p([+-]?\d+))?$/.exec(body)!;
    const mant = parseInt(m[1] || '0', 16) + (m[2] ? parseInt(m[2], 16) / 16 ** m[2].length : 0);
    v = mant * 2 ** Number(m[3] ?? 0);
  } else v = Number(body);
  if (!Number.isFinite(v)) return undefined;
  if (v !== 0 && Math.abs(v) < 2.2250738585072014e-308) return undefined;
  if (v === 0 && /[1-9]/.test(body.replace(/e.*$|p.*$/, ''))) return undefined;
  return neg ? -v : v;
}

/** How rcl_yaml_param_parser types an unquoted scalar (bool, strtoll base 0, strtod, else string). */
export function rclPlain(s: string): Scalar {
  if (RCL_TRUE.has(s)) return { type: 'bool', v: true };
  if (RCL_FALSE.has(s)) return { type: 'bool', v: false };
  if (STRTOLL_RE.test(s)) {
    const neg = s.startsWith('-');
    const body = s.replace(/^[+-]/, '');
    const v = body.length > 1 && body[0] === '0' && !/^0[xX]/.test(body) ? BigInt(`0o${body.slice(1)}`) : BigInt(body);
    const n = neg ? -v : v;
    if (n >= INT64_MIN && n <= INT64_MAX) return { type: 'int', v: n };
  }
  if (['.nan', '.NaN', '.NAN'].includes(s)) return { type: 'double', v: NaN };
  if (['.inf', '.Inf', '.INF'].includes(s)) return { type: 'double', v: Infinity };
  if (['-.inf', '-.Inf', '-.INF'].includes(s)) return { type: 'double', v: -Infinity };
  if (STRTOD_RE.test(s)) {
    const d = strtod(s);
    if (d !== undefined) return { type: 'double', v: d };
  }
  return { type: 'string', v: s };
}

/** What the node receives for a launch-time scalar once launch_ros has dumped it and rcl re-read it. */
export function toNode(x: Scalar): Scalar {
  if (x.type === 'string') return dumpsPlain(x.v) ? rclPlain(x.v) : x;
  // A Python int beyond int64: rcl's strtoll overflows and strtod reads it as a double.
  if (x.type === 'int' && (x.v < INT64_MIN || x.v > INT64_MAX)) return { type: 'double', v: Number(x.v) };
  return x;
}

const describeScalar = (x: Scalar): string => (x.type === 'other' ? x.what : x.type === 'null' ? 'null' : x.type);

/** A scalar as a parameter value; throws TypeError for null and other kinds. */
export function scalarValue(x: Scalar, text: string): TypedValue {
  switch (x.type) {
    case 'null':
      throw new TypeError(`'${text}' reads as null, which is not a valid parameter value; quote it to make it a string`);
    case 'other':
      throw new TypeError(`'${text}' reads as ${x.what}, which is not a valid parameter value; quote it to make it a string`);
    case 'int':
      return { value: intValue(x.v), type: 'int' };
    default:
      return { value: x.v, type: x.type };
  }
}

/** An int as a JS number where that is exact, else as its decimal digits (see formatParam). */
function intValue(v: bigint): number | string {
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString();
}

/**
 * A uniform list (all bool, all int, all double or all string), as both launch_ros and rcl
 * require; a list mixing kinds (also int with double) is an error.
 */
export function typeList(items: Scalar[], what: string): TypedValue {
  if (items.length === 0) throw new TypeError(`${what}: an empty list is not a valid parameter value (ROS2 cannot tell its type)`);
  for (const i of items) if (i.type === 'null' || i.type === 'other') throw new TypeError(`${what}: a list item reads as ${describeScalar(i)}, which is not a valid parameter value`);
  const kinds = [...new Set(items.map((i) => i.type))];
  if (kinds.length > 1) {
    throw new TypeError(`${what}: expected a list whose items all have one type (bool, int, double or string), got ${kinds.join(' and ')} (ros2 refuses mixed lists; write 1.0 for a double)`);
  }
  const k = kinds[0]!;
  if (k === 'int') {
    const vs = items.map((i) => intValue((i as { v: bigint }).v));
    return { value: (vs.some((v) => typeof v === 'string') ? vs.map(String) : vs) as ParamValue, type: 'int_array' };
  }
  return { value: items.map((i) => (i as unknown as { v: never }).v) as ParamValue, type: `${k}_array` as ParamType };
}

/** The typed value as the node receives it (rcl re-reading launch_ros's YAML). */
export function nodeTyped(items: Scalar | Scalar[], what: string, text: string): TypedValue {
  if (Array.isArray(items)) return typeList(items.map(toNode), what);
  return scalarValue(toNode(items), text);
}

/** A YAML node as launch-time scalars (PyYAML rules for plain scalars). */
export function pyScalars(node: Node | null, what: string): Scalar | Scalar[] {
  if (node === null || node === undefined) return { type: 'null' };
  if (isSeq(node)) return (node as YAMLSeq<Node>).items.map((n) => pyScalarOf(n, what));
  if (isMap(node)) throw new TypeError(`${what} reads as a mapping, which is not a valid parameter value; quote it to make it a string`);
  return pyScalarOf(node, what);
}

function pyScalarOf(node: Node, what: string): Scalar {
  if (!isScalar(node)) throw new TypeError(`${what}: nested lists and mappings are not valid parameter values`);
  if (node.type === 'PLAIN') return resolvePlain(node.source ?? String(node.value ?? ''));
  return { type: 'string', v: String(node.value ?? '') };
}

/**
 * Types a parameter string as launch_ros does with the result of a substitution
 * (yaml.safe_load, then what the node receives): `1`->int, `[1, 2]`->int array, `'1'`->string.
 */
export function typeParamString(text: string, parse: (t: string) => Node | null = defaultParse): TypedValue {
  const what = `'${text}'`;
  return nodeTyped(pyLoad(text, parse), what, text);
}

/** yaml.safe_load of a substitution result, as launch-time scalars ('' stays the empty string). */
export function pyLoad(text: string, parse: (t: string) => Node | null = defaultParse): Scalar | Scalar[] {
  if (text === '') return { type: 'string', v: '' };
  if (!/[\s[\]{}'"#:,&*!|>%@`~-]/.test(text)) return resolvePlain(text);
  return pyScalars(parse(text), `'${text}'`);
}

function defaultParse(t: string): Node | null {
  const doc = parseDocument(t, { version: '1.1', prettyErrors: false, uniqueKeys: false });
  if (doc.errors.length) throw new TypeError(`cannot read '${t.slice(0, 60)}' as a YAML value (${doc.errors[0]!.message.split('\n')[0]}); quote it to make it a string`);
  return doc.contents as Node | null;
}

/** Types a list item given as a string (one scalar, no nested lists). */
export function typeScalarString(text: string): Scalar {
  if (text === '') return { type: 'string', v: '' };
  const x = pyLoad(text);
  if (Array.isArray(x)) throw new TypeError(`list item '${text}' is itself a list; nested lists are not valid parameter values`);
  return x;
}

/** The `-p name:=value` spelling of a typed value (YAML that rcl reads back as the same type). */
export function formatParam(v: ParamValue, type: ParamType | undefined): string {
  const one = (x: string | number | boolean, t: string): string => {
    if (typeof x === 'boolean') return x ? 'true' : 'false';
    if (t.startsWith('int') && (typeof x === 'number' || /^-?\d+$/.test(x))) return String(x);
    if (typeof x === 'number') {
      if (t.startsWith('double')) return formatDouble(x);
      return String(x);
    }
    return x !== '' && rclPlain(x).type === 'string' && dumpsPlain(x) ? x : `'${x.replace(/'/g, "''")}'`;
  };
  const t = type ?? (typeof v === 'string' ? 'string' : typeof v === 'boolean' ? 'bool' : Number.isInteger(v) ? 'int' : 'double');
  if (Array.isArray(v)) return `[${(v as Array<string | number | boolean>).map((x) => one(x, t)).join(', ')}]`;
  return one(v, t);
}

/** A double in YAML: always a point or an exponent, `.inf`/`.nan` for the non-finite. */
export function formatDouble(x: number): string {
  if (Number.isNaN(x)) return '.nan';
  if (!Number.isFinite(x)) return x > 0 ? '.inf' : '-.inf';
  const s = String(x);
  return /[.eE]/.test(s) ? (s.includes('.') || !/e/i.test(s) ? s : s.replace(/e/i, '.0e')) : `${s}.0`;
}

/** Whether a node key of a parameter file (`/**`, `/*`, `/**\/name`, `/ns/node`, `node`) applies to node `fqn`. */
export function sectionMatches(key: string, fqn: string): boolean {
  // rclcpp: a key without a leading '/' gets one; '/*' stands for one name token and '/**' for
  // any number of them (rcpputils::find_and_replace of "/*" by "(/\w+)"), matched on the whole name.
  const k = key.startsWith('/') ? key : `/${key}`;
  let re = '';
  for (let i = 0; i < k.length; i++) {
    if (k[i] === '/' && k[i + 1] === '*') {
      re += '(/\\w+)';
      i++;
    } else re += k[i]!.replace(/[.+?^${}()|[\]\\*]/g, (c) => (c === '*' ? '*' : `\\${c}`));
  }
  try {
    return new RegExp(`^(?:${re})$`).test(fqn);
  } catch {
    return false;
  }
}

/** Parameters of one node key of a parameter file, flattened, with where each was written. */
export interface FileSection {
  /** Node key as rcl joins it, e.g. `/**`, `/ns/node`, `node`. */
  path: string;
  params: Array<{ name: string; typed: TypedValue; pos: SourcePos }>;
}

/** Reads the YAML tree of a ROS2 parameters file with rcl's rules. */
export function sectionsOf(root: Node | null, at: (n: Node | null | undefined) => SourcePos): FileSection[] {
  const sections: FileSection[] = [];
  if (!isMap(root)) throw new LaunchError(at(root), 'expected a parameter file mapping node names to `ros__parameters:`');
  const index = new Map<string, FileSection>();
  const walkNode = (map: YAMLMap<Node, Node>, path: string[], depth: number): void => {
    if (depth > 64) throw new LaunchError(at(map), 'parameter file nested too deeply; expected node names, then ros__parameters:');
    for (const p of map.items) {
      const key = isScalar(p.key) ? String(p.key.value) : '';
      if (key === 'ros__parameters') {
        if (!isMap(p.value)) throw new LaunchError(at(p.value as Node), 'expected a mapping of parameters under ros__parameters');
        const name = path.join('/');
        // rcl keeps one entry per node name: a later section with the same name updates it in place.
        let section = index.get(name);
        if (!section) {
          section = { path: name, params: [] };
          index.set(name, section);
          sections.push(section);
        }
        flattenParams(p.value as YAMLMap<Node, Node>, '', section, 0);
      } else if (isMap(p.value)) walkNode(p.value as YAMLMap<Node, Node>, [...path, key], depth + 1);
      else throw new LaunchError(at(p.key as Node), `expected '${key}' to hold a node's 'ros__parameters:' or nested node names`);
    }
  };
  const flattenParams = (map: YAMLMap<Node, Node>, prefix: string, out: FileSection, depth: number): void => {
    if (depth > 64) throw new LaunchError(at(map), 'parameters nested too deeply');
    for (const p of map.items) {
      const name = prefix + (isScalar(p.key) ? String(p.key.value) : '');
      const v = p.value as Node | null;
      const pos = at(p.key as Node);
      if (isMap(v)) {
        flattenParams(v as YAMLMap<Node, Node>, `${name}.`, out, depth + 1);
        continue;
      }
      try {
        const typed = isSeq(v) ? typeList((v as YAMLSeq<Node>).items.map((n) => rclScalar(n, name)), `parameter '${name}'`) : scalarValue(v ? rclScalar(v, name) : { type: 'null' }, '');
        const i = out.params.findIndex((q) => q.name === name);
        if (i !== -1) out.params.splice(i, 1);
        out.params.push({ name, typed, pos });
      } catch (err) {
        const msg = (err as Error).message;
        throw new LaunchError(pos, `parameter '${name}': ${v === null || (isScalar(v) && (v.source ?? '') === '' && v.type === 'PLAIN') ? 'no value (rcl refuses an empty parameter value)' : msg}`);
      }
    }
  };
  walkNode(root as YAMLMap<Node, Node>, [], 0);
  return sections;
}

/** A scalar of a parameter file as rcl types it: quoted -> string, plain -> rclPlain. */
function rclScalar(node: Node, name: string): Scalar {
  if (!isScalar(node)) throw new TypeError(`parameter '${name}': nested lists and mappings are not valid parameter values`);
  if (node.type === 'PLAIN') {
    const src = node.source ?? String(node.value ?? '');
    return src === '' ? { type: 'null' } : rclPlain(src);
  }
  return { type: 'string', v: String(node.value ?? '') };
}

/** A `-p name:=VALUE` value as rcl reads it (rcl_parse_yaml_value: one YAML scalar or a list). */
export function rclValue(text: string, name: string): TypedValue {
  const node = defaultParse(text);
  if (node === null) throw new TypeError(`parameter '${name}': no value`);
  if (isSeq(node)) return typeList((node as YAMLSeq<Node>).items.map((n) => rclScalar(n, name)), `parameter '${name}'`);
  if (isMap(node)) throw new TypeError(`parameter '${name}': a mapping is not a valid parameter value`);
  return scalarValue(rclScalar(node, name), text);
}
