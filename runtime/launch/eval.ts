// A safe evaluator for `$(eval EXPR)`: the side-effect-free part of Python's expressions
// (ros2's PythonExpression calls Python's eval with the math module's names). Tokenizer +
// Pratt parser + tree evaluator; nothing is ever executed: names resolve only to a fixed set
// of constants and pure functions (own properties of those tables, never inherited ones),
// attributes only to pure string methods, and lambdas and imports are syntax errors.
// Over 500 lines: one grammar with its evaluator; splitting it would split the Python rules.
import { MAX_EVAL_DEPTH, MAX_EVAL_TOKENS, MAX_VALUE_LENGTH } from './limits.js';

export class EvalError extends Error {
  constructor(
    message: string,
    /** Offset in the expression where the problem is. */
    readonly offset: number,
  ) {
    super(message);
    this.name = 'EvalError';
  }
}

/** Python values the evaluator works with (bool is kept apart from int, as Python prints it apart). */
export type PyValue =
  | { t: 'int'; v: number }
  | { t: 'float'; v: number }
  | { t: 'bool'; v: boolean }
  | { t: 'str'; v: string }
  | { t: 'list'; v: PyValue[] }
  | { t: 'none' };

type TokKind = 'num' | 'str' | 'name' | 'op' | 'end';
interface Token {
  kind: TokKind;
  text: string;
  value?: PyValue;
  at: number;
}

const OPS = ['**', '//', '==', '!=', '<=', '>=', '+', '-', '*', '/', '%', '<', '>', '(', ')', '[', ']', ':', '.', ','];
const KEYWORDS = new Set(['and', 'or', 'not', 'if', 'else', 'in', 'is', 'True', 'False', 'None']);
const FORBIDDEN = new Set(['lambda', 'import', 'from', 'def', 'class', 'for', 'while', 'yield', 'await', 'async', 'global', 'del', 'exec']);

function tokenize(src: string): Token[] {
  const toks: Token[] = [];
  let i = 0;
  while (i < src.length) {
    if (toks.length > MAX_EVAL_TOKENS) throw new EvalError(`expression longer than ${MAX_EVAL_TOKENS} tokens`, i);
    const c = src[i]!;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++;
      continue;
    }
    const at = i;
    if (/[0-9]/.test(c) || (c === '.' && /[0-9]/.test(src[i + 1] ?? ''))) {
      const m = /^(?:0[xX][0-9a-fA-F_]+|0[oO][0-7_]+|0[bB][01_]+|(?:[0-9][0-9_]*)?(?:\.[0-9_]*)?(?:[eE][+-]?[0-9]+)?)/.exec(src.slice(i))!;
      const text = m[0];
      i += text.length;
      const clean = text.replace(/_/g, '');
      let value: PyValue;
      if (/^0[xXoObB]/.test(clean)) value = { t: 'int', v: Number(clean.toLowerCase()) };
      else if (/[.eE]/.test(clean)) value = { t: 'float', v: Number(clean) };
      else value = { t: 'int', v: Number(clean) };
      if (Number.isNaN(value.v)) throw new EvalError(`invalid number '${text}'`, at);
      if (/[A-Za-z_]/.test(src[i] ?? '')) throw new EvalError(`invalid number '${text}${src[i]}'`, at);
      toks.push({ kind: 'num', text, value, at });
      continue;
    }
    if (c === "'" || c === '"') {
      let j = i + 1;
      let s = '';
      for (;;) {
        if (j >= src.length) throw new EvalError('unterminated string literal', at);
        const d = src[j]!;
        if (d === c) break;
        if (d === '\\') {
          const e = src[j + 1];
          const map: Record<string, string> = { n: '\n', t: '\t', r: '\r', '\\': '\\', "'": "'", '"': '"', '0': '\0' };
          if (e !== undefined && e in map) s += map[e];
          else s += '\\' + (e ?? '');
          j += 2;
        } else {
          s += d;
          j++;
        }
      }
      i = j + 1;
      toks.push({ kind: 'str', text: src.slice(at, i), value: { t: 'str', v: s }, at });
      continue;
    }
    if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(src.slice(i))!;
      i += m[0].length;
      if (FORBIDDEN.has(m[0])) throw new EvalError(`'${m[0]}' is not allowed in eval expressions`, at);
      toks.push({ kind: KEYWORDS.has(m[0]) ? 'op' : 'name', text: m[0], at });
      continue;
    }
    const op = OPS.find((o) => src.startsWith(o, i));
    if (!op) {
      const what = c === '=' ? "assignment ('=')" : `'${c}'`;
      throw new EvalError(`${what} is not allowed in eval expressions`, at);
    }
    i += op.length;
    toks.push({ kind: 'op', text: op, at });
  }
  toks.push({ kind: 'end', text: '', at: src.length });
  return toks;
}

