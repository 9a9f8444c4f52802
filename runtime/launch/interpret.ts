// Interprets launch entities (from either frontend) into a LaunchDescription: arguments,
// scoped groups, includes, conditions, substitutions, nodes, executables and the xauto
// `xnode` / `xpu` extensions. Semantics follow ros2 launch (launch, launch_ros).
// Over 400 lines: one method per entity kind, all sharing the attribute, scope and position
// helpers at the bottom; the pure rules live beside it (param-values, param-merge, params).
import { existsSync } from 'node:fs';
import { readBoundedFile } from './files.js';
import { basename, delimiter, dirname, extname, isAbsolute, relative, resolve } from 'node:path';
import { MAX_INCLUDE_DEPTH } from './limits.js';
import { LaunchError, type ArgDeclaration, type LaunchDescription, type ParamSource, type ProcessEntity, type Ros2Binding, type SourcePos, type XNodeEntity, type XpuEntity } from './types.js';
import type { Attr, Entity, RawValue } from './entity.js';
import { describeRaw } from './entity.js';
import { posIn, type Located } from './source.js';
import { parseTemplate } from './substitution-parse.js';
import { expandTopic, invalidName, joinNamespace, validNodeName } from './names.js';
import { pyLoad, rclValue, sectionsOf } from './params.js';
import { finalValue, PARAM_TYPES, typedValue, xmlValue, yamlList, yamlScalar } from './param-values.js';
import { mergeParams, paramArguments } from './param-merge.js';
import { parseYaml } from './yaml-doc.js';
import { LineTable } from './source.js';
import { splitWords } from './words.js';
import { parseYamlLaunch } from './frontend-yaml.js';
import { parseXmlLaunch } from './frontend-xml.js';
import { childScope, parseBool, type LoadOptions, type Scope } from './scope.js';
import { Substitutor } from './substitute.js';

export type { LoadOptions } from './scope.js';

const QOS_PROFILES = ['default', 'sensor_data', 'services_default', 'parameters', 'system_default'];
const OUTPUTS = ['screen', 'log', 'both'];
const PORT = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** Longest per-xnode `timeout` (s): a day; longer is a typo, not a deadline. */
const MAX_TIMEOUT_S = 86_400;

/** Shows a path relative to the working directory when it is inside it. */
export function displayPath(abs: string): string {
  const rel = relative(process.cwd(), abs);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : abs;
}

/** Reads and parses a launch file by its extension. */
export function parseLaunchFile(abs: string, display: string, at?: SourcePos): Entity {
  const lower = abs.toLowerCase();
  const where: SourcePos = at ?? { file: display, line: 1, column: 1 };
  if (lower.endsWith('.py')) {
    throw new LaunchError(where, `Python launch files are not supported ('${display}'); write it as .launch.yaml or .launch.xml`);
  }
  const isYaml = lower.endsWith('.yaml') || lower.endsWith('.yml');
  const isXml = lower.endsWith('.xml');
  if (!isYaml && !isXml) throw new LaunchError(where, `unknown launch file type '${extname(abs) || basename(abs)}' for '${display}'; expected .yaml, .yml or .xml`);
  const text = readBoundedFile(abs, display, 'launch file', where);
  return isYaml ? parseYamlLaunch(display, text) : parseXmlLaunch(display, text);
}

export class Interpreter {
  private readonly processes: ProcessEntity[] = [];
  private readonly xnodes: XNodeEntity[] = [];
  private readonly xpus: XpuEntity[] = [];
  private readonly xnodeNames = new Map<string, SourcePos>();
  private readonly xpuIds = new Map<string, SourcePos>();
  private readonly includeStack: string[] = [];
  private readonly topArgs: Record<string, string> = {};
  readonly declaredArgs: ArgDeclaration[] = [];
  private readonly subst: Substitutor;
  private depth = 0;

  constructor(private readonly opts: LoadOptions) {
    this.subst = new Substitutor(opts);
  }

  run(file: string): LaunchDescription {
    const abs = resolve(file);
    const display = displayPath(abs);
    const root = parseLaunchFile(abs, display);
    const scope: Scope = { file: display, abs, configs: new Map(Object.entries(this.opts.args ?? {})), env: new Map(), ns: '/', remaps: [], globalParams: [] };
    this.includeStack.push(abs);
    this.launch(root, scope);
    return {
      file: abs,
      declaredArgs: this.declaredArgs,
      args: { ...(this.opts.args ?? {}), ...this.topArgs },
      processes: this.processes,
      xnodes: this.xnodes,
      xpus: this.xpus,
    };
  }

  // ---- containers --------------------------------------------------------------------

  private launch(root: Entity, s: Scope): void {
    this.checkKeys(root, root.format === 'xml' ? ['version'] : [], [], true);
    this.entities(root.children, s);
  }

  private entities(list: readonly Entity[], s: Scope): void {
    for (const e of list) this.entity(e, s);
  }

