// Parser for ROS2 launch substitution syntax: `text $(name arg 'quoted arg' $(nested)) text`.
// Follows the launch frontend grammar: arguments are separated by whitespace, may be quoted
// with ' or ", may contain nested substitutions; `\` escapes a character inside arguments
// and `\$` keeps a literal `$` in plain text.
import { LaunchError } from './types.js';
import type { SourcePos } from './types.js';
import { posIn, type Located } from './source.js';
import { MAX_SUBSTITUTION_DEPTH } from './limits.js';

/** Text and substitutions, concatenated when performed. */
export type Template = Array<string | SubstitutionCall>;

export interface SubstitutionCall {
  name: string;
  args: Template[];
  pos: SourcePos;
}

const IDENT = /[A-Za-z][A-Za-z0-9_-]*/y;

/** Parses a string value; plain strings (no `$(` and no `\`) are returned as one text part. */
export function parseTemplate(value: Located): Template {
  const s = value.text;
  if (s.indexOf('$(') === -1 && s.indexOf('\\') === -1) return s.length ? [s] : [];
  const out: Template = [];
  let text = '';
  let i = 0;
  while (i < s.length) {
    const c = s[i]!;
    if (c === '\\' && s[i + 1] === '$') {
      text += '$';
      i += 2;
    } else if (c === '$' && s[i + 1] === '(') {
      if (text) out.push(text);
      text = '';
      const [call, next] = parseCall(value, i, 1);
      out.push(call);
      i = next;
    } else {
      text += c;
      i++;
    }
  }
  if (text) out.push(text);
  return out;
}

/** Parses `$(name args...)` starting at `start` (pointing at `$`); returns the call and the index after `)`. */
function parseCall(value: Located, start: number, depth: number): [SubstitutionCall, number] {
  const s = value.text;
  const pos = posIn(value, start);
  if (depth > MAX_SUBSTITUTION_DEPTH) throw new LaunchError(pos, `substitutions nested more than ${MAX_SUBSTITUTION_DEPTH} deep; expected fewer $(...) inside one another`);
  IDENT.lastIndex = start + 2;
  const m = IDENT.exec(s);
  if (!m) {
    throw new LaunchError(posIn(value, start + 2), `expected a substitution name after '$(' (e.g. $(var NAME))`);
  }
  const call: SubstitutionCall = { name: m[0], args: [], pos };
  let i = start + 2 + m[0].length;
  for (;;) {
    if (i >= s.length) throw unterminated(value, start);
    const c = s[i]!;
    if (c === ')') return [call, i + 1];
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++;
      continue;
    }
    if (i === start + 2 + m[0].length) {
      throw new LaunchError(posIn(value, i), `expected a space or ')' after substitution name '${m[0]}'`);
    }
    const [arg, next] = parseArgument(value, i, start, depth);
    call.args.push(arg);
    i = next;
  }
}

/** One argument: runs of unquoted text, quoted strings and nested substitutions, up to whitespace or `)`. */
function parseArgument(value: Located, start: number, callStart: number, depth: number): [Template, number] {
  const s = value.text;
  const out: Template = [];
  let text = '';
  let i = start;
  const flush = () => {
    if (text) out.push(text);
    text = '';
  };
  while (i < s.length) {
    const c = s[i]!;
    if (c === ')' || c === ' ' || c === '\t' || c === '\n' || c === '\r') break;
    if (c === '\\' && i + 1 < s.length) {
      text += s[i + 1];
      i += 2;
    } else if (c === '$' && s[i + 1] === '(') {
      flush();
      const [call, next] = parseCall(value, i, depth + 1);
      out.push(call);
      i = next;
    } else if (c === "'" || c === '"') {
      let j = i + 1;
      for (;;) {
        if (j >= s.length) {
          throw new LaunchError(posIn(value, i), `unterminated quoted argument (missing closing ${c})`);
        }
        const d = s[j]!;
        if (d === c) break;
        if (d === '\\' && (s[j + 1] === c || s[j + 1] === '\\')) {
          text += s[j + 1];
          j += 2;
        } else if (d === '$' && s[j + 1] === '(') {
          flush();
          const [call, next] = parseCall(value, j, depth + 1);
          out.push(call);
          j = next;
        } else {
          text += d;
          j++;
        }
      }
      // A quoted empty string is still an argument.
      if (j === i + 1 && out.length === 0) out.push('');
      i = j + 1;
    } else {
      text += c;
      i++;
    }
  }
  if (i >= s.length) throw unterminated(value, callStart);
  flush();
  return [out, i];
}

function unterminated(value: Located, start: number): LaunchError {
  return new LaunchError(posIn(value, start), `unterminated substitution '${value.text.slice(start, start + 30)}': expected ')'`);
}

/** Whether a template is one literal string (no substitutions). */
export function literalOf(t: Template): string | undefined {
  if (t.length === 0) return '';
  if (t.length === 1 && typeof t[0] === 'string') return t[0];
  return undefined;
}