type Node =
  | { k: 'lit'; value: PyValue; at: number }
  | { k: 'name'; name: string; at: number }
  | { k: 'unary'; op: string; arg: Node; at: number }
  | { k: 'bin'; op: string; l: Node; r: Node; at: number }
  | { k: 'bool'; op: 'and' | 'or'; l: Node; r: Node; at: number }
  | { k: 'cmp'; ops: string[]; operands: Node[]; at: number }
  | { k: 'cond'; test: Node; then: Node; other: Node; at: number }
  | { k: 'call'; fn: string; args: Node[]; at: number }
  | { k: 'list'; items: Node[]; at: number }
  | { k: 'method'; obj: Node; name: string; args: Node[]; at: number }
  | { k: 'index'; obj: Node; index: Node | undefined; end: Node | undefined; slice: boolean; at: number };

// Binding powers follow Python's precedence table.
const BIN_BP: Record<string, number> = { '+': 60, '-': 60, '*': 70, '/': 70, '//': 70, '%': 70 };
const CMP_OPS = new Set(['==', '!=', '<', '<=', '>', '>=', 'in', 'not in', 'is', 'is not']);

class Parser {
  private i = 0;
  private depth = 0;
  /** Chain length of left-nested operators, which the evaluator walks recursively. */
  private chain = 0;
  constructor(private readonly toks: Token[]) {}

  private enter(at: number): void {
    if (++this.depth > MAX_EVAL_DEPTH) throw new EvalError(`expression nested more than ${MAX_EVAL_DEPTH} levels deep`, at);
    if (this.chain > MAX_EVAL_DEPTH) throw new EvalError(`expression with more than ${MAX_EVAL_DEPTH} operators; expected a shorter expression`, at);
  }

  private peek(): Token {
    return this.toks[this.i]!;
  }
  private next(): Token {
    return this.toks[this.i++]!;
  }
  private expect(text: string): Token {
    const t = this.next();
    if (t.text !== text || t.kind === 'str') throw new EvalError(`expected '${text}' but found ${describe(t)}`, t.at);
    return t;
  }

  parseAll(): Node {
    const n = this.expr();
    const t = this.peek();
    if (t.kind !== 'end') throw new EvalError(`unexpected ${describe(t)}`, t.at);
    return n;
  }

