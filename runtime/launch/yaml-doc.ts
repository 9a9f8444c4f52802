// YAML documents for launch and parameter files: parsed once, every mapping checked for
// duplicate keys in linear time (the library's own check compares each key with every
// other), and nesting bounded, each problem a positioned LaunchError.
import { isAlias, isMap, isScalar, isSeq, parseDocument, type Node, type Pair, type YAMLMap, type YAMLSeq } from 'yaml';
import { LineTable } from './source.js';
import { LaunchError, type SourcePos } from './types.js';
import { sectionsOf, type FileSection } from './params.js';
import { readBoundedFile } from './files.js';
import { MAX_ENTITY_DEPTH } from './limits.js';

/** Parses `text` (file `lines.file`); `what` names the kind of file in messages. */
export function parseYaml(text: string, lines: LineTable, what: string): Node | null {
  const doc = parseDocument(text, { prettyErrors: false, strict: true, uniqueKeys: false });
  const first = doc.errors[0];
  if (first) {
    const msg = first.message.split('\n')[0]!.replace(/ at line \d+, column \d+.*$/, '');
    throw new LaunchError(lines.pos(first.pos[0]), `malformed YAML${what ? ` in ${what}` : ''}: ${msg}`);
  }
  const root = doc.contents as Node | null;
  checkTree(root, lines);
  return root;
}

/** Duplicate keys and nesting depth, walked with an explicit stack (no recursion). */
function checkTree(root: Node | null, lines: LineTable): void {
  const stack: Array<[Node, number]> = root ? [[root, 0]] : [];
  while (stack.length) {
    const [node, depth] = stack.pop()!;
    if (depth > MAX_ENTITY_DEPTH) {
      throw new LaunchError(lines.pos(node.range?.[0] ?? 0), `nested more than ${MAX_ENTITY_DEPTH} levels deep; expected a flatter file`);
    }
    if (isMap(node)) {
      const seen = new Map<string, number>();
      for (const p of (node as YAMLMap<Node, Node>).items as Array<Pair<Node, Node>>) {
        if (isScalar(p.key)) {
          const k = String(p.key.value);
          const at = p.key.range?.[0] ?? 0;
          const prev = seen.get(k);
          if (prev !== undefined) {
            const f = lines.pos(prev);
            throw new LaunchError(lines.pos(at), `duplicate key '${k.slice(0, 60)}' (first at line ${f.line}, column ${f.column}); keys of a mapping must be unique`);
          }
          seen.set(k, at);
        } else if (p.key && !isAlias(p.key)) stack.push([p.key as Node, depth + 1]);
        if (p.value && !isAlias(p.value)) stack.push([p.value as Node, depth + 1]);
      }
    } else if (isSeq(node)) {
      for (const i of (node as YAMLSeq<Node>).items) if (i && !isAlias(i)) stack.push([i, depth + 1]);
    }
  }
}


/** Reads a ROS2 parameters file (`node: {ros__parameters: {...}}`, `/**:` wildcards, namespaces) with rcl's rules. */
export function readParamsFile(file: string, display: string, at: SourcePos = { file: display, line: 1, column: 1 }): FileSection[] {
  const text = readBoundedFile(file, display, 'parameter file', at);
  const lines = new LineTable(display, text);
  return sectionsOf(parseYaml(text, lines, 'parameter file'), (n) => lines.pos(n?.range?.[0] ?? 0));
}
