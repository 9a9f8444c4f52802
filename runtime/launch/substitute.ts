// Performs substitutions (`$(var x)`, `$(env X)`, `$(eval ...)`, ...) as ros2 launch does.
import { spawnSync } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { LaunchError, type SourcePos } from './types.js';
import { MAX_VALUE_LENGTH } from './limits.js';
import type { Located } from './source.js';
import { parseTemplate, type SubstitutionCall, type Template } from './substitution-parse.js';
import { evalExpression, EvalError, pyStr } from './eval.js';
import { findPackage, notFoundMessage } from './packages.js';
import { splitWords } from './words.js';
import { parseBool, type LoadOptions, type Scope } from './scope.js';

/** Substitution name -> [min, max] argument count. */
const SUBSTITUTIONS: Record<string, [number, number]> = {
  var: [1, 2],
  env: [1, 2],
  optenv: [1, 2],
  'find-pkg-share': [1, 1],
  'find-pkg-prefix': [1, 1],
  'exec-in-pkg': [2, 2],
  dirname: [0, 0],
  filename: [0, 0],
  anon: [1, 1],
  not: [1, 1],
  and: [2, 2],
  or: [2, 2],
  equals: [2, 2],
  eval: [1, 1],
  command: [1, 2],
};

export class Substitutor {
  /** `$(anon NAME)` values, stable within one launch. */
  private readonly anon = new Map<string, string>();
  private readonly baseEnv: NodeJS.ProcessEnv;

  constructor(private readonly opts: LoadOptions) {
    this.baseEnv = opts.env ?? process.env;
  }

  text(v: Located, s: Scope): string {
    return this.perform(parseTemplate(v), s, v.pos);
  }

  /** The parts of a template concatenated; a result longer than MAX_VALUE_LENGTH is an error. */
  private perform(t: Template, s: Scope, at: SourcePos): string {
    let out = '';
    for (const part of t) {
      const piece = typeof part === 'string' ? part : this.call(part, s);
      if (out.length + piece.length > MAX_VALUE_LENGTH) {
        throw new LaunchError(typeof part === 'string' ? at : part.pos, `value longer than ${MAX_VALUE_LENGTH} characters; expected a shorter substitution result`);
      }
      out += piece;
    }
    return out;
  }

  call(c: SubstitutionCall, s: Scope): string {
    const arity = SUBSTITUTIONS[c.name];
    if (!arity) {
      throw new LaunchError(c.pos, `unknown substitution '$(${c.name} ...)'; expected one of ${Object.keys(SUBSTITUTIONS).join(', ')}`);
    }
    if (c.name === 'command' && !this.opts.allowCommand) {
      throw new LaunchError(c.pos, `$(command ...) runs programs while reading the launch file and is disabled; pass --allow-command to enable it`);
    }
    const [min, max] = arity;
    if (c.args.length < min || c.args.length > max) {
      const want = min === max ? `${min}` : `${min} to ${max}`;
      throw new LaunchError(c.pos, `substitution '${c.name}' takes ${want} argument${max === 1 ? '' : 's'}, got ${c.args.length}${c.name === 'eval' ? " (quote the expression: $(eval '...'))" : ''}`);
    }
    const a = c.args.map((x) => this.perform(x, s, c.pos));
    switch (c.name) {
      case 'var': {
        const v = s.configs.get(a[0]!);
        if (v !== undefined) return v;
        if (a.length === 2) return a[1]!;
        throw new LaunchError(c.pos, `launch argument or variable '${a[0]}' is not defined; declare it with arg or let, or pass ${a[0]}:=VALUE`);
      }
      case 'env':
      case 'optenv': {
        const v = this.env(a[0]!, s);
        if (v !== undefined) return v;
        if (a.length === 2) return a[1]!;
        if (c.name === 'optenv') return '';
        throw new LaunchError(c.pos, `environment variable '${a[0]}' is not set; set it, give a default ($(env ${a[0]} DEFAULT)) or use optenv`);
      }
      case 'find-pkg-share':
      case 'find-pkg-prefix':
      case 'exec-in-pkg': {
        const pkg = c.name === 'exec-in-pkg' ? a[1]! : a[0]!;
        const loc = findPackage(pkg, this.envFor(s));
        if (!loc) throw new LaunchError(c.pos, notFoundMessage(pkg, this.envFor(s)));
        if (c.name === 'find-pkg-share') return loc.share;
        if (c.name === 'find-pkg-prefix') return loc.prefix;
        return resolve(loc.prefix, 'lib', pkg, a[0]!);
      }
      case 'dirname':
        return dirname(s.abs);
      case 'filename':
        return s.abs;
      case 'anon': {
        let v = this.anon.get(a[0]!);
        if (!v) {
          v = `${a[0]}_${process.pid}_${Math.floor(Math.random() * 0xffffffff)}`;
          this.anon.set(a[0]!, v);
        }
        return v;
      }
      case 'not':
        return String(!this.boolArg(a[0]!, c));
      case 'and':
        return String(this.boolArg(a[0]!, c) && this.boolArg(a[1]!, c));
      case 'or':
        return String(this.boolArg(a[0]!, c) || this.boolArg(a[1]!, c));
      case 'equals':
        return String(looselyEqual(a[0]!, a[1]!));
      case 'eval':
        try {
          return pyStr(evalExpression(a[0]!));
        } catch (err) {
          if (err instanceof EvalError) {
            const expr = a[0]!.length > 80 ? `${a[0]!.slice(0, 80)}...` : a[0];
            throw new LaunchError(c.pos, `eval: ${err.message} (at column ${err.offset + 1} of expression '${expr}')`);
          }
          throw err;
        }
      case 'command':
        return this.command(c, a);
    }
    throw new LaunchError(c.pos, `unhandled substitution '${c.name}'`);
  }