  private entity(e: Entity, s: Scope): void {
    const type = e.type.replace(/-/g, '_') as EntityType;
    if (!ENTITY_TYPES.includes(type)) {
      throw new LaunchError(e.pos, `unknown entity '${e.type}'; expected one of ${ENTITY_TYPES.join(', ')}`);
    }
    if (!this.enabled(e, s)) return;
    switch (type) {
      case 'arg':
        return this.arg(e, s);
      case 'let':
        return this.let(e, s);
      case 'group':
        return this.group(e, s);
      case 'include':
        return this.include(e, s);
      case 'push_ros_namespace':
        return this.pushNamespace(e, s);
      case 'set_env':
        return this.setEnv(e, s);
      case 'unset_env':
        return this.unsetEnv(e, s);
      case 'set_remap':
      case 'remap':
        return this.setRemap(e, s);
      case 'set_parameter':
        return this.setParameter(e, s);
      case 'append_env':
        return this.appendEnv(e, s);
      case 'node':
        return this.node(e, s);
      case 'executable':
        return this.executable(e, s);
      case 'xnode':
        return this.xnode(e, s);
      case 'xpu':
        return this.xpu(e, s);
    }
  }

  private group(e: Entity, s: Scope): void {
    this.checkKeys(e, ['scoped', 'forwarding', 'if', 'unless'], ['keep'], true);
    const scoped = this.boolAttr(e, 'scoped', s, true);
    const forwarding = this.boolAttr(e, 'forwarding', s, true);
    // `keep` values are read in the enclosing scope, before a non-forwarding group resets it.
    const keep: Array<[string, string]> = [];
    for (const k of this.list(e, 'keep')) {
      this.checkKeys(k, ['name', 'value'], []);
      keep.push([this.text(this.required(k, 'name'), s), this.text(this.required(k, 'value'), s)]);
    }
    const inner = scoped ? childScope(s) : s;
    if (scoped && !forwarding) {
      // ros2's ResetLaunchConfigurations clears every launch configuration, which is also where
      // launch_ros keeps the namespace, remaps and global parameters; ResetEnvironment undoes
      // set_env/append_env/unset_env.
      inner.configs = new Map();
      inner.ns = '/';
      inner.remaps = [];
      inner.globalParams = [];
      inner.env = new Map();
    }
    for (const [k, v] of keep) inner.configs.set(k, v);
    this.entities(e.children.filter((c) => c.type !== 'keep'), inner);
  }

  private include(e: Entity, s: Scope): void {
    this.checkKeys(e, ['file', 'if', 'unless'], ['arg']);
    const fileAttr = this.required(e, 'file');
    const target = this.existingPath(fileAttr, s, 'included launch file');
    const display = displayPath(target);
    if (this.includeStack.includes(target)) {
      const chain = [...this.includeStack.slice(this.includeStack.indexOf(target)), target].map(displayPath).join(' -> ');
      throw new LaunchError(fileAttr.pos, `include cycle: ${chain}`);
    }
    if (this.includeStack.length >= MAX_INCLUDE_DEPTH) throw new LaunchError(fileAttr.pos, `includes nested more than ${MAX_INCLUDE_DEPTH} deep`);
    const root = parseLaunchFile(target, display, fileAttr.pos);
    // An include is not a scope in ros2 (only a group is): the include's args, and the
    // included file's args, lets, set_env, remaps and unscoped push_ros_namespace stay in
    // effect after it. Only the file that $(dirname)/$(filename) name is the included one
    // (ros2 Humble names the including file there, ros2/launch#618; fixed upstream later).
    for (const a of this.list(e, 'arg')) {
      this.checkKeys(a, ['name', 'value', 'if', 'unless'], []);
      if (!this.enabled(a, s)) continue;
      s.configs.set(this.text(this.required(a, 'name'), s), this.text(this.required(a, 'value'), s));
    }
    const inner: Scope = { ...s, file: display, abs: target };
    this.includeStack.push(target);
    this.depth++;
    try {
      this.launch(root, inner);
    } finally {
      this.depth--;
      this.includeStack.pop();
    }
    s.ns = inner.ns;
    s.configs = inner.configs;
    s.env = inner.env;
    s.remaps = inner.remaps;
    s.globalParams = inner.globalParams;
  }

  // ---- arguments and scope changes -------------------------------------------------

  private arg(e: Entity, s: Scope): void {
    this.checkKeys(e, ['name', 'default', 'description', 'choices', 'if', 'unless'], ['choice']);
    const name = this.text(this.required(e, 'name'), s);
    const description = this.optText(e, 'description', s);
    const choices: string[] = [];
    const choicesAttr = e.attrs.get('choices');
    if (choicesAttr) {
      const v = choicesAttr.value;
      if (v.kind === 'list') for (const it of v.items) choices.push(this.text(it, s));
      else if (v.kind === 'text') for (const w of this.text(v.v, s).split(/[,|]/)) choices.push(w.trim());
      else throw new LaunchError(choicesAttr.namePos, `expected 'choices' to be a list of strings, got ${describeRaw(v)}`);
    }
    for (const c of this.list(e, 'choice')) {
      this.checkKeys(c, ['value'], []);
      choices.push(this.text(this.required(c, 'value'), s));
    }
    const defAttr = e.attrs.get('default');
    const decl: ArgDeclaration = { name, pos: e.pos, ...(description !== undefined ? { description } : {}), ...(choices.length ? { choices } : {}) };
    if (defAttr) decl.default = this.text(this.located(defAttr, 'default'), s);
    if (!this.declaredArgs.some((d) => d.name === name)) this.declaredArgs.push(decl);
    // A value given from outside (command line, include, enclosing scope) wins over the default.
    let defaultPos: SourcePos | undefined;
    if (!s.configs.has(name)) {
      const def = defAttr;
      if (!def && this.opts.showArgs) {
        s.configs.set(name, '');
        return;
      }
      if (!def) {
        throw new LaunchError(e.pos, `required launch argument '${name}'${description ? ` (${description})` : ''} was not provided; pass ${name}:=VALUE`);
      }
      const v = this.located(def, 'default');
      defaultPos = v.pos;
      s.configs.set(name, this.text(v, s));
    }
    const value = s.configs.get(name)!;
    if (choices.length && !choices.includes(value)) {
      throw new LaunchError(defaultPos ?? e.pos, `value '${value}' of launch argument '${name}' is not one of the choices: ${choices.join(', ')}`);
    }
    if (this.depth === 0) this.topArgs[name] = value;
  }

