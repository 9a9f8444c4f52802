// What every command that takes a launch file does first: read `name:=value` arguments,
// load the description, build the graph from the XNODE packages it uses.
import { buildGraph, didYouMean, type Graph } from '../graph/index.js';
import { loadLaunchFile, LaunchError, type LaunchDescription } from '../launch/index.js';
import { UserError } from './errors.js';
import { loadRegistry } from './xnodes.js';

/**
 * Launch arguments from the command line, as `ros2 launch` parses them: a word without `:=`,
 * one starting with `:=` (no name) or ending with its only `:=` (no value) is refused.
 */
export function launchArguments(words: string[]): Record<string, string> {
  const args: Record<string, string> = {};
  for (const w of words) {
    const count = w.split(':=').length - 1;
    if (count === 0 || w.startsWith(':=') || (count === 1 && w.endsWith(':='))) {
      throw new UserError(`malformed launch argument '${w}', expected format '<name>:=<value>'`);
    }
    const i = w.indexOf(':=');
    args[w.slice(0, i)] = w.slice(i + 2);
  }
  return args;
}

export function loadDescription(file: string, words: string[], allowCommand = false, warn: (line: string) => void = (l) => process.stderr.write(l + '\n')): LaunchDescription {
  const args = launchArguments(words);
  const desc = loadLaunchFile(file, { args, allowCommand });
  // ros2 launch passes an argument nobody declares on silently; a typo then changes nothing.
  const declared = (desc.declaredArgs ?? []).map((d) => d.name);
  for (const name of Object.keys(args)) {
    if (!declared.includes(name)) {
      warn(`xauto: warning: launch argument '${name}' is not declared by ${file}${didYouMean(name, declared) || (declared.length ? `; declared: ${declared.join(', ')}` : '; it declares none')}`);
    }
  }
  return desc;
}

/** `--show-args`: the declared arguments with defaults, descriptions and choices (as `ros2 launch -s`). */
export function showArgs(file: string, words: string[], allowCommand = false): string {
  let desc: LaunchDescription | undefined;
  let problem = '';
  try {
    desc = loadLaunchFile(file, { args: launchArguments(words), allowCommand, showArgs: true });
  } catch (e) {
    if (!(e instanceof LaunchError)) throw e;
    problem = e.message;
  }
  const decls = desc?.declaredArgs ?? [];
  if (!desc) throw new UserError(problem);
  if (decls.length === 0) return `${file} declares no launch arguments\n`;
  const lines = ["Arguments (pass arguments as '<name>:=<value>'):", ''];
  for (const d of decls) {
    lines.push(`    '${d.name}':`);
    lines.push(`        ${d.description ?? 'no description given'}`);
    if (d.choices?.length) lines.push(`        Valid choices are: [${d.choices.map((c) => `'${c}'`).join(', ')}]`);
    lines.push(d.default !== undefined ? `        (default: '${d.default}')` : '        (required: no default)');
    lines.push('');
  }
  return lines.join('\n');
}

/** The graph of a description, with only the XNODE packages it names loaded (plus `extra`). */
export async function graphOf(desc: LaunchDescription, extra: string[] = []): Promise<Graph> {
  return buildGraph(desc, await loadRegistry({ types: desc.xnodes.map((x) => x.type), extra }));
}
