// Launch files (ROS2 launch YAML and XML, plus xauto's xnode/xpu entities) -> LaunchDescription.
import { Interpreter, type LoadOptions } from './interpret.js';
import type { LaunchDescription } from './types.js';

export * from './types.js';
export type { LoadOptions } from './interpret.js';
export { typeParamString, formatParam, sectionMatches } from './params.js';
export { readParamsFile } from './yaml-doc.js';
export { mergeParams, paramArguments } from './param-merge.js';
export { findPackage, notFoundMessage } from './packages.js';

/**
 * Reads a launch file (`.launch.yaml`/`.yaml`/`.yml` or `.launch.xml`/`.xml`) and resolves it.
 * Throws LaunchError (file:line:column: what was expected) for any problem in the files.
 */
export function loadLaunchFile(file: string, opts: LoadOptions = {}): LaunchDescription {
  return new Interpreter(opts).run(file);
}

/** Splits `name:=value` words (as `ros2 launch` takes them) from the other words. */
export function parseLaunchArgs(argv: string[]): { args: Record<string, string>; rest: string[] } {
  const args: Record<string, string> = {};
  const rest: string[] = [];
  for (const w of argv) {
    const i = w.indexOf(':=');
    if (i > 0 && /^[A-Za-z_][A-Za-z0-9_.-]*$/.test(w.slice(0, i))) args[w.slice(0, i)] = w.slice(i + 2);
    else rest.push(w);
  }
  return { args, rest };
}