  private let(e: Entity, s: Scope): void {
    this.checkKeys(e, ['name', 'value', 'if', 'unless'], []);
    s.configs.set(this.text(this.required(e, 'name'), s), this.text(this.required(e, 'value'), s));
  }

  private pushNamespace(e: Entity, s: Scope): void {
    this.checkKeys(e, ['namespace', 'if', 'unless'], []);
    const v = this.required(e, 'namespace');
    const ns = this.text(v, s);
    const next = joinNamespace(s.ns, ns);
    const bad = next === '/' ? undefined : invalidName(next, 'namespace');
    if (bad) throw new LaunchError(v.pos, bad);
    s.ns = next;
  }

  private setEnv(e: Entity, s: Scope): void {
    this.checkKeys(e, ['name', 'value', 'if', 'unless'], []);
    s.env.set(this.text(this.required(e, 'name'), s), this.text(this.required(e, 'value'), s));
  }

  private unsetEnv(e: Entity, s: Scope): void {
    this.checkKeys(e, ['name', 'if', 'unless'], []);
    s.env.set(this.text(this.required(e, 'name'), s), null);
  }

  /** `set_parameter`: a global parameter for every node that follows in scope (passed first). */
  private setParameter(e: Entity, s: Scope): void {
    this.checkKeys(e, ['name', 'value', 'if', 'unless'], []);
    const nameAttr = this.required(e, 'name');
    const name = this.text(nameAttr, s);
    const v = this.required(e, 'value');
    const text = this.text(v, s);
    try {
      const typed = finalValue(pyLoad(text), `parameter '${name}'`, text);
      s.globalParams.push({ kind: 'value', name, value: typed.value, type: typed.type, pos: nameAttr.pos, global: true });
    } catch (err) {
      if (err instanceof TypeError) throw new LaunchError(v.pos, `parameter '${name}': ${err.message}`);
      throw err;
    }
  }

  /** `append_env`: appends (or with prepend, prepends) to a variable, joined by `separator` (default ':'). */
  private appendEnv(e: Entity, s: Scope): void {
    this.checkKeys(e, ['name', 'value', 'prepend', 'separator', 'if', 'unless'], []);
    const name = this.text(this.required(e, 'name'), s);
    const value = this.text(this.required(e, 'value'), s);
    const prepend = this.boolAttr(e, 'prepend', s, false);
    const sep = this.optText(e, 'separator', s) ?? delimiter;
    const cur = s.env.has(name) ? s.env.get(name) : (this.opts.env ?? process.env)[name];
    s.env.set(name, cur === undefined || cur === null ? value : prepend ? value + sep + cur : cur + sep + value);
  }

  private setRemap(e: Entity, s: Scope): void {
    this.checkKeys(e, ['from', 'to', 'if', 'unless'], []);
    s.remaps.push([this.text(this.required(e, 'from'), s), this.text(this.required(e, 'to'), s)]);
  }

  // ---- processes -----------------------------------------------------------------------

  private node(e: Entity, s: Scope): void {
    this.checkKeys(e, ['pkg', 'exec', 'name', 'namespace', 'args', 'ros_args', 'ros-args', 'output', 'cwd', 'if', 'unless'], ['param', 'remap', 'env']);
    const p = this.processBase(e, s, 'node');
    p.pkg = this.optText(e, 'pkg', s);
    p.exec = this.text(this.required(e, 'exec'), s);
    const nameAttr = this.attrText(e, 'name');
    if (nameAttr) {
      const name = this.text(nameAttr, s);
      if (!validNodeName(name)) throw new LaunchError(nameAttr.pos, `invalid node name '${name}'; expected letters, digits and '_' (not starting with a digit)`);
      p.name = name;
    }
    const nsAttr = this.attrText(e, 'namespace');
    p.namespace = this.namespaceOf(nsAttr, s);
    const rosArgs = this.attrText(e, 'ros_args') ?? this.attrText(e, 'ros-args');
    if (rosArgs) p.rosArgs = this.words(rosArgs, s);
    const sources: ParamSource[] = [...s.globalParams];
    this.params(this.list(e, 'param'), s, '', sources);
    const fqn = p.name ? `${p.namespace === '/' ? '' : p.namespace}/${p.name}` : undefined;
    // `-p`/`--params-file` the node's own args carry come first on its command line.
    const fromArgs = [...this.rosArgParams(p.args, true, e.pos, s), ...this.rosArgParams(p.rosArgs ?? [], false, e.pos, s)];
    const merged = mergeParams([...fromArgs, ...sources], fqn);
    p.params = merged.params;
    p.paramTypes = merged.types;
    p.paramFiles = sources.flatMap((x) => (x.kind === 'file' && !x.substituted ? [x.path] : []));
    p.paramSources = sources;
    p.paramArgs = paramArguments(sources, fqn);
    if (!fqn && sources.some((x) => x.kind === 'file')) p.paramsPartial = true;
    p.remaps = [...s.remaps];
    for (const r of this.list(e, 'remap')) {
      this.checkKeys(r, ['from', 'to', 'if', 'unless'], []);
      if (this.enabled(r, s)) p.remaps.push([this.text(this.required(r, 'from'), s), this.text(this.required(r, 'to'), s)]);
    }
    this.processes.push(p);
  }