  /** Ternary: `a if c else b` (lowest precedence). */
  private expr(): Node {
    this.enter(this.peek().at);
    try {
      return this.ternary();
    } finally {
      this.depth--;
    }
  }
  private ternary(): Node {
    const then = this.orExpr();
    const t = this.peek();
    if (t.kind === 'op' && t.text === 'if') {
      this.next();
      const test = this.orExpr();
      this.expect('else');
      const other = this.expr();
      return { k: 'cond', test, then, other, at: t.at };
    }
    return then;
  }
  private orExpr(): Node {
    let l = this.andExpr();
    while (this.peek().kind === 'op' && this.peek().text === 'or') {
      const t = this.next();
      l = { k: 'bool', op: 'or', l, r: this.andExpr(), at: t.at };
    }
    return l;
  }
  private andExpr(): Node {
    let l = this.notExpr();
    while (this.peek().kind === 'op' && this.peek().text === 'and') {
      const t = this.next();
      l = { k: 'bool', op: 'and', l, r: this.notExpr(), at: t.at };
    }
    return l;
  }
  private notExpr(): Node {
    const t = this.peek();
    if (t.kind === 'op' && t.text === 'not') {
      this.next();
      return { k: 'unary', op: 'not', arg: this.notExpr(), at: t.at };
    }
    return this.comparison();
  }
  private comparison(): Node {
    const first = this.arith(0);
    const ops: string[] = [];
    const operands = [first];
    for (;;) {
      const t = this.peek();
      if (t.kind !== 'op') break;
      let op = t.text;
      if (op === 'not') {
        const n = this.toks[this.i + 1];
        if (!n || n.text !== 'in') break;
        this.next();
        op = 'not in';
      } else if (op === 'is') {
        const n = this.toks[this.i + 1];
        if (n && n.kind === 'op' && n.text === 'not') {
          this.next();
          op = 'is not';
        }
      } else if (!CMP_OPS.has(op)) break;
      this.next();
      ops.push(op);
      operands.push(this.arith(0));
    }
    return ops.length ? { k: 'cmp', ops, operands, at: first.at } : first;
  }
  /** Pratt loop for + - * / // % with unary minus and right-associative ** above them. */
  private arith(minBp: number): Node {
    let l = this.unary();
    for (;;) {
      const t = this.peek();
      const bp = t.kind === 'op' ? BIN_BP[t.text] : undefined;
      if (bp === undefined || bp <= minBp) break;
      this.next();
      this.chain++;
      this.enter(t.at);
      this.depth--;
      l = { k: 'bin', op: t.text, l, r: this.arith(bp), at: t.at };
    }
    return l;
  }
  private unary(): Node {
    const t = this.peek();
    if (t.kind === 'op' && (t.text === '-' || t.text === '+')) {
      this.next();
      this.enter(t.at);
      try {
        return { k: 'unary', op: t.text, arg: this.unary(), at: t.at };
      } finally {
        this.depth--;
      }
    }
    return this.power();
  }
  private power(): Node {
    const base = this.postfix(this.atom());
    const t = this.peek();
    if (t.kind === 'op' && t.text === '**') {
      this.next();
      return { k: 'bin', op: '**', l: base, r: this.unary(), at: t.at };
    }
    return base;
  }
  /** `.method(args)` on a value and `[i]` / `[a:b]` subscripts. */
  private postfix(n: Node): Node {
    for (;;) {
      const t = this.peek();
      if (t.kind !== 'op' || (t.text !== '.' && t.text !== '[')) return n;
      this.next();
      this.chain++;
      this.enter(t.at);
      this.depth--;
      if (t.text === '.') {
        const m = this.next();
        if (m.kind !== 'name' || !Object.hasOwn(STR_METHODS, m.text)) {
          throw new EvalError(`attribute '${m.text}' is not allowed in eval expressions; allowed string methods: ${Object.keys(STR_METHODS).join(', ')}`, m.at);
        }
        this.expect('(');
        n = { k: 'method', obj: n, name: m.text, args: this.argList(), at: m.at };
      } else {
        const colon = () => this.peek().kind === 'op' && this.peek().text === ':';
        const close = () => this.peek().kind === 'op' && this.peek().text === ']';
        const index = colon() ? undefined : this.expr();
        let end: Node | undefined;
        let slice = false;
        if (colon()) {
          this.next();
          slice = true;
          if (!close()) end = this.expr();
        }
        this.expect(']');
        n = { k: 'index', obj: n, index, end, slice, at: t.at };
      }
    }
  }
  /** Arguments up to the closing `)` (the `(` already taken). */
  private argList(): Node[] {
    const args: Node[] = [];
    while (!(this.peek().kind === 'op' && this.peek().text === ')')) {
      args.push(this.expr());
      if (this.peek().kind === 'op' && this.peek().text === ',') this.next();
      else break;
    }
    this.expect(')');
    return args;
  }
  private atom(): Node {
    const t = this.next();
    if (t.kind === 'num' || t.kind === 'str') {
      let value = t.value!;
      // Adjacent string literals concatenate, as in Python.
      while (value.t === 'str' && this.peek().kind === 'str') value = { t: 'str', v: value.v + (this.next().value as { v: string }).v };
      return { k: 'lit', value, at: t.at };
    }
    if (t.kind === 'op') {
      if (t.text === 'True' || t.text === 'False') return { k: 'lit', value: { t: 'bool', v: t.text === 'True' }, at: t.at };
      if (t.text === 'None') return { k: 'lit', value: { t: 'none' }, at: t.at };
      if (t.text === '(') {
        const inner = this.expr();
        this.expect(')');
        return inner;
      }
      if (t.text === '[') {
        const items: Node[] = [];
        while (!(this.peek().kind === 'op' && this.peek().text === ']')) {
          items.push(this.expr());
          if (this.peek().kind === 'op' && this.peek().text === ',') this.next();
          else break;
        }
        this.expect(']');
        return { k: 'list', items, at: t.at };
      }
    }
    if (t.kind === 'name') {
      if (this.peek().kind === 'op' && this.peek().text === '(') {
        if (!Object.hasOwn(FUNCTIONS, t.text)) throw new EvalError(`unknown function '${t.text}'; allowed: ${Object.keys(FUNCTIONS).join(', ')}`, t.at);
        this.next();
        return { k: 'call', fn: t.text, args: this.argList(), at: t.at };
      }
      if (!Object.hasOwn(CONSTANTS, t.text)) {
        throw new EvalError(`name '${t.text}' is not defined (eval allows only literals, ${Object.keys(CONSTANTS).join(', ')} and the functions ${Object.keys(FUNCTIONS).join(', ')})`, t.at);
      }
      return { k: 'name', name: t.text, at: t.at };
    }
    throw new EvalError(`unexpected ${describe(t)}`, t.at);
  }
}

