// What is in effect at a point of a launch file, and options that hold for the whole launch.
import type { ParamSource } from './types.js';

export interface LoadOptions {
  /** Launch arguments (`name:=value` on the command line). */
  args?: Record<string, string>;
  /** Allow `$(command ...)`, which runs programs while the file is read. */
  allowCommand?: boolean;
  /** Environment seen by `$(env)`, package lookup and `$(command)`; default process.env. */
  env?: NodeJS.ProcessEnv;
  /** `--show-args`: a required argument that is missing reads as '' instead of failing. */
  showArgs?: boolean;
}

/** What is in effect at a point of a launch file; groups and includes copy it. */
export interface Scope {
  file: string; // as shown in messages
  abs: string;
  configs: Map<string, string>;
  /** Environment changes by set_env (string) and unset_env (null). */
  env: Map<string, string | null>;
  ns: string;
  remaps: Array<[string, string]>;
  /** `set_parameter` values in scope, passed first to every node. */
  globalParams: ParamSource[];
}

/** A copy for a group or include: changes inside do not reach the enclosing scope. */
export function childScope(s: Scope): Scope {
  return { ...s, configs: new Map(s.configs), env: new Map(s.env), remaps: [...s.remaps], globalParams: [...s.globalParams] };
}

/** ros2 launch's truth values: true/false/1/0, case-insensitively. */
export function parseBool(v: string): boolean | undefined {
  const l = v.trim().toLowerCase();
  if (l === 'true' || l === '1') return true;
  if (l === 'false' || l === '0') return false;
  return undefined;
}