  /** Parameter rules among a node's arguments (after `--ros-args`, or all of `ros_args`), as rcl reads them. */
  private rosArgParams(words: string[], needMarker: boolean, at: SourcePos, s: Scope): ParamSource[] {
    const out: ParamSource[] = [];
    let ros = !needMarker;
    for (let i = 0; i < words.length; i++) {
      const w = words[i]!;
      if (w === '--ros-args') ros = true;
      else if (w === '--') ros = !needMarker ? ros : false;
      else if (ros && (w === '-p' || w === '--param') && i + 1 < words.length) {
        const rule = words[++i]!;
        const k = rule.indexOf(':=');
        if (k <= 0) throw new LaunchError(at, `argument '${w} ${rule}': expected format '<name>:=<value>'`);
        try {
          const typed = rclValue(rule.slice(k + 2), rule.slice(0, k));
          out.push({ kind: 'value', name: rule.slice(0, k), value: typed.value, type: typed.type, pos: at, global: true });
        } catch (err) {
          if (err instanceof TypeError) throw new LaunchError(at, `argument '${w} ${rule}': ${err.message}`);
          throw err;
        }
      } else if (ros && w === '--params-file' && i + 1 < words.length) {
        const f = words[++i]!;
        out.push(this.paramFile(this.existingPath({ text: f, pos: at, exact: false }, s, 'parameter file'), at, false, s));
      }
    }
    return out;
  }

  private executable(e: Entity, s: Scope): void {
    this.checkKeys(e, ['cmd', 'cwd', 'name', 'args', 'output', 'if', 'unless'], ['env']);
    const p = this.processBase(e, s, 'executable');
    const cmd = this.words(this.required(e, 'cmd'), s);
    if (cmd.length === 0) throw new LaunchError(this.required(e, 'cmd').pos, "expected a command in 'cmd'");
    p.cmd = cmd;
    p.name = this.optText(e, 'name', s);
    this.processes.push(p);
  }

  /** Fields shared by node and executable: args, output, cwd, environment. */
  private processBase(e: Entity, s: Scope, kind: 'node' | 'executable'): ProcessEntity {
    const p: ProcessEntity = { kind, namespace: s.ns, args: [], params: {}, paramFiles: [], remaps: [], env: {}, pos: e.pos };
    const args = this.attrText(e, 'args');
    if (args) p.args = this.words(args, s);
    const out = this.attrText(e, 'output');
    if (out) {
      const v = this.text(out, s);
      if (!OUTPUTS.includes(v)) throw new LaunchError(out.pos, `invalid output '${v}'; expected one of ${OUTPUTS.join(', ')}`);
      p.output = v as ProcessEntity['output'];
    }
    const cwd = this.optText(e, 'cwd', s);
    if (cwd !== undefined) p.cwd = cwd;
    const unset: string[] = [];
    for (const [k, v] of s.env) {
      if (v === null) unset.push(k);
      else p.env[k] = v;
    }
    for (const en of this.list(e, 'env')) {
      this.checkKeys(en, ['name', 'value', 'if', 'unless'], []);
      if (!this.enabled(en, s)) continue;
      const k = this.text(this.required(en, 'name'), s);
      p.env[k] = this.text(this.required(en, 'value'), s);
      const i = unset.indexOf(k);
      if (i !== -1) unset.splice(i, 1);
    }
    if (unset.length) p.unsetEnv = unset;
    return p;
  }

  private namespaceOf(nsAttr: Located | undefined, s: Scope): string {
    if (!nsAttr) return s.ns;
    const ns = joinNamespace(s.ns, this.text(nsAttr, s));
    const bad = ns === '/' ? undefined : invalidName(ns, 'namespace');
    if (bad) throw new LaunchError(nsAttr.pos, bad);
    return ns;
  }

  // ---- parameters ----------------------------------------------------------------------