function describe(t: Token): string {
  return t.kind === 'end' ? 'end of expression' : `'${t.text}'`;
}

const CONSTANTS: Record<string, PyValue> = {
  pi: { t: 'float', v: Math.PI },
  e: { t: 'float', v: Math.E },
  inf: { t: 'float', v: Infinity },
};

const int = (v: number): PyValue => ({ t: 'int', v });
const float = (v: number): PyValue => ({ t: 'float', v });
const isNum = (x: PyValue): x is { t: 'int' | 'float' | 'bool'; v: never } => x.t === 'int' || x.t === 'float' || x.t === 'bool';
const num = (x: PyValue): number => (x.t === 'bool' ? (x.v ? 1 : 0) : (x as { v: number }).v);

function typeName(x: PyValue): string {
  return x.t === 'none' ? 'NoneType' : x.t;
}

function truthy(x: PyValue): boolean {
  switch (x.t) {
    case 'bool':
      return x.v;
    case 'int':
    case 'float':
      return x.v !== 0;
    case 'str':
    case 'list':
      return x.v.length > 0;
    case 'none':
      return false;
  }
}

const FUNCTIONS: Record<string, (args: PyValue[], at: number) => PyValue> = {
  abs: (a, at) => {
    const x = one(a, 'abs', at);
    if (!isNum(x)) throw new EvalError(`bad operand type for abs(): '${typeName(x)}'`, at);
    return x.t === 'float' ? float(Math.abs(x.v)) : int(Math.abs(num(x)));
  },
  min: (a, at) => extreme(a, at, 'min', -1),
  max: (a, at) => extreme(a, at, 'max', 1),
  int: (a, at) => {
    const x = one(a, 'int', at);
    if (x.t === 'str') {
      const s = x.v.trim().replace(/_/g, '');
      if (!/^[+-]?\d+$/.test(s)) throw new EvalError(`invalid literal for int(): '${x.v}'`, at);
      return int(Number(s));
    }
    if (!isNum(x)) throw new EvalError(`int() argument must be a string or a number, not '${typeName(x)}'`, at);
    return int(Math.trunc(num(x)));
  },
  float: (a, at) => {
    const x = one(a, 'float', at);
    if (x.t === 'str') {
      const s = x.v.trim().toLowerCase();
      const v = s === 'inf' || s === '+inf' ? Infinity : s === '-inf' ? -Infinity : s === 'nan' ? NaN : /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/.test(s) ? Number(s) : undefined;
      if (v === undefined) throw new EvalError(`could not convert string to float: '${x.v}'`, at);
      return float(v);
    }
    if (!isNum(x)) throw new EvalError(`float() argument must be a string or a number, not '${typeName(x)}'`, at);
    return float(num(x));
  },
  str: (a, at) => ({ t: 'str', v: pyStr(one(a, 'str', at)) }),
  bool: (a, at) => ({ t: 'bool', v: truthy(one(a, 'bool', at)) }),
  len: (a, at) => {
    const x = one(a, 'len', at);
    if (x.t === 'list') return int(x.v.length);
    if (x.t !== 'str') throw new EvalError(`object of type '${typeName(x)}' has no len()`, at);
    return int([...x.v].length);
  },
  round: (a, at) => {
    if (a.length < 1 || a.length > 2) throw new EvalError(`round() takes 1 or 2 arguments (${a.length} given)`, at);
    const x = a[0]!;
    if (!isNum(x)) throw new EvalError(`type ${typeName(x)} doesn't define __round__`, at);
    if (a.length === 1) return int(roundHalfEven(num(x)));
    const d = a[1]!;
    if (d.t !== 'int') throw new EvalError(`'${typeName(d)}' object cannot be interpreted as an integer`, at);
    const f = 10 ** d.v;
    const r = roundHalfEven(num(x) * f) / f;
    return x.t === 'float' ? float(r) : int(r);
  },
  sqrt: (a, at) => {
    const x = numArg(one(a, 'sqrt', at), 'sqrt', at);
    if (x < 0) throw new EvalError('math domain error', at);
    return float(Math.sqrt(x));
  },
  floor: (a, at) => int(Math.floor(numArg(one(a, 'floor', at), 'floor', at))),
  ceil: (a, at) => int(Math.ceil(numArg(one(a, 'ceil', at), 'ceil', at))),
};

