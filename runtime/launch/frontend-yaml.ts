// YAML launch frontend (ros2 launch_yaml shape): `launch:` holds a list of one-key mappings
// `- TYPE: {attributes}`; lists of mappings are child entity lists (`param: [{...}]`), and a
// group's children are under `children:`.
import { isMap, isScalar, isSeq, type Node, type Pair, type Scalar, type YAMLMap, type YAMLSeq } from 'yaml';
import { LaunchError, type SourcePos } from './types.js';
import { LineTable, type Located } from './source.js';
import type { Attr, Entity, RawValue } from './entity.js';
import { parseYaml } from './yaml-doc.js';

class YamlEntity implements Entity {
  readonly format = 'yaml' as const;
  readonly attrs = new Map<string, Attr>();
  readonly lists = new Map<string, { pos: SourcePos; list: Entity[] }>();
  children: Entity[] = [];
  constructor(
    readonly type: string,
    readonly pos: SourcePos,
  ) {}
}

class Reader {
  readonly lines: LineTable;
  constructor(
    readonly file: string,
    readonly text: string,
  ) {
    this.lines = new LineTable(file, text);
  }

  at(node: Node | null | undefined, fallback: SourcePos): SourcePos {
    const r = node?.range;
    return r ? this.lines.pos(r[0]) : fallback;
  }

  /** A scalar as text: plain scalars keep their source spelling (`1.0` stays `1.0`). */
  located(node: Scalar): Located {
    const r = node.range!;
    const pos = this.lines.pos(r[0]);
    if (node.type === 'PLAIN') {
      const src = node.source ?? String(node.value ?? '');
      return { text: src, pos, exact: this.text.slice(r[0], r[1]) === src, yaml: 'plain' };
    }
    const value = node.value === null || node.value === undefined ? '' : String(node.value);
    if (node.type === 'QUOTE_DOUBLE' || node.type === 'QUOTE_SINGLE') {
      const inner = this.text.slice(r[0] + 1, r[1] - 1);
      return { text: value, pos: this.lines.pos(r[0] + 1), exact: inner === value, yaml: 'quoted' };
    }
    return { text: value, pos, exact: false, yaml: 'quoted' };
  }

  value(node: Node | null, fallback: SourcePos): RawValue {
    const pos = this.at(node, fallback);
    if (node === null || node === undefined) return { kind: 'text', v: { text: '', pos, exact: false } };
    if (isScalar(node)) return { kind: 'text', v: this.located(node) };
    if (isSeq(node)) {
      const seq = node as YAMLSeq<Node>;
      if (seq.items.length > 0 && seq.items.every((i) => isMap(i))) {
        return { kind: 'entities', list: seq.items.map((i) => this.attrsEntity(i as YAMLMap<Node, Node>, '')), pos };
      }
      const items = seq.items.map((i) => {
        if (!isScalar(i)) throw new LaunchError(this.at(i, pos), 'expected a scalar list item (a list mixing mappings and values is not valid here)');
        return this.located(i);
      });
      return { kind: 'list', items, pos };
    }
    if (isMap(node)) {
      const entries = (node as YAMLMap<Node, Node>).items.map((p: Pair<Node, Node>) => {
        if (!isScalar(p.key)) throw new LaunchError(this.at(p.key as Node, pos), 'expected a plain key');
        return { key: this.located(p.key), value: this.value(p.value as Node, this.at(p.key as Node, pos)) };
      });
      return { kind: 'map', entries, pos };
    }
    throw new LaunchError(pos, 'unsupported YAML node (aliases are not supported in launch files)');
  }

  /** A mapping of attributes; lists of mappings become named entity lists typed by their key. */
  attrsEntity(map: YAMLMap<Node, Node>, type: string, pos?: SourcePos): YamlEntity {
    const e = new YamlEntity(type, pos ?? this.at(map, this.lines.pos(0)));
    for (const p of map.items) {
      if (!isScalar(p.key)) throw new LaunchError(this.at(p.key as Node, e.pos), 'expected a plain key');
      const name = String(p.key.value);
      const namePos = this.at(p.key, e.pos);
      if (name === 'children' && isSeq(p.value)) {
        e.children = this.entityList(p.value as YAMLSeq<Node>);
        continue;
      }
      const value = this.value(p.value as Node, namePos);
      if (value.kind === 'entities') {
        for (const child of value.list) (child as { type: string }).type = name;
        e.lists.set(name, { pos: namePos, list: value.list });
      } else e.attrs.set(name, { name, namePos, value });
    }
    return e;
  }

  /** A list of `- TYPE: {attributes}` items. */
  entityList(seq: YAMLSeq<Node>): Entity[] {
    return seq.items.map((item) => {
      const pos = this.at(item, this.lines.pos(0));
      if (!isMap(item) || (item as YAMLMap).items.length !== 1) {
        throw new LaunchError(pos, 'expected an entity: a mapping with one key naming its type, e.g. `- node: {pkg: demo, exec: talker}`');
      }
      const pair = (item as YAMLMap<Node, Node>).items[0]!;
      if (!isScalar(pair.key)) throw new LaunchError(pos, 'expected an entity type name as key');
      const type = String(pair.key.value);
      const keyPos = this.at(pair.key, pos);
      const body = pair.value as Node | null;
      if (body === null || body === undefined || (isScalar(body) && (body.value === null || body.value === ''))) {
        return new YamlEntity(type, keyPos);
      }
      // ros2's YAML frontend also takes a group's children as a plain list: `- group: [ ... ]`.
      if (isSeq(body)) {
        const e = new YamlEntity(type, keyPos);
        e.children = this.entityList(body as YAMLSeq<Node>);
        return e;
      }
      if (!isMap(body)) {
        throw new LaunchError(this.at(body, keyPos), `expected a mapping of attributes for '${type}'`);
      }
      return this.attrsEntity(body as YAMLMap<Node, Node>, type, keyPos);
    });
  }
}

/** Parses a YAML launch file into the `launch` root entity. */
export function parseYamlLaunch(file: string, text: string): Entity {
  const r = new Reader(file, text);
  const root = parseYaml(text, r.lines, '');
  const top = r.lines.pos(0);
  if (!isMap(root) || !(root as YAMLMap).items.some((p) => isScalar(p.key) && p.key.value === 'launch')) {
    throw new LaunchError(r.at(root, top), "expected a mapping with the root key 'launch' (e.g. `launch:` followed by a list of entities)");
  }
  const map = root as YAMLMap<Node, Node>;
  for (const p of map.items) {
    if (!isScalar(p.key) || p.key.value !== 'launch') {
      throw new LaunchError(r.at(p.key as Node, top), `unexpected root key '${isScalar(p.key) ? String(p.key.value) : '?'}'; expected only 'launch'`);
    }
  }
  const pair = map.items[0]!;
  const launch = new YamlEntity('launch', r.at(pair.key as Node, top));
  const body = pair.value as Node | null;
  if (body === null || (isScalar(body) && (body.value === null || body.value === ''))) return launch;
  if (!isSeq(body)) throw new LaunchError(r.at(body, launch.pos), "expected a list of entities under 'launch'");
  launch.children = r.entityList(body as YAMLSeq<Node>);
  return launch;
}