  /** Collects `param` entities as sources in declared order: values typed as ros2 does, nested groups flattened. */
  private params(list: Entity[], s: Scope, prefix: string, out: ParamSource[]): void {
    for (const pe of list) {
      this.checkKeys(pe, ['name', 'value', 'value-sep', 'value_sep', 'type', 'from', 'allow_substs', 'if', 'unless'], ['param']);
      if (!this.enabled(pe, s)) continue;
      const from = this.attrText(pe, 'from');
      const nameAttr = this.attrText(pe, 'name');
      const substsAttr = this.attrText(pe, 'allow_substs');
      if (from) {
        if (nameAttr) throw new LaunchError(nameAttr.pos, "'name' and 'from' are mutually exclusive on a param");
        if (prefix) throw new LaunchError(from.pos, "'from' is only allowed on top-level params, not inside a nested param group");
        const path = this.existingPath(from, s, 'parameter file');
        const substituted = substsAttr ? this.boolAttr(pe, 'allow_substs', s, false) : false;
        out.push(this.paramFile(path, from.pos, substituted, s));
        continue;
      }
      if (substsAttr) throw new LaunchError(substsAttr.pos, "'allow_substs' can only be used together with 'from' (a parameter file)");
      if (!nameAttr) throw new LaunchError(pe.pos, "expected a 'name' (or 'from') attribute on param");
      const name = prefix + this.text(nameAttr, s);
      const nested = pe.lists.get('param');
      const valueAttr = pe.attrs.get('value');
      const typeAttr = this.attrText(pe, 'type');
      if (nested && valueAttr) throw new LaunchError(valueAttr.namePos, `param '${name}' has both a value and nested params; expected one of them`);
      if (nested && typeAttr) throw new LaunchError(typeAttr.pos, `param '${name}' has both a type and nested params; expected one of them`);
      if (nested) {
        this.params(nested.list, s, `${name}.`, out);
        continue;
      }
      if (!valueAttr) throw new LaunchError(pe.pos, `param '${name}' needs a 'value' attribute or nested params`);
      const sepAttr = this.attrText(pe, 'value-sep') ?? this.attrText(pe, 'value_sep');
      const raw = valueAttr.value;
      const where = `parameter '${name}'`;
      const at = raw.kind === 'text' ? raw.v.pos : raw.pos;
      const perform = (v: Located) => this.text(v, s);
      try {
        let launchValue;
        let text = raw.kind === 'text' ? raw.v.text : '';
        const type = typeAttr ? this.text(typeAttr, s) : undefined;
        if (type !== undefined && !PARAM_TYPES.includes(type)) throw new LaunchError(typeAttr!.pos, `unknown param type '${type}'; expected one of ${PARAM_TYPES.join(', ')}`);
        if (raw.kind === 'text' && type !== undefined) {
          text = this.text(raw.v, s);
          launchValue = typedValue(text, type, where);
        } else if (raw.kind === 'text' && (e0(pe) === 'xml' || sepAttr)) {
          launchValue = xmlValue(raw.v, sepAttr ? this.text(sepAttr, s) : undefined, perform, where);
        } else if (raw.kind === 'text') {
          launchValue = yamlScalar(raw.v, perform);
        } else if (raw.kind === 'list') {
          if (type !== undefined) throw new LaunchError(typeAttr!.pos, "type= applies to a value written as a string; write the list as one string, e.g. '[1, 2]'");
          launchValue = yamlList(raw.items, perform, where);
        } else {
          throw new LaunchError(valueAttr.namePos, `${where}: expected a value (string, number, bool or list), got ${describeRaw(raw)}`);
        }
        const typed = finalValue(launchValue, where, text);
        out.push({ kind: 'value', name, value: typed.value, type: typed.type, pos: nameAttr.pos });
      } catch (err) {
        if (err instanceof TypeError) throw new LaunchError(at, `${where}: ${err.message.replace(/^parameter '[^']*': /, '')}`);
        throw err;
      }
    }
  }

  /** A `param from=` file read as rcl reads it (after substitutions when allow_substs). */
  private paramFile(path: string, at: SourcePos, substituted: boolean, s: Scope): ParamSource {
    const display = displayPath(path);
    let text = readBoundedFile(path, display, 'parameter file', at);
    if (substituted) text = this.text({ text, pos: { file: display, line: 1, column: 1 }, exact: true }, s);
    const lines = new LineTable(display, text);
    const root = parseYaml(text, lines, 'parameter file');
    const sections = sectionsOf(root, (n) => lines.pos(n?.range?.[0] ?? 0)).map((sec) => ({
      path: sec.path,
      params: sec.params.map((p) => ({ name: p.name, value: p.typed.value, type: p.typed.type, pos: p.pos })),
    }));
    return { kind: 'file', path, pos: at, sections, ...(substituted ? { substituted } : {}) };
  }

  // ---- xauto extensions ----------------------------------------------------------------