  private boolArg(v: string, c: SubstitutionCall): boolean {
    const b = parseBool(v);
    if (b === undefined) throw new LaunchError(c.pos, `substitution '${c.name}' got '${v}'; expected true, false, 1 or 0`);
    return b;
  }

  private env(name: string, s: Scope): string | undefined {
    if (s.env.has(name)) return s.env.get(name) ?? undefined;
    return this.baseEnv[name];
  }

  private envFor(s: Scope): NodeJS.ProcessEnv {
    if (s.env.size === 0) return this.baseEnv;
    const env = { ...this.baseEnv };
    for (const [k, v] of s.env) {
      if (v === null) delete env[k];
      else env[k] = v;
    }
    return env;
  }

  /** `$(command CMD [on_stderr])`: runs CMD (split into words, no shell) and substitutes its stdout. */
  private command(c: SubstitutionCall, a: string[]): string {
    const words = splitWords(a[0]!);
    if (!Array.isArray(words) || words.length === 0) throw new LaunchError(c.pos, `$(command): expected a command line, got '${a[0]}'`);
    const onStderr = a[1] ?? 'fail';
    if (!['fail', 'ignore', 'warn', 'capture'].includes(onStderr)) {
      throw new LaunchError(c.pos, `$(command): invalid on_stderr '${onStderr}'; expected fail, ignore, warn or capture`);
    }
    const [file, ...args] = words;
    const r = spawnSync(file!, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: this.baseEnv, timeout: 60_000 });
    const firstLine = (t: string) => t.trim().split('\n')[0];
    if (r.error) {
      const code = (r.error as NodeJS.ErrnoException).code;
      throw new LaunchError(c.pos, `$(command ${a[0]}) failed: ${code === 'ENOENT' ? `program '${file}' not found` : r.error.message}`);
    }
    if (r.status !== 0) {
      throw new LaunchError(c.pos, `$(command ${a[0]}) failed: exited with ${r.signal ? `signal ${r.signal}` : `code ${r.status}`}${r.stderr ? `: ${firstLine(r.stderr)}` : ''}`);
    }
    // As ros2's Command: by default any stderr output is a failure.
    if (r.stderr && onStderr === 'fail') {
      throw new LaunchError(c.pos, `$(command ${a[0]}) wrote to stderr: ${firstLine(r.stderr)} (pass on_stderr 'ignore', 'warn' or 'capture' as second argument to accept it)`);
    }
    if (r.stderr && onStderr === 'warn') process.emitWarning(`$(command ${a[0]}) wrote to stderr: ${firstLine(r.stderr)}`);
    return onStderr === 'capture' ? r.stdout + r.stderr : r.stdout;
  }
}

/** `$(equals A B)`: numbers compare as numbers, booleans as booleans, anything else as text. */
function looselyEqual(a: string, b: string): boolean {
  const num = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
  if (num.test(a.trim()) && num.test(b.trim())) return Number(a) === Number(b);
  const ba = ['true', 'false'].includes(a.toLowerCase()) ? a.toLowerCase() : undefined;
  const bb = ['true', 'false'].includes(b.toLowerCase()) ? b.toLowerCase() : undefined;
  if (ba && bb) return ba === bb;
  return a === b;
}
