// ROS2 parameter values as ros2 launch types them: a string is read with YAML rules
// (PyYAML's YAML 1.1 resolvers, as launch_ros uses yaml.safe_load), lists must be
// homogeneous, nested parameter groups and parameter files flatten to dotted names.
import { readFileSync } from 'node:fs';
import { isMap, isScalar, isSeq, parseDocument, type Node, type YAMLMap, type YAMLSeq } from 'yaml';
import { LineTable } from './source.js';
import type { ParamType, ParamValue, SourcePos } from './types.js';
import { LaunchError } from './types.js';

export interface TypedValue {
  value: ParamValue;
  type: ParamType;
}

type Scalar = { type: 'bool'; v: boolean } | { type: 'int'; v: number } | { type: 'double'; v: number } | { type: 'string'; v: string } | { type: 'null' };

const BOOL_TRUE = new Set(['yes', 'Yes', 'YES', 'true', 'True', 'TRUE', 'on', 'On', 'ON']);
const BOOL_FALSE = new Set(['no', 'No', 'NO', 'false', 'False', 'FALSE', 'off', 'Off', 'OFF']);
const INT_RE = /^(?:[-+]?0b[01_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+)$/;
const FLOAT_RE = /^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9_]+(?:[eE][-+][0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$/;

/** Resolves a plain (unquoted) YAML scalar the way PyYAML's safe_load does. */
export function resolvePlain(s: string): Scalar {
  if (s === '' || s === '~' || s === 'null' || s === 'Null' || s === 'NULL') return { type: 'null' };
  if (BOOL_TRUE.has(s)) return { type: 'bool', v: true };
  if (BOOL_FALSE.has(s)) return { type: 'bool', v: false };
  if (INT_RE.test(s)) {
    const t = s.replace(/_/g, '');
    const neg = t.startsWith('-');
    const body = t.replace(/^[-+]/, '');
    let v: number;
    if (body.startsWith('0b')) v = parseInt(body.slice(2), 2);
    else if (body.startsWith('0x')) v = parseInt(body.slice(2), 16);
    else if (body.length > 1 && body.startsWith('0')) v = parseInt(body.slice(1), 8);
    else v = Number(body);
    return { type: 'int', v: neg ? -v : v };
  }
  if (FLOAT_RE.test(s)) {
    const t = s.replace(/_/g, '').toLowerCase();
    const v = t.endsWith('.inf') ? (t.startsWith('-') ? -Infinity : Infinity) : t.endsWith('.nan') ? NaN : Number(t);
    return { type: 'double', v };
  }
  return { type: 'string', v: s };
}

/** Strings that YAML would read back as something other than themselves. */
const PLAIN_SAFE = /^[^\s\[\]{}'"#:,&*!|>%@`~-][^:#]*$/;

function scalarOfNode(node: Node, where: string): Scalar {
  if (isScalar(node)) {
    if (node.type === 'PLAIN') return resolvePlain(node.source ?? String(node.value ?? ''));
    return { type: 'string', v: String(node.value ?? '') };
  }
  throw new TypeError(`${where}: nested lists and mappings are not valid parameter values`);
}

/**
 * Types a parameter value given as a string (after substitutions), as launch_ros does with
 * yaml.safe_load: `1`->int, `1.0`->double, `true`->bool, `[1, 2]`->int array, `'1'`->string.
 * Throws TypeError with a message saying what was expected.
 */
export function typeParamString(text: string): TypedValue {
  // An empty substitution result is the empty string, not null (launch_ros special case).
  if (text === '') return { value: '', type: 'string' };
  if (PLAIN_SAFE.test(text) && !/\s$/.test(text)) return fromScalar(resolvePlain(text), text);
  const doc = parseDocument(text, { version: '1.1', prettyErrors: false });
  if (doc.errors.length) {
    throw new TypeError(`cannot read '${text}' as a YAML value (${doc.errors[0]!.message.split('\n')[0]}); quote it to make it a string`);
  }
  const node = doc.contents as Node | null;
  if (node === null) return { value: '', type: 'string' };
  if (isSeq(node)) return typeList((node as YAMLSeq<Node>).items.map((n) => scalarOfNode(n, `'${text}'`)), text, false);
  if (isMap(node)) throw new TypeError(`'${text}' reads as a mapping, which is not a valid parameter value; quote it to make it a string`);
  return fromScalar(scalarOfNode(node, `'${text}'`), text);
}

function fromScalar(s: Scalar, text: string): TypedValue {
  switch (s.type) {
    case 'null':
      throw new TypeError(`'${text}' reads as null, which is not a valid parameter value; quote it to make it a string`);
    case 'bool':
      return { value: s.v, type: 'bool' };
    case 'int':
      return { value: s.v, type: 'int' };
    case 'double':
      return { value: s.v, type: 'double' };
    case 'string':
      return { value: s.v, type: 'string' };
  }
}

/** Types a list item given as a string (one scalar, no nested lists). */
export function typeScalarString(text: string): Scalar {
  if (text === '') return { type: 'string', v: '' };
  const t = typeParamString(text);
  if (Array.isArray(t.value)) throw new TypeError(`list item '${text}' is itself a list; nested lists are not valid parameter values`);
  return t.type === 'bool' ? { type: 'bool', v: t.value as boolean } : t.type === 'string' ? { type: 'string', v: t.value as string } : { type: t.type as 'int' | 'double', v: t.value as number };
}

/**
 * Makes a homogeneous array: all ints -> int array, ints and doubles -> double array, all
 * bools -> bool array, all strings -> string array. Otherwise an error, unless
 * `mixedAsStrings` (lists split from one string with value-sep), which keeps the words.
 */
export function typeList(items: Scalar[], what: string, mixedAsStrings: boolean, words?: string[]): TypedValue {
  if (items.length === 0) throw new TypeError(`${what}: an empty list is not a valid parameter value (ROS2 cannot tell its type)`);
  const kinds = new Set(items.map((i) => i.type));
  if (kinds.size === 1 && kinds.has('int')) return { value: items.map((i) => (i as { v: number }).v), type: 'int_array' };
  if ([...kinds].every((k) => k === 'int' || k === 'double')) return { value: items.map((i) => (i as { v: number }).v), type: 'double_array' };
  if (kinds.size === 1 && kinds.has('bool')) return { value: items.map((i) => (i as { v: boolean }).v), type: 'bool_array' };
  if (kinds.size === 1 && kinds.has('string')) return { value: items.map((i) => (i as { v: string }).v), type: 'string_array' };
  if (mixedAsStrings && words) return { value: words, type: 'string_array' };
  throw new TypeError(`${what}: expected a non-empty list whose items all have one type (bool, int, double or string), got ${[...kinds].join(' and ')}`);
}

/** The `-p name:=value` spelling of a typed value (YAML, re-read by rcl the same way). */
export function formatParam(v: ParamValue, type: ParamType | undefined): string {
  const one = (x: string | number | boolean, t: string): string => {
    if (typeof x === 'boolean') return x ? 'true' : 'false';
    if (typeof x === 'number') {
      if (t.startsWith('double')) {
        if (Number.isNaN(x)) return '.nan';
        if (!Number.isFinite(x)) return x > 0 ? '.inf' : '-.inf';
        const s = String(x);
        return /[.eE]/.test(s) ? (s.includes('.') ? s : s.replace(/e/i, '.0e')) : `${s}.0`;
      }
      return String(x);
    }
    const typed = x === '' ? undefined : resolvePlain(x);
    return typed && typed.type === 'string' && PLAIN_SAFE.test(x) ? x : `'${x.replace(/'/g, "''")}'`;
  };
  const t = type ?? (typeof v === 'string' ? 'string' : typeof v === 'boolean' ? 'bool' : Number.isInteger(v) ? 'int' : 'double');
  if (Array.isArray(v)) return `[${(v as Array<string | number | boolean>).map((x) => one(x, t)).join(', ')}]`;
  return one(v, t);
}

/** Parameters of one ros__parameters section, flattened, with where each was written. */
export interface FileSection {
  /** Node path the section applies to, e.g. `/**`, `/ns/node`, `node`. */
  path: string;
  params: Array<{ name: string; typed: TypedValue; pos: SourcePos }>;
}

/** Reads a ROS2 parameters file (`node: {ros__parameters: {...}}`, `/**:` wildcards, namespaces). */
export function readParamsFile(file: string, display: string): FileSection[] {
  const text = readFileSync(file, 'utf8');
  const lines = new LineTable(display, text);
  const doc = parseDocument(text, { prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length) {
    const e = doc.errors[0]!;
    throw new LaunchError(lines.pos(e.pos[0]), `malformed YAML in parameter file: ${e.message.split('\n')[0]}`);
  }
  const at = (n: Node | null | undefined) => lines.pos(n?.range?.[0] ?? 0);
  const sections: FileSection[] = [];
  const root = doc.contents as Node | null;
  if (!isMap(root)) throw new LaunchError(at(root), 'expected a parameter file mapping node names to `ros__parameters:`');

  const walkNode = (map: YAMLMap<Node, Node>, path: string[]): void => {
    for (const p of map.items) {
      const key = isScalar(p.key) ? String(p.key.value) : '';
      if (key === 'ros__parameters') {
        if (!isMap(p.value)) throw new LaunchError(at(p.value as Node), 'expected a mapping of parameters under ros__parameters');
        const section: FileSection = { path: joinPath(path), params: [] };
        flattenParams(p.value as YAMLMap<Node, Node>, '', section);
        sections.push(section);
      } else if (isMap(p.value)) walkNode(p.value as YAMLMap<Node, Node>, [...path, key]);
      else throw new LaunchError(at(p.key as Node), `expected '${key}' to hold a node's 'ros__parameters:' or nested node names`);
    }
  };
  const flattenParams = (map: YAMLMap<Node, Node>, prefix: string, out: FileSection): void => {
    for (const p of map.items) {
      const name = prefix + (isScalar(p.key) ? String(p.key.value) : '');
      const v = p.value as Node | null;
      const pos = at(p.key as Node);
      if (isMap(v)) flattenParams(v as YAMLMap<Node, Node>, `${name}.`, out);
      else {
        try {
          const typed = isSeq(v)
            ? typeList((v as YAMLSeq<Node>).items.map((n) => scalarOfNode(n, name)), `parameter '${name}'`, false)
            : fromScalar(v ? scalarOfNode(v, name) : { type: 'null' }, String(isScalar(v) ? (v.source ?? v.value) : ''));
          out.params.push({ name, typed, pos });
        } catch (err) {
          throw new LaunchError(pos, `parameter '${name}': ${(err as Error).message}`);
        }
      }
    }
  };
  walkNode(root as YAMLMap<Node, Node>, []);
  return sections;
}

function joinPath(parts: string[]): string {
  const s = parts.join('/').replace(/\/+/g, '/');
  return s.startsWith('/') ? s : `/${s}`;
}

/** Whether a parameter file section path (`/**`, `/ns/*`, `/ns/node`) applies to node `/ns/name`. */
export function sectionMatches(path: string, fqn: string): boolean {
  const pat = path.split('/').filter(Boolean);
  const name = fqn.split('/').filter(Boolean);
  // A bare `node:` (no namespace given) matches that node name in any namespace.
  if (pat.length === 1 && pat[0] !== '**' && !path.startsWith('//')) {
    if (pat[0] === '*' || pat[0] === name[name.length - 1]) return true;
  }
  const match = (i: number, j: number): boolean => {
    if (i === pat.length) return j === name.length;
    if (pat[i] === '**') {
      for (let k = j; k <= name.length; k++) if (match(i + 1, k)) return true;
      return false;
    }
    if (j === name.length) return false;
    return (pat[i] === '*' || pat[i] === name[j]) && match(i + 1, j + 1);
  };
  return match(0, 0);
}