  private xnode(e: Entity, s: Scope): void {
    this.checkKeys(e, ['name', 'type', 'namespace', 'impl', 'priority', 'timeout', 'module', 'process', 'inputs', 'outputs', 'if', 'unless'], ['param', 'input', 'output', 'inputs', 'outputs', 'remap']);
    const nameAttr = this.required(e, 'name');
    const name = this.text(nameAttr, s);
    if (!validNodeName(name)) throw new LaunchError(nameAttr.pos, `invalid xnode name '${name}'; expected letters, digits and '_' (not starting with a digit)`);
    const first = this.xnodeNames.get(name);
    if (first) throw new LaunchError(nameAttr.pos, `duplicate xnode name '${name}' (first defined at ${first.file}:${first.line}:${first.column}); xnode names must be unique`);
    const typeAttr = this.required(e, 'type');
    const type = this.text(typeAttr, s);
    if (!/^[A-Za-z0-9_]+(\/[A-Za-z0-9_]+)*$/.test(type)) throw new LaunchError(typeAttr.pos, `invalid xnode type '${type}'; expected a registered type name such as 'camera/preprocess'`);
    const ns = this.namespaceOf(this.attrText(e, 'namespace'), s);
    const fqn = `${ns === '/' ? '' : ns}/${name}`;

    let impls: string[] = [];
    const implAttr = e.attrs.get('impl');
    if (implAttr) {
      const v = implAttr.value;
      const parts = v.kind === 'list' ? v.items.map((i) => this.text(i, s)) : v.kind === 'text' ? this.text(v.v, s).split(',') : undefined;
      if (!parts) throw new LaunchError(implAttr.namePos, `expected 'impl' to be a comma-separated list of implementation names, got ${describeRaw(v)}`);
      impls = parts.map((x) => x.trim()).filter((x) => x !== '');
    }
    const priority = this.intAttr(e, 'priority', s, 0, -1_000_000, 1_000_000);
    const timeoutS = this.secondsAttr(e, 'timeout', s, MAX_TIMEOUT_S);
    const moduleName = this.optText(e, 'module', s);
    const processName = this.optText(e, 'process', s) ?? 'main';
    if (processName === '') throw new LaunchError(this.attrText(e, 'process')!.pos, "expected a non-empty 'process' name");

    const sources: ParamSource[] = [...s.globalParams];
    this.params(this.list(e, 'param'), s, '', sources);
    // An xnode is a node with a name and a namespace: its own values are keyed by its name.
    const sink = mergeParams(sources, fqn, fqn);
    const x: XNodeEntity = {
      name,
      namespace: ns,
      type,
      inputs: {},
      outputs: {},
      params: sink.params,
      paramTypes: sink.types,
      ownParams: [...new Set(sources.flatMap((src) => (src.kind === 'value' && !src.global ? [src.name] : [])))],
      impls,
      priority,
      ...(timeoutS !== undefined ? { timeoutS } : {}),
      module: moduleName ?? (ns !== '/' ? ns : name),
      process: processName,
      ros2: [],
      pos: e.pos,
      portPos: {},
    };
    // Positions for errors found later (graph): attributes, then params, then ports (ports win
    // a name clash); `param.NAME` is always the param.
    for (const k of ['type', 'impl', 'priority', 'timeout', 'module', 'process', 'namespace']) {
      const a = e.attrs.get(k);
      if (a) x.portPos[k] = a.value.kind === 'text' ? a.value.v.pos : a.namePos;
    }
    for (const [k, p] of Object.entries(sink.pos)) {
      x.portPos[k] = p;
      x.portPos[`param.${k}`] = p;
    }

    const remaps: Array<[string, string]> = [...s.remaps];
    for (const r of this.list(e, 'remap')) {
      this.checkKeys(r, ['from', 'to', 'if', 'unless'], []);
      if (this.enabled(r, s)) remaps.push([this.text(this.required(r, 'from'), s), this.text(this.required(r, 'to'), s)]);
    }
    const rules = remaps.map(([from, to]) => [expandTopic(from, ns), expandTopic(to, ns)] as const);

    const addPort = (dir: 'in' | 'out', port: Located, topic: Located, ros2?: Located, qos?: Located) => {
      const portName = this.text(port, s);
      if (!PORT.test(portName)) throw new LaunchError(port.pos, `invalid port name '${portName}'; expected letters, digits and '_'`);
      const map = dir === 'in' ? x.inputs : x.outputs;
      if (portName in map) throw new LaunchError(port.pos, `duplicate ${dir === 'in' ? 'input' : 'output'} port '${portName}' on xnode '${name}'`);
      const t = this.text(topic, s);
      const bad = invalidName(t, 'topic');
      if (bad) throw new LaunchError(topic.pos, bad);
      let resolved = expandTopic(t, ns);
      const rule = rules.find(([from]) => from === resolved);
      if (rule) resolved = rule[1];
      map[portName] = resolved;
      x.portPos[portName] = port.pos;
      // `ros2: ''` (e.g. from a substitution) leaves the port unbound.
      const r = ros2 ? this.text(ros2, s) : '';
      if (ros2 && r !== '') {
        if (r !== 'in' && r !== 'out') throw new LaunchError(ros2.pos, `invalid ros2 '${r}'; expected 'in', 'out' or '' (not bound)`);
        if (r !== dir) {
          throw new LaunchError(ros2.pos, `ros2: ${r} on an ${dir === 'in' ? 'input' : 'output'} port; expected 'ros2: ${dir}' (${dir === 'in' ? 'inputs are received from ROS2' : 'outputs are published to ROS2'})`);
        }
        const q = qos ? this.text(qos, s) : 'default';
        if (!QOS_PROFILES.includes(q)) throw new LaunchError(qos!.pos, `unknown qos profile '${q}'; expected one of ${QOS_PROFILES.join(', ')}`);
        const b: Ros2Binding = { port: portName, dir, topic: resolved, qos: q };
        x.ros2.push(b);
      } else if (qos && !ros2) {
        throw new LaunchError(qos.pos, `qos is only meaningful on a port bound to ROS2; add ros2: ${dir}`);
      }
    };

    for (const [dir, mapKey, listKey] of [['in', 'inputs', 'input'], ['out', 'outputs', 'output']] as const) {
      const m = e.attrs.get(mapKey);
      if (m) {
        if (m.value.kind !== 'map') throw new LaunchError(m.namePos, `expected '${mapKey}' to map port names to topics, got ${describeRaw(m.value)}`);
        for (const { key, value } of m.value.entries) {
          if (value.kind === 'text') addPort(dir, key, value.v);
          else if (value.kind === 'map') {
            const get = (k: string) => {
              const f = value.entries.find((en) => en.key.text === k);
              if (f && f.value.kind !== 'text') throw new LaunchError(f.key.pos, `expected a string for '${k}'`);
              return f ? (f.value as { v: Located }).v : undefined;
            };
            for (const en of value.entries) {
              if (!['topic', 'ros2', 'qos'].includes(en.key.text)) throw new LaunchError(en.key.pos, `unknown key '${en.key.text}' for port '${key.text}'; expected topic, ros2, qos`);
            }
            const topic = get('topic');
            if (!topic) throw new LaunchError(key.pos, `port '${key.text}' needs a 'topic'`);
            addPort(dir, key, topic, get('ros2'), get('qos'));
          } else throw new LaunchError(key.pos, `expected a topic name or {topic, ros2, qos} for port '${key.text}', got ${describeRaw(value)}`);
        }
      }
      const listForm = [...this.list(e, listKey), ...(e.lists.get(mapKey)?.list ?? [])];
      for (const pe of listForm) {
        this.checkKeys(pe, ['port', 'topic', 'ros2', 'qos', 'if', 'unless'], []);
        if (!this.enabled(pe, s)) continue;
        addPort(dir, this.required(pe, 'port'), this.required(pe, 'topic'), this.attrText(pe, 'ros2'), this.attrText(pe, 'qos'));
      }
    }
    this.xnodeNames.set(name, nameAttr.pos);
    this.xnodes.push(x);
  }

