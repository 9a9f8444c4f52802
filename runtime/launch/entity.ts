// The frontend-neutral view of a launch file: entities with attributes and child entity lists,
// every piece carrying its source position. The YAML and XML frontends both produce it, so
// the interpreter is written once (as ros2 launch's frontend `Entity` does).
import type { SourcePos } from './types.js';
import type { Located } from './source.js';

/** An attribute value as written: a string, a list of strings, a map, or a list of entities. */
export type RawValue =
  | { kind: 'text'; v: Located }
  | { kind: 'list'; items: Located[]; pos: SourcePos }
  | { kind: 'map'; entries: Array<{ key: Located; value: RawValue }>; pos: SourcePos }
  | { kind: 'entities'; list: Entity[]; pos: SourcePos };

export interface Attr {
  name: string;
  namePos: SourcePos;
  value: RawValue;
}

export interface Entity {
  /** Tag (XML) or key (YAML) naming the entity, as written. */
  readonly type: string;
  readonly pos: SourcePos;
  readonly format: 'yaml' | 'xml';
  /** Scalar/list/map attributes by name (XML attributes; YAML keys not holding entity lists). */
  readonly attrs: ReadonlyMap<string, Attr>;
  /** Named entity lists: XML child elements grouped by tag; YAML keys holding lists of mappings. */
  readonly lists: ReadonlyMap<string, { pos: SourcePos; list: Entity[] }>;
  /** Child entities of a container (`launch`, `group`): XML children; YAML `children` list. */
  readonly children: readonly Entity[];
}

/** Human-readable name of a value kind, for "expected ..." messages. */
export function describeRaw(v: RawValue): string {
  switch (v.kind) {
    case 'text':
      return 'a string';
    case 'list':
      return 'a list';
    case 'map':
      return 'a mapping';
    case 'entities':
      return 'a list of entities';
  }
}
