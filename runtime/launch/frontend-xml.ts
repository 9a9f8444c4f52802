// XML launch frontend (ros2 launch_xml shape): `<launch>` root, entities as elements,
// attributes as XML attributes, child entity lists as child elements grouped by tag.
import { SaxesParser } from 'saxes';
import { LaunchError, type SourcePos } from './types.js';
import { LineTable, type Located } from './source.js';
import type { Attr, Entity } from './entity.js';
import { MAX_ENTITY_DEPTH } from './limits.js';

class XmlEntity implements Entity {
  readonly format = 'xml' as const;
  readonly attrs = new Map<string, Attr>();
  readonly lists = new Map<string, { pos: SourcePos; list: Entity[] }>();
  readonly children: Entity[] = [];
  constructor(
    readonly type: string,
    readonly pos: SourcePos,
  ) {}

  add(child: XmlEntity): void {
    this.children.push(child);
    const l = this.lists.get(child.type);
    if (l) l.list.push(child);
    else this.lists.set(child.type, { pos: child.pos, list: [child] });
  }
}

/** Parses an XML launch file into the `launch` root entity. */
export function parseXmlLaunch(file: string, source: string): Entity {
  const text = source.replace(/\r\n?/g, '\n');
  const lines = new LineTable(file, text);
  const parser = new SaxesParser({ position: true });
  const stack: XmlEntity[] = [];
  let root: XmlEntity | undefined;
  let pending: XmlEntity | undefined;

  parser.on('opentagstart', (tag) => {
    const start = text.lastIndexOf('<', parser.position - 1);
    pending = new XmlEntity(tag.name, lines.pos(start));
  });
  parser.on('attribute', (a) => {
    const end = parser.position; // just after the closing quote
    const quote = text[end - 1]!;
    const valueStart = text.lastIndexOf(quote, end - 2) + 1;
    let nameStart = valueStart - 1;
    while (nameStart > 0 && /[\s=]/.test(text[nameStart - 1]!)) nameStart--;
    nameStart -= a.name.length;
    const raw = text.slice(valueStart, end - 1);
    const v: Located = { text: a.value, pos: lines.pos(valueStart), exact: raw === a.value };
    pending!.attrs.set(a.name, { name: a.name, namePos: lines.pos(nameStart), value: { kind: 'text', v } });
  });
  parser.on('opentag', () => {
    const e = pending!;
    pending = undefined;
    const parent = stack[stack.length - 1];
    if (parent) parent.add(e);
    else if (root) throw new LaunchError(e.pos, 'unexpected second root element; expected a single <launch>');
    else root = e;
    if (stack.length >= MAX_ENTITY_DEPTH) throw new LaunchError(e.pos, `elements nested more than ${MAX_ENTITY_DEPTH} levels deep; expected a flatter file`);
    stack.push(e); // saxes emits closetag for self-closing tags too
  });
  parser.on('closetag', () => {
    stack.pop();
  });
  parser.on('text', (t) => {
    if (t.trim() !== '') {
      const at = lines.pos(Math.max(0, parser.position - t.length + (t.length - t.trimStart().length)));
      throw new LaunchError(at, `unexpected text '${t.trim().slice(0, 30)}'; launch entities carry their values in attributes`);
    }
  });
  parser.on('cdata', () => {
    throw new LaunchError(lines.pos(parser.position), 'unexpected CDATA section');
  });
  parser.on('error', (err) => {
    // saxes reports "line:column: message"; re-raise it positioned in this file.
    const m = /^(\d+):(\d+): (.*)$/s.exec(err.message);
    const pos: SourcePos = m ? { file, line: Math.max(1, Number(m[1])), column: Math.max(1, Number(m[2])) } : lines.pos(parser.position);
    throw new LaunchError(pos, `malformed XML: ${(m ? m[3]! : err.message).replace(/\.$/, '')}`);
  });
  parser.write(text).close();
  if (!root) throw new LaunchError(lines.pos(0), 'expected a <launch> root element');
  if (root.type !== 'launch') throw new LaunchError(root.pos, `unexpected root element <${root.type}>; expected <launch>`);
  return root;
}