  private xpu(e: Entity, s: Scope): void {
    this.checkKeys(e, ['id', 'kind', 'lanes', 'profile', 'if', 'unless'], []);
    const idAttr = this.required(e, 'id');
    const id = this.text(idAttr, s);
    if (!/^[A-Za-z0-9_.:-]+$/.test(id)) throw new LaunchError(idAttr.pos, `invalid xpu id '${id}'; expected letters, digits, '_', '-', '.', ':'`);
    const first = this.xpuIds.get(id);
    if (first) throw new LaunchError(idAttr.pos, `duplicate xpu id '${id}' (first defined at ${first.file}:${first.line}:${first.column})`);
    const kindAttr = this.required(e, 'kind');
    const kind = this.text(kindAttr, s);
    if (!/^[a-z][a-z0-9_]*$/.test(kind)) throw new LaunchError(kindAttr.pos, `invalid xpu kind '${kind}'; expected a lower-case name such as cpu, gpu, npu`);
    const lanes = this.intAttr(e, 'lanes', s, 1, 1, 1024);
    const xpu: XpuEntity = { id, kind, lanes, pos: e.pos };
    const profile = this.attrText(e, 'profile');
    if (profile) xpu.profile = this.existingPath(profile, s, 'xpu profile');
    this.xpuIds.set(id, idAttr.pos);
    this.xpus.push(xpu);
  }

  // ---- attribute helpers ---------------------------------------------------------------

  /** Rejects attributes and child entity lists the entity type does not know. */
  private checkKeys(e: Entity, attrs: string[], lists: string[], container = false): void {
    const expected = () => [...attrs, ...lists].join(', ') || '(none)';
    for (const a of e.attrs.values()) {
      if (!attrs.includes(a.name)) {
        throw new LaunchError(a.namePos, `unknown attribute '${a.name}' for ${e.type}; expected one of ${expected()}`);
      }
    }
    if (e.format === 'xml' && container) return; // children are entities, checked one by one
    for (const [name, l] of e.lists) {
      if (!lists.includes(name)) {
        throw new LaunchError(l.pos, e.format === 'xml' ? `unexpected <${name}> inside <${e.type}>; expected ${lists.length ? lists.map((x) => `<${x}>`).join(', ') : 'no child elements'}` : `unknown attribute '${name}' for ${e.type}; expected one of ${expected()}`);
      }
    }
    if (e.format === 'yaml' && !container && e.children.length) {
      throw new LaunchError(e.children[0]!.pos, `'children' is only allowed in group; not in ${e.type}`);
    }
  }

  private list(e: Entity, name: string): Entity[] {
    const l = e.lists.get(name);
    if (l) return l.list;
    const a = e.attrs.get(name);
    // A YAML key given a scalar where a list of entities is expected.
    if (a && e.format === 'yaml') throw new LaunchError(a.namePos, `expected '${name}' to be a list of mappings (e.g. ${name}: [{name: ..., value: ...}]), got ${describeRaw(a.value)}`);
    return [];
  }

  private located(a: Attr, name: string): Located {
    if (a.value.kind !== 'text') throw new LaunchError(a.namePos, `expected '${name}' to be a string, got ${describeRaw(a.value)}`);
    return a.value.v;
  }

  private attrText(e: Entity, name: string): Located | undefined {
    const a = e.attrs.get(name);
    return a ? this.located(a, name) : undefined;
  }

  private required(e: Entity, name: string): Located {
    const v = this.attrText(e, name);
    if (!v) throw new LaunchError(e.pos, `missing required attribute '${name}' for ${e.type}`);
    return v;
  }

