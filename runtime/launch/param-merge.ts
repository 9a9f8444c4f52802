// Which parameters a node ends up with, as rcl and rclcpp decide it: rcl reads every `-p` and
// `--params-file` in command-line order into one table of node keys (`/**`, `/ns/node`, ...,
// in order of first appearance; a later value for the same key and name replaces the earlier
// one in place), then rclcpp walks the keys in that order and lets each key that matches the
// node's fully-qualified name override what came before (`-p` values are under `/**`).
import { formatParam, sectionMatches } from './params.js';
import type { ParamSource, ParamType, ParamValue, SourcePos } from './types.js';

export interface Merged {
  params: Record<string, ParamValue>;
  types: Record<string, ParamType>;
  pos: Record<string, SourcePos>;
}

type Entry = { value: ParamValue; type: ParamType; pos: SourcePos };

/** Merges `sources` for node `fqn` (undefined: a node whose name is unknown, only `/**` applies). */
export function mergeParams(sources: ParamSource[], fqn: string | undefined, valueKey = '/**'): Merged {
  const table = new Map<string, Map<string, Entry>>();
  const put = (key: string, name: string, e: Entry) => {
    let m = table.get(key);
    if (!m) table.set(key, (m = new Map()));
    m.set(name, e);
  };
  for (const src of sources) {
    if (src.kind === 'value') put(src.global ? '/**' : valueKey, src.name, src);
    else for (const sec of src.sections) for (const p of sec.params) put(sec.path, p.name, p);
  }
  const out: Merged = { params: {}, types: {}, pos: {} };
  for (const [key, m] of table) {
    const applies = fqn === undefined ? key === '/**' || key === '**' : sectionMatches(key, fqn);
    if (!applies) continue;
    for (const [name, e] of m) {
      out.params[name] = e.value;
      out.types[name] = e.type;
      out.pos[name] = e.pos;
    }
  }
  return out;
}

/** The `-p` / `--params-file` words for `sources`, in order (substituted files as their values). */
export function paramArguments(sources: ParamSource[], fqn: string | undefined): string[] {
  const words: string[] = [];
  for (const src of sources) {
    if (src.kind === 'value') words.push('-p', `${src.name}:=${formatParam(src.value, src.type)}`);
    else if (!src.substituted) words.push('--params-file', src.path);
    else {
      // A file with substitutions performed exists only in memory: its sections for this node.
      const m = mergeParams([src], fqn);
      for (const [k, v] of Object.entries(m.params)) words.push('-p', `${k}:=${formatParam(v, m.types[k])}`);
    }
  }
  return words;
}