function one(a: PyValue[], name: string, at: number): PyValue {
  if (a.length !== 1) throw new EvalError(`${name}() takes exactly one argument (${a.length} given)`, at);
  return a[0]!;
}
function numArg(x: PyValue, name: string, at: number): number {
  if (!isNum(x)) throw new EvalError(`${name}() needs a number, not '${typeName(x)}'`, at);
  return num(x);
}
function extreme(a: PyValue[], at: number, name: string, sign: number): PyValue {
  if (a.length === 0) throw new EvalError(`${name} expected at least 1 argument, got 0`, at);
  let best = a[0]!;
  for (const x of a.slice(1)) if (compare(x, best, at) * sign > 0) best = x;
  return best;
}
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** Python's ordering: numbers with numbers, strings with strings; anything else is a TypeError. */
function compare(a: PyValue, b: PyValue, at: number): number {
  if (isNum(a) && isNum(b)) return Math.sign(num(a) - num(b));
  if (a.t === 'str' && b.t === 'str') return a.v < b.v ? -1 : a.v > b.v ? 1 : 0;
  throw new EvalError(`'<' not supported between instances of '${typeName(a)}' and '${typeName(b)}'`, at);
}
function equals(a: PyValue, b: PyValue): boolean {
  if (a.t === 'list' && b.t === 'list') return a.v.length === b.v.length && a.v.every((x, i) => equals(x, b.v[i]!));
  if (isNum(a) && isNum(b)) return num(a) === num(b);
  if (a.t === 'str' && b.t === 'str') return a.v === b.v;
  return a.t === 'none' && b.t === 'none';
}

/** A string or list result of at most MAX_VALUE_LENGTH items (Python would run out of memory). */
function bounded(n: number, at: number): void {
  if (n > MAX_VALUE_LENGTH) throw new EvalError(`result longer than ${MAX_VALUE_LENGTH} characters or items`, at);
}