  private optText(e: Entity, name: string, s: Scope): string | undefined {
    const v = this.attrText(e, name);
    return v ? this.text(v, s) : undefined;
  }

  private boolAttr(e: Entity, name: string, s: Scope, def: boolean): boolean {
    const v = this.attrText(e, name);
    if (!v) return def;
    const b = parseBool(this.text(v, s));
    if (b === undefined) throw new LaunchError(v.pos, `invalid value '${this.text(v, s)}' for '${name}'; expected true or false`);
    return b;
  }

  /** A duration in seconds, > 0 and at most `max`; undefined when the attribute is absent. */
  private secondsAttr(e: Entity, name: string, s: Scope, max: number): number | undefined {
    const v = this.attrText(e, name);
    if (!v) return undefined;
    const t = this.text(v, s).trim();
    const range = `a number of seconds greater than 0 and at most ${max}`;
    const n = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(t) ? Number(t) : NaN;
    if (!(n > 0 && n <= max)) throw new LaunchError(v.pos, `invalid ${name} ${t.length > 30 ? `'${t.slice(0, 30)}...'` : `'${t}'`}; expected ${range}`);
    return n;
  }

  private intAttr(e: Entity, name: string, s: Scope, def: number, min: number, max: number): number {
    const v = this.attrText(e, name);
    if (!v) return def;
    const t = this.text(v, s).trim();
    const range = `an integer from ${min} to ${max}`;
    if (!/^[+-]?\d+$/.test(t)) throw new LaunchError(v.pos, `invalid ${name} '${t.slice(0, 40)}'; expected ${range}`);
    const n = Number(t);
    if (n < min || n > max) throw new LaunchError(v.pos, `invalid ${name} ${t.length > 30 ? `${t.slice(0, 30)}...` : t}; expected ${range}`);
    return n;
  }

  /**
   * A file named in the launch file: absolute, or relative to the launch file's folder, or
   * (as ros2 launch reads relative paths) to the working directory.
   */
  private existingPath(v: Located, s: Scope, what: string): string {
    const p = this.text(v, s);
    if (p === '') throw new LaunchError(v.pos, `expected a path for the ${what}`);
    const candidates = isAbsolute(p) ? [p] : [resolve(dirname(s.abs), p), resolve(p)];
    const found = candidates.find((c) => existsSync(c));
    if (found) return found;
    const where = candidates.length > 1 ? ` (looked in the launch file's folder and the working directory: ${candidates.map(displayPath).join(', ')})` : '';
    throw new LaunchError(v.pos, `${what} '${isAbsolute(p) ? displayPath(p) : p}' not found${where}`);
  }

  /**
   * A command line as ros2's _parse_cmdline splits it: only the literal text is split (shlex),
   * the result of each substitution stays inside one argument, so `$(var two)` with `two` =
   * `alpha beta` is one argument; a quote must close in the text it opens in.
   */
  private words(v: Located, s: Scope): string[] {
    const out: string[] = [];
    let arg: string[] | undefined;
    const flush = () => {
      if (arg) out.push(arg.join(''));
      arg = undefined;
    };
    for (const part of parseTemplate(v)) {
      if (typeof part !== 'string') {
        (arg ??= []).push(this.subst.call(part, s));
        continue;
      }
      const tokens = splitWords(part);
      if (!Array.isArray(tokens)) {
        throw new LaunchError(posIn(v, v.text.indexOf(part) + tokens.offset), `${tokens.error} in the literal text; expected the quote to close before the next substitution (ros2 splits only the text around substitutions)`);
      }
      if (tokens.length === 0) {
        flush();
        continue;
      }
      if (/^\s/.test(part)) flush();
      (arg ??= []).push(tokens[0]!);
      if (tokens.length > 1) {
        flush();
        for (const t of tokens.slice(1, -1)) out.push(t);
        arg = [tokens[tokens.length - 1]!];
      }
      if (/\s$/.test(part)) flush();
    }
    flush();
    return out;
  }

  /** `if` / `unless`: true/false/1/0, case-insensitively, as ros2's IfCondition. */
  private enabled(e: Entity, s: Scope): boolean {
    const ifA = this.attrText(e, 'if');
    const unlessA = this.attrText(e, 'unless');
    if (ifA && unlessA) throw new LaunchError(unlessA.pos, "'if' and 'unless' cannot both be given");
    const c = ifA ?? unlessA;
    if (!c) return true;
    const v = this.text(c, s);
    const b = parseBool(v);
    if (b === undefined) throw new LaunchError(c.pos, `invalid condition value '${v}'; expected true, false, 1 or 0 (case-insensitive)`);
    return ifA ? b : !b;
  }

  private text(v: Located, s: Scope): string {
    return this.subst.text(v, s);
  }
}

/** Entity types, by name with '-' read as '_' (ros2 XML spells some with '-'). */
const ENTITY_TYPES = ['arg', 'let', 'group', 'include', 'push_ros_namespace', 'set_env', 'unset_env', 'append_env', 'set_remap', 'remap', 'set_parameter', 'node', 'executable', 'xnode', 'xpu'] as const;
type EntityType = (typeof ENTITY_TYPES)[number];

const e0 = (e: Entity) => e.format;
