// The value of a `param` entity, typed per frontend as ros2 launch does it:
//  - YAML frontend: the file's own YAML types hold (`value: "5"` stays the string "5",
//    `value: 5` is an int); only a value that contains a substitution is YAML-read after it
//    is performed;
//  - XML frontend: the attribute is YAML-read first (so quotes around a substitution are
//    removed: `value="'$(var x)'"` is read as `$(var x)`), then substitutions are performed
//    and their results YAML-read;
//  - `type=` (str, int, float, bool, list_of_*, yaml) coerces as launch's coerce_to_type;
// then what rcl makes of the value when the node starts (params.ts, toNode).
import { parseTemplate, literalOf } from './substitution-parse.js';
import type { Located } from './source.js';
import { nodeTyped, pyLoad, resolvePlain, type Scalar, type TypedValue } from './params.js';

export const PARAM_TYPES = ['str', 'int', 'float', 'bool', 'list_of_str', 'list_of_int', 'list_of_float', 'list_of_bool', 'yaml'];

/** Performs the substitutions of a located string. */
export type Perform = (v: Located) => string;

type Launch = Scalar | Scalar[];

const hasSubstitution = (v: Located): boolean => literalOf(parseTemplate(v)) === undefined;

/** yaml.safe_load of raw text, kept as the string where it is not YAML (launch's can_be_str). */
function loadOrKeep(text: string): Launch {
  try {
    return pyLoad(text);
  } catch {
    return { type: 'string', v: text };
  }
}

/** A launch-time scalar that is a string holding a substitution: performed and YAML-read. */
function substituted(item: Scalar, at: Located, perform: Perform): Scalar | Scalar[] {
  if (item.type !== 'string' || !item.v.includes('$(')) return item;
  const v: Located = { text: item.v, pos: at.pos, exact: item.v === at.text && at.exact };
  if (!hasSubstitution(v)) return item;
  return pyLoad(perform(v));
}

function asItem(x: Scalar | Scalar[], what: string): Scalar {
  if (Array.isArray(x)) throw new TypeError(`${what}: a list item is itself a list; nested lists are not valid parameter values`);
  return x;
}

/** XML: `value` (optionally split by `value-sep`) -> launch-time value. */
export function xmlValue(raw: Located, sep: string | undefined, perform: Perform, what: string): Launch {
  if (sep !== undefined && sep !== '') {
    return raw.text.split(sep).map((w) => asItem(substituted(asItem(loadOrKeep(w), what), { ...raw, text: w, exact: false }, perform), what));
  }
  if (raw.text === '') return { type: 'string', v: '' };
  const loaded = loadOrKeep(raw.text);
  if (Array.isArray(loaded)) return loaded.map((i) => asItem(substituted(i, { ...raw, exact: false }, perform), what));
  return substituted(loaded, raw, perform);
}

/** YAML: a scalar `value` -> launch-time value. */
export function yamlScalar(raw: Located, perform: Perform): Launch {
  if (hasSubstitution(raw)) return pyLoad(perform(raw));
  const text = literalOf(parseTemplate(raw)) ?? raw.text;
  return raw.yaml === 'plain' ? resolvePlain(text) : { type: 'string', v: text };
}

/** YAML: a list `value` -> launch-time items (each written or substituted). */
export function yamlList(items: Located[], perform: Perform, what: string): Scalar[] {
  return items.map((it) => asItem(yamlScalar(it, perform), what));
}

/** The text a `type=`d value coerces from: substitutions performed. */
export function typedValue(text: string, type: string, what: string): Launch {
  const fail = (want: string): never => {
    throw new TypeError(`${what}: '${text}' cannot be converted to ${want} (type="${type}")`);
  };
  switch (type) {
    case 'yaml':
      return text === '' ? { type: 'string', v: '' } : pyLoad(text);
    case 'str':
      return { type: 'string', v: text };
    case 'int': {
      // Python's int(): surrounding whitespace, a sign, digits with single underscores.
      const t = text.trim();
      if (!/^[+-]?\d+(?:_\d+)*$/.test(t)) fail('an int');
      return { type: 'int', v: BigInt(t.replace(/_/g, '')) };
    }
    case 'float': {
      const t = text.trim().replace(/(\d)_(?=\d)/g, '$1').toLowerCase();
      const m = /^([+-]?)(inf|infinity|nan)$/.exec(t);
      if (m) return { type: 'double', v: m[2] === 'nan' ? NaN : m[1] === '-' ? -Infinity : Infinity };
      if (!/^[+-]?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?$/.test(t)) fail('a float');
      return { type: 'double', v: Number(t) };
    }
    case 'bool': {
      const x = text === '' ? undefined : pyLoad(text);
      if (!x || Array.isArray(x) || x.type !== 'bool') fail('a bool (true/false, yes/no, on/off)');
      return x as Scalar;
    }
    default: {
      const want = type.slice('list_of_'.length);
      const x = text === '' ? undefined : pyLoad(text);
      if (!Array.isArray(x)) return fail(`a list of ${want}`);
      const kind = want === 'str' ? 'string' : want === 'float' ? 'double' : want;
      for (const i of x) if (i.type !== kind) fail(`a list of ${want} (an item is ${i.type === 'string' ? 'a string' : i.type})`);
      return x;
    }
  }
}

/** The value the node receives. */
export function finalValue(x: Launch, what: string, text: string): TypedValue {
  return nodeTyped(x, what, text);
}
