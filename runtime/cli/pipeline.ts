// What every command that takes a launch file does first: read `name:=value` arguments,
// load the description, build the graph from the XNODE packages it uses.
import { buildGraph, type Graph } from '../graph/index.js';
import { loadLaunchFile, parseLaunchArgs, type LaunchDescription } from '../launch/index.js';
import { UserError } from './errors.js';
import { loadRegistry } from './xnodes.js';

/** Launch arguments from the command line; a word without `:=` is a user error. */
export function launchArguments(words: string[]): Record<string, string> {
  for (const w of words) if (!w.includes(':=')) throw new UserError(`launch argument '${w}': expected name:=value`);
  return parseLaunchArgs(words).args;
}

export function loadDescription(file: string, words: string[], allowCommand = false): LaunchDescription {
  return loadLaunchFile(file, { args: launchArguments(words), allowCommand });
}

/** The graph of a description, with only the XNODE packages it names loaded (plus `extra`). */
export async function graphOf(desc: LaunchDescription, extra: string[] = []): Promise<Graph> {
  return buildGraph(desc, await loadRegistry({ types: desc.xnodes.map((x) => x.type), extra }));
}
