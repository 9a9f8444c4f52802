// Positions in launch files: offsets -> 1-based line:column, and positions inside string values.
import type { SourcePos } from './types.js';

/** Maps character offsets of one file's text to 1-based line/column. */
export class LineTable {
  private readonly starts: number[] = [0];

  constructor(
    readonly file: string,
    text: string,
  ) {
    for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) this.starts.push(i + 1);
  }

  pos(offset: number): SourcePos {
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { file: this.file, line: lo + 1, column: offset - this.starts[lo]! + 1 };
  }
}

/**
 * A string value read from a launch file with where it starts. `exact` says whether the
 * characters of `text` map one to one onto the file (plain scalars, attributes without
 * entity references), so that a position inside the string can be reported precisely.
 */
export interface Located {
  text: string;
  pos: SourcePos;
  exact: boolean;
  /** YAML frontend: how the scalar was written (a quoted one is a string for ros2 too). */
  yaml?: 'plain' | 'quoted';
}

/** The file position of character `offset` of a located string. */
export function posIn(value: Located, offset: number): SourcePos {
  if (!value.exact) return value.pos;
  let line = value.pos.line;
  let column = value.pos.column;
  const end = Math.min(offset, value.text.length);
  for (let i = 0; i < end; i++) {
    if (value.text.charCodeAt(i) === 10) {
      line++;
      column = 1;
    } else column++;
  }
  return { file: value.pos.file, line, column };
}