function arith(op: string, a: PyValue, b: PyValue, at: number): PyValue {
  if (op === '+' && a.t === 'str' && b.t === 'str') {
    bounded(a.v.length + b.v.length, at);
    return { t: 'str', v: a.v + b.v };
  }
  if (op === '+' && a.t === 'list' && b.t === 'list') {
    bounded(a.v.length + b.v.length, at);
    return { t: 'list', v: [...a.v, ...b.v] };
  }
  const seq = (x: PyValue) => x.t === 'str' || x.t === 'list';
  const count = (x: PyValue) => x.t === 'int' || x.t === 'bool';
  if (op === '*' && ((seq(a) && count(b)) || (seq(b) && count(a)))) {
    const [s, n] = seq(a) ? [a, num(b)] : [b, num(a)];
    const len = (s as { v: string | PyValue[] }).v.length;
    const times = n > 0 ? n : 0;
    bounded(len * times, at);
    if (s.t === 'str') return { t: 'str', v: s.v.repeat(times) };
    const out: PyValue[] = [];
    for (let i = 0; i < times; i++) out.push(...(s as { v: PyValue[] }).v);
    return { t: 'list', v: out };
  }
  if (!isNum(a) || !isNum(b)) {
    throw new EvalError(`unsupported operand type(s) for ${op}: '${typeName(a)}' and '${typeName(b)}'`, at);
  }
  const x = num(a);
  const y = num(b);
  const isFloat = a.t === 'float' || b.t === 'float';
  const mk = (v: number) => (isFloat ? float(v) : int(v));
  switch (op) {
    case '+':
      return mk(x + y);
    case '-':
      return mk(x - y);
    case '*':
      return mk(x * y);
    case '/':
      if (y === 0) throw new EvalError('division by zero', at);
      return float(x / y);
    case '//':
      if (y === 0) throw new EvalError('integer division or modulo by zero', at);
      return mk(Math.floor(x / y));
    case '%': {
      if (y === 0) throw new EvalError('integer division or modulo by zero', at);
      const r = x % y;
      return mk(r !== 0 && Math.sign(r) !== Math.sign(y) ? r + y : r);
    }
    case '**':
      if (!isFloat && y < 0) return float(x ** y);
      if (x === 0 && y < 0) throw new EvalError('0.0 cannot be raised to a negative power', at);
      return mk(x ** y);
  }
  throw new EvalError(`unknown operator '${op}'`, at);
}

function evaluate(n: Node): PyValue {
  switch (n.k) {
    case 'lit':
      return n.value;
    case 'name':
      return CONSTANTS[n.name]!;
    case 'unary': {
      const v = evaluate(n.arg);
      if (n.op === 'not') return { t: 'bool', v: !truthy(v) };
      if (!isNum(v)) throw new EvalError(`bad operand type for unary ${n.op}: '${typeName(v)}'`, n.at);
      const x = n.op === '-' ? -num(v) : num(v);
      return v.t === 'float' ? float(x) : int(x);
    }
    case 'bin':
      return arith(n.op, evaluate(n.l), evaluate(n.r), n.at);
    case 'bool': {
      // Python returns the deciding operand, not a bool.
      const l = evaluate(n.l);
      if (n.op === 'and') return truthy(l) ? evaluate(n.r) : l;
      return truthy(l) ? l : evaluate(n.r);
    }
    case 'cmp': {
      let left = evaluate(n.operands[0]!);
      for (let i = 0; i < n.ops.length; i++) {
        const right = evaluate(n.operands[i + 1]!);
        const op = n.ops[i]!;
        let ok: boolean;
        if (op === '==' || op === 'is') ok = equals(left, right);
        else if (op === '!=' || op === 'is not') ok = !equals(left, right);
        else if ((op === 'in' || op === 'not in') && right.t === 'list') {
          ok = right.v.some((x) => equals(left, x)) === (op === 'in');
        } else if (op === 'in' || op === 'not in') {
          if (left.t !== 'str' || right.t !== 'str') throw new EvalError(`'in' needs strings on both sides, not '${typeName(left)}' and '${typeName(right)}'`, n.at);
          ok = right.v.includes(left.v) === (op === 'in');
        } else {
          const c = compare(left, right, n.at);
          ok = op === '<' ? c < 0 : op === '<=' ? c <= 0 : op === '>' ? c > 0 : c >= 0;
        }
        if (!ok) return { t: 'bool', v: false };
        left = right;
      }
      return { t: 'bool', v: true };
    }
    case 'cond':
      return truthy(evaluate(n.test)) ? evaluate(n.then) : evaluate(n.other);
    case 'call':
      return FUNCTIONS[n.fn]!(n.args.map(evaluate), n.at);
    case 'list':
      return { t: 'list', v: n.items.map(evaluate) };
    case 'method': {
      const obj = evaluate(n.obj);
      if (obj.t !== 'str') throw new EvalError(`'${typeName(obj)}' object has no attribute '${n.name}'`, n.at);
      return STR_METHODS[n.name]!(obj.v, n.args.map(evaluate), n.at);
    }
    case 'index':
      return subscript(evaluate(n.obj), n.index && evaluate(n.index), n.end && evaluate(n.end), n.slice, n.at);
  }
}

