// The resolved launch description: what a YAML or XML launch file means after arguments,
// substitutions, conditions, groups and includes are applied. Both frontends produce it.

/** Where an entity (or a value) was written: used in every user-facing error. */
export interface SourcePos {
  file: string;
  line: number; // 1-based
  column: number; // 1-based
}

/** A ROS2 parameter value as ros2 launch types it (YAML rules; lists are homogeneous). */
export type ParamValue = string | number | boolean | string[] | number[] | boolean[];

/** The ROS2 type of a parameter value (numbers alone cannot tell `1` from `1.0`). */
export type ParamType = 'bool' | 'int' | 'double' | 'string' | 'bool_array' | 'int_array' | 'double_array' | 'string_array';

/**
 * One source of a node's parameters, in the order ros2 passes them (`-p` and `--params-file`
 * on the command line): rcl applies them in this order, rclcpp then matches node keys.
 */
export type ParamSource =
  | { kind: 'value'; name: string; value: ParamValue; type: ParamType; pos: SourcePos; global?: boolean }
  | { kind: 'file'; path: string; pos: SourcePos; sections: Array<{ path: string; params: Array<{ name: string; value: ParamValue; type: ParamType; pos: SourcePos }> }>; substituted?: boolean };

/** A `node` or `executable` entity: a child process to start. */
export interface ProcessEntity {
  kind: 'node' | 'executable';
  /** node: the `name` attribute (absent when not given). */
  name?: string;
  /** Absolute ROS namespace, e.g. `/vehicle/sensors` (`/` at the top). */
  namespace: string;
  pkg?: string;
  exec?: string;
  /** executable: the `cmd` split into words. */
  cmd?: string[];
  args: string[];
  /**
   * The parameters the node ends up with, flattened to dotted names (`a.b.c`): global
   * (`set_parameter`), parameter files and `param` values merged as rcl and rclcpp do it.
   * Ints beyond 2^53 are kept exact as their decimal digits (type `int`).
   */
  params: Record<string, ParamValue>;
  /** Parameter files named by `param from=` (kept in order, already resolved). */
  paramFiles: string[];
  /** The sources of `params` in declared order. */
  paramSources?: ParamSource[];
  /** `-p name:=value` and `--params-file FILE` words in the order ros2 passes them. */
  paramArgs?: string[];
  /** node without a `name`: its name is the executable's, so only `/**` file sections were merged. */
  paramsPartial?: boolean;
  remaps: Array<[string, string]>;
  /** Environment for the process: `set_env` in scope plus the entity's own `env`. */
  env: Record<string, string>;
  /** ROS2 type of each entry of `params` (int vs double, array kinds). */
  paramTypes?: Record<string, ParamType>;
  /** node: `ros_args` words, passed after `--ros-args`. */
  rosArgs?: string[];
  /** Variables removed by `unset_env` in scope (not inherited by the process). */
  unsetEnv?: string[];
  output?: 'screen' | 'log' | 'both';
  cwd?: string;
  pos: SourcePos;
}

/** A port bound to ROS2 over DDS. */
export interface Ros2Binding {
  port: string;
  dir: 'in' | 'out';
  /** Fully resolved topic name. */
  topic: string;
  /** QoS profile name: `default`, `sensor_data`, `services_default`, `parameters`, `system_default`. */
  qos: string;
}

/** An `xnode` entity: one pipeline stage. */
export interface XNodeEntity {
  name: string;
  namespace: string;
  /** XNODE type name as registered, e.g. `camera/preprocess`. */
  type: string;
  /** port -> fully resolved topic name (namespace applied, remaps applied). */
  inputs: Record<string, string>;
  outputs: Record<string, string>;
  params: Record<string, ParamValue>;
  /** ROS2 type of each entry of `params` (int vs double, array kinds). */
  paramTypes?: Record<string, ParamType>;
  /** Names set by the xnode's own `param` values (not global or file ones): they must exist. */
  ownParams?: string[];
  /** Allowed implementation names; empty means all. */
  impls: string[];
  /** Higher is more important; default 0. */
  priority: number;
  /** Deadline of one run of this xnode (seconds, `timeout`); else derived from its profile. */
  timeoutS?: number;
  /** Module for the module-level baseline: explicit `module`, else the namespace, else the name. */
  module: string;
  /** Process to place this xnode in; default `main`. */
  process: string;
  ros2: Ros2Binding[];
  pos: SourcePos;
  /**
   * Position of each port and param declaration, for errors about them: keyed by port name,
   * param name (also as `param.NAME`, unambiguous) and attribute (`type`, `impl`, `priority`, ...).
   */
  portPos: Record<string, SourcePos>;
}

/** An `xpu` entity: a declared (simulated) XPU. */
export interface XpuEntity {
  id: string;
  kind: string;
  lanes: number;
  /** Optional profile file (resolved path) with this XPU's latencies. */
  profile?: string;
  pos: SourcePos;
}

/** An `arg` entity as declared (for `--show-args` and checks of command-line arguments). */
export interface ArgDeclaration {
  name: string;
  default?: string;
  description?: string;
  choices?: string[];
  pos: SourcePos;
}

export interface LaunchDescription {
  /** The top-level file. */
  file: string;
  /** Every `arg` the launch read (top file and includes), in order. */
  declaredArgs?: ArgDeclaration[];
  /** Launch arguments as finally resolved at the top level. */
  args: Record<string, string>;
  processes: ProcessEntity[];
  xnodes: XNodeEntity[];
  xpus: XpuEntity[];
}

/** A user error in a launch file: carries where and what was expected. */
export class LaunchError extends Error {
  constructor(
    readonly pos: SourcePos,
    readonly detail: string,
  ) {
    super(`${pos.file}:${pos.line}:${pos.column}: ${detail}`);
    this.name = 'LaunchError';
  }
}