function subscript(obj: PyValue, index: PyValue | undefined, end: PyValue | undefined, slice: boolean, at: number): PyValue {
  if (obj.t !== 'str' && obj.t !== 'list') throw new EvalError(`'${typeName(obj)}' object is not subscriptable`, at);
  const items: Array<string | PyValue> = obj.t === 'str' ? [...obj.v] : obj.v;
  const intOf = (x: PyValue | undefined, def: number): number => {
    if (x === undefined || x.t === 'none') return def;
    if (x.t !== 'int' && x.t !== 'bool') throw new EvalError(`indices must be integers, not '${typeName(x)}'`, at);
    const i = num(x);
    return i < 0 ? Math.max(0, items.length + i) : Math.min(i, items.length);
  };
  const wrap = (xs: Array<string | PyValue>): PyValue => (obj.t === 'str' ? { t: 'str', v: (xs as string[]).join('') } : { t: 'list', v: xs as PyValue[] });
  if (slice) return wrap(items.slice(intOf(index, 0), intOf(end, items.length)));
  if (index === undefined || (index.t !== 'int' && index.t !== 'bool')) throw new EvalError(`indices must be integers, not '${index ? typeName(index) : 'nothing'}'`, at);
  const raw = num(index);
  const i = raw < 0 ? items.length + raw : raw;
  if (i < 0 || i >= items.length) throw new EvalError(`${obj.t === 'str' ? 'string' : 'list'} index out of range`, at);
  const x = items[i]!;
  return typeof x === 'string' ? { t: 'str', v: x } : x;
}

const strArg = (a: PyValue[], i: number, name: string, at: number, def?: string): string => {
  const x = a[i];
  if (x === undefined && def !== undefined) return def;
  if (!x || x.t !== 'str') throw new EvalError(`${name}() argument ${i + 1} must be str, not '${x ? typeName(x) : 'nothing'}'`, at);
  return x.v;
};
const str = (v: string): PyValue => ({ t: 'str', v });
const bool = (v: boolean): PyValue => ({ t: 'bool', v });
const strip = (s: string, chars: string | undefined, left: boolean, right: boolean): string => {
  const set = chars ?? ' \t\n\r\x0b\x0c';
  let a = 0;
  let b = s.length;
  while (left && a < b && set.includes(s[a]!)) a++;
  while (right && b > a && set.includes(s[b - 1]!)) b--;
  return s.slice(a, b);
};

/** Pure methods of Python's str (no formatting, no encoding): results depend on the value only. */
const STR_METHODS: Record<string, (s: string, a: PyValue[], at: number) => PyValue> = {
  upper: (s) => str(s.toUpperCase()),
  lower: (s) => str(s.toLowerCase()),
  casefold: (s) => str(s.toLowerCase()),
  capitalize: (s) => str(s.charAt(0).toUpperCase() + s.slice(1).toLowerCase()),
  title: (s) => str(s.toLowerCase().replace(/(^|[^A-Za-z])([a-z])/g, (_m, p: string, c: string) => p + c.toUpperCase())),
  swapcase: (s) => str([...s].map((c) => (c === c.toUpperCase() ? c.toLowerCase() : c.toUpperCase())).join('')),
  strip: (s, a, at) => str(strip(s, a.length ? strArg(a, 0, 'strip', at) : undefined, true, true)),
  lstrip: (s, a, at) => str(strip(s, a.length ? strArg(a, 0, 'lstrip', at) : undefined, true, false)),
  rstrip: (s, a, at) => str(strip(s, a.length ? strArg(a, 0, 'rstrip', at) : undefined, false, true)),
  startswith: (s, a, at) => bool(s.startsWith(strArg(a, 0, 'startswith', at))),
  endswith: (s, a, at) => bool(s.endsWith(strArg(a, 0, 'endswith', at))),
  replace: (s, a, at) => {
    const out = s.split(strArg(a, 0, 'replace', at)).join(strArg(a, 1, 'replace', at));
    bounded(out.length, at);
    return str(out);
  },
  split: (s, a, at) => {
    const sep = a.length && a[0]!.t !== 'none' ? strArg(a, 0, 'split', at) : undefined;
    if (sep === '') throw new EvalError('empty separator', at);
    const parts = sep === undefined ? s.split(/\s+/).filter((x) => x !== '') : s.split(sep);
    return { t: 'list', v: parts.map(str) };
  },
  join: (s, a, at) => {
    const x = a[0];
    if (!x || x.t !== 'list' || !x.v.every((i) => i.t === 'str')) throw new EvalError('join() expects a list of strings', at);
    const out = x.v.map((i) => (i as { v: string }).v).join(s);
    bounded(out.length, at);
    return str(out);
  },
  find: (s, a, at) => int(s.indexOf(strArg(a, 0, 'find', at))),
  count: (s, a, at) => {
    const sub = strArg(a, 0, 'count', at);
    return int(sub === '' ? s.length + 1 : s.split(sub).length - 1);
  },
  zfill: (s, a, at) => {
    const w = a[0];
    if (!w || w.t !== 'int') throw new EvalError('zfill() expects an int', at);
    bounded(w.v, at);
    const sign = /^[+-]/.test(s) ? s[0]! : '';
    return str(sign + s.slice(sign.length).padStart(w.v - sign.length, '0'));
  },
  isdigit: (s) => bool(/^[0-9]+$/.test(s)),
  isalpha: (s) => bool(/^[A-Za-z]+$/.test(s)),
  isalnum: (s) => bool(/^[A-Za-z0-9]+$/.test(s)),
  isspace: (s) => bool(/^\s+$/.test(s)),
  isupper: (s) => bool(/[A-Z]/.test(s) && s === s.toUpperCase()),
  islower: (s) => bool(/[a-z]/.test(s) && s === s.toLowerCase()),
};

/** Python's str() of a value. */
export function pyStr(x: PyValue): string {
  switch (x.t) {
    case 'str':
      return x.v;
    case 'bool':
      return x.v ? 'True' : 'False';
    case 'none':
      return 'None';
    case 'int':
      return String(x.v);
    case 'float':
      return pyFloatRepr(x.v);
    case 'list':
      return `[${x.v.map(pyRepr).join(', ')}]`;
  }
}

/** Python's repr(): strings quoted as Python quotes them. */
export function pyRepr(x: PyValue): string {
  if (x.t !== 'str') return pyStr(x);
  const q = x.v.includes("'") && !x.v.includes('"') ? '"' : "'";
  const body = x.v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/\t/g, '\\t').replace(/\r/g, '\\r');
  return q + (q === "'" ? body.replace(/'/g, "\\'") : body) + q;
}

/** Python's repr of a float: shortest round-trip digits, always a point or an exponent. */
export function pyFloatRepr(v: number): string {
  if (Number.isNaN(v)) return 'nan';
  if (!Number.isFinite(v)) return v > 0 ? 'inf' : '-inf';
  const abs = Math.abs(v);
  if (abs !== 0 && (abs >= 1e16 || abs < 1e-4)) {
    const [m, e] = v.toExponential().split('e') as [string, string];
    const exp = Number(e);
    return `${m}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  }
  const s = String(v);
  return /[.e]/.test(s) ? s : `${s}.0`;
}

/** Evaluates an expression; throws EvalError (with the offset) on syntax or type errors. */
export function evalExpression(src: string): PyValue {
  return evaluate(new Parser(tokenize(src)).parseAll());
}
