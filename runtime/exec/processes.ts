// Starts the `node` and `executable` entities of a launch description as real child processes,
// the way ros2 launch does: ROS2 executables found under AMENT_PREFIX_PATH, `--ros-args` with
// node name, namespace, parameters and remappings, output lines prefixed `[name-N] `, exit
// codes reported, and an orderly stop (SIGINT, then SIGTERM, then SIGKILL); they die with us.
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, createWriteStream, mkdirSync, readlinkSync, statSync, type WriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, delimiter, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { LaunchError, type ProcessEntity } from '../launch/types.js';
import { findPackage, searchedPrefixes } from '../launch/packages.js';
import { formatParam } from '../launch/params.js';

export interface ProcessExit {
  /** `name-N` as in the output prefix. */
  label: string;
  entity: ProcessEntity;
  pid?: number;
  /** Exit code, or null when ended by a signal or never started. */
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Why the process could not be started, when it could not. */
  error?: string;
}

export interface StartOptions {
  onExit?: (exit: ProcessExit) => void;
  /** Receives every output and status line, already prefixed; default: stdout. */
  log?: (line: string) => void;
  /** Base environment; default process.env. */
  env?: NodeJS.ProcessEnv;
  /** How long to wait after SIGINT (and again after SIGTERM) before escalating; default 5000 ms. */
  graceMs?: number;
  /** Where `output: log` processes write `<label>.log`; default a folder under the OS temp dir. */
  logDir?: string;
}

export interface RunningProcess {
  label: string;
  entity: ProcessEntity;
  /** The command line actually started. */
  cmd: string[];
  pid?: number;
}

export interface ProcessGroup {
  readonly processes: readonly RunningProcess[];
  /** Resolves once every process has exited, with how each ended. */
  readonly done: Promise<ProcessExit[]>;
  /** SIGINT to all, SIGTERM then SIGKILL after grace periods; resolves when all are gone. */
  stop(): Promise<ProcessExit[]>;
}

/** The command line ros2 launch would run for an entity (resolving ROS2 packages). */
export function commandFor(entity: ProcessEntity, env: NodeJS.ProcessEnv = process.env): string[] {
  if (entity.kind === 'executable') {
    if (!entity.cmd || entity.cmd.length === 0) throw new LaunchError(entity.pos, 'executable has no cmd');
    return [...entity.cmd, ...entity.args];
  }
  if (!entity.exec) throw new LaunchError(entity.pos, 'node has no exec');
  let exe = entity.exec;
  if (entity.pkg) {
    const loc = entity.pkg === 'xauto' ? undefined : findPackage(entity.pkg, env);
    if (!loc) {
      const prefixes = searchedPrefixes(env);
      throw new LaunchError(
        entity.pos,
        `cannot start node '${entity.name ?? entity.exec}': ROS2 package '${entity.pkg}' is not installed; searched ROS2's AMENT_PREFIX_PATH${prefixes.length ? ` (${prefixes.join(', ')})` : ' (empty: source a ROS2 setup.bash first)'}`,
      );
    }
    exe = join(loc.prefix, 'lib', entity.pkg, entity.exec);
    try {
      accessSync(exe, constants.X_OK);
    } catch {
      throw new LaunchError(entity.pos, `cannot start node: package '${entity.pkg}' has no executable '${entity.exec}' (looked for ${exe})`);
    }
  }
  const cmd = [exe, ...entity.args, '--ros-args', ...(entity.rosArgs ?? [])];
  if (entity.name) cmd.push('-r', `__node:=${entity.name}`);
  cmd.push('-r', `__ns:=${entity.namespace}`);
  // ros2 passes `-p` and `--params-file` in the order they were declared: a later source
  // replaces an earlier one, so the order decides the values the node gets.
  if (entity.paramArgs) cmd.push(...entity.paramArgs);
  else {
    for (const f of entity.paramFiles) cmd.push('--params-file', f);
    for (const [k, v] of Object.entries(entity.params)) cmd.push('-p', `${k}:=${formatParam(v, entity.paramTypes?.[k])}`);
  }
  for (const [from, to] of entity.remaps) cmd.push('-r', `${from}:=${to}`);
  return cmd;
}

/**
 * Where util-linux `setpriv` exists, processes start through `setpriv --pdeathsig SIGTERM`, so
 * that they get SIGTERM when this process dies, even by kill -9 (ros2 launch leaves them
 * orphaned). Only for commands that resolve: a missing one keeps its usual 'not found' error.
 */
const SETPRIV = ['/usr/bin/setpriv', '/bin/setpriv'].find((f) => isExecutable(f));

/**
 * Resolves once `pid` runs its own program: setpriv sets the parent-death signal and then
 * execs, so from then on the process cannot outlive us (before it, a kill -9 of this process
 * would leave it orphaned). Gives up after a second (a process gone counts as armed).
 */
async function whenArmed(pid: number): Promise<void> {
  const end = Date.now() + 1000;
  while (Date.now() < end) {
    try {
      if (basename(readlinkSync(`/proc/${pid}/exe`)) !== 'setpriv') return;
    } catch {
      return;
    }
    await new Promise((r) => setTimeout(r, 1));
  }
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

function resolvesTo(cmd: string, env: NodeJS.ProcessEnv, cwd?: string): boolean {
  if (cmd.includes('/')) return isExecutable(cwd ? resolve(cwd, cmd) : cmd);
  return (env.PATH ?? '').split(delimiter).some((dir) => dir && isExecutable(join(dir, cmd)));
}

function spawnArgv(cmd: string[], env: NodeJS.ProcessEnv, cwd?: string): [string, string[]] {
  if (SETPRIV && process.platform === 'linux' && resolvesTo(cmd[0]!, env, cwd)) return [SETPRIV, ['--pdeathsig', 'SIGTERM', '--', ...cmd]];
  return [cmd[0]!, cmd.slice(1)];
}

function envFor(entity: ProcessEntity, base: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const env = { ...base, ...entity.env };
  for (const k of entity.unsetEnv ?? []) delete env[k];
  return env;
}

/** Starts every entity; throws LaunchError (before starting any) when one cannot be resolved. */
export function startProcesses(entities: ProcessEntity[], opts: StartOptions = {}): ProcessGroup {
  const baseEnv = opts.env ?? process.env;
  const log = opts.log ?? ((line: string) => process.stdout.write(`${line}\n`));
  const graceMs = opts.graceMs ?? 5000;
  const counts = new Map<string, number>();
  const planned = entities.map((entity) => {
    const cmd = commandFor(entity, baseEnv);
    const base = entity.kind === 'executable' && entity.name ? entity.name : basename(entity.kind === 'node' ? entity.exec! : cmd[0]!);
    const n = (counts.get(base) ?? 0) + 1;
    counts.set(base, n);
    return { entity, cmd, label: `${base}-${n}` };
  });

  const children: Array<{ child?: ChildProcess; exited: boolean }> = [];
  const running: RunningProcess[] = [];
  const exits: Array<Promise<ProcessExit>> = [];
  let logDir: string | undefined;

  for (const { entity, cmd, label } of planned) {
    const slot: { child?: ChildProcess; exited: boolean } = { exited: false };
    children.push(slot);
    const rp: RunningProcess = { label, entity, cmd };
    running.push(rp);
    exits.push(
      new Promise<ProcessExit>((resolveExit) => {
        let file: WriteStream | undefined;
        if (entity.output === 'log') {
          logDir ??= opts.logDir ?? join(tmpdir(), `xauto-launch-${process.pid}-${Date.now()}`);
          mkdirSync(logDir, { recursive: true });
          file = createWriteStream(join(logDir, `${label}.log`));
        }
        const finish = (exit: ProcessExit) => {
          if (slot.exited) return;
          slot.exited = true;
          if (exit.error) log(`[ERROR] [${label}]: process could not be started: ${exit.error}`);
          else if (exit.code === 0) log(`[INFO] [${label}]: process has finished cleanly [pid ${exit.pid}]`);
          else log(`[ERROR] [${label}]: process has died [pid ${exit.pid}, ${exit.signal ? `signal ${exit.signal}` : `exit code ${exit.code}`}, cmd '${cmd.join(' ')}']`);
          opts.onExit?.(exit);
          // Resolve once the log file is flushed, so that it is complete when `done` resolves.
          if (file) file.end(() => resolveExit(exit));
          else resolveExit(exit);
        };
        let child: ChildProcess;
        let viaSetpriv = false;
        try {
          // Own process group, so stop() also reaches the process's own children.
          const env = envFor(entity, baseEnv);
          const [program, argv] = spawnArgv(cmd, env, entity.cwd);
          viaSetpriv = program === SETPRIV;
          child = spawn(program, argv, { cwd: entity.cwd, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
        } catch (err) {
          finish({ label, entity, code: null, signal: null, error: (err as Error).message });
          return;
        }
        slot.child = child;
        rp.pid = child.pid;
        child.on('error', (err: NodeJS.ErrnoException) => {
          const why = err.code === 'ENOENT' ? `'${cmd[0]}' not found${entity.cwd ? ` (or cwd '${entity.cwd}' missing)` : ''}` : err.message;
          finish({ label, entity, code: null, signal: null, error: why });
        });
        if (child.pid !== undefined) {
          const pid = child.pid;
          // Said once its parent-death signal is set: a launch killed at once cannot leave it behind.
          if (viaSetpriv) void whenArmed(pid).then(() => log(`[INFO] [${label}]: process started with pid [${pid}]`));
          else log(`[INFO] [${label}]: process started with pid [${pid}]`);
        }
        const toScreen = entity.output !== 'log';
        for (const [stream, isErr] of [[child.stdout!, false], [child.stderr!, true]] as const) {
          const rl = createInterface({ input: stream, crlfDelay: Infinity });
          rl.on('line', (line) => {
            if (file) file.write(`${line}\n`);
            // ros2 shows stderr on screen even for output=log.
            if (toScreen || isErr) log(`[${label}] ${line}`);
          });
        }
        child.on('close', (code, signal) => finish({ label, entity, pid: child.pid, code, signal }));
      }),
    );
  }

  const alive = () => children.filter((c) => c.child && !c.exited && c.child.pid !== undefined);
  const signalAll = (sig: NodeJS.Signals) => {
    for (const c of alive()) {
      try {
        process.kill(-c.child!.pid!, sig);
      } catch {
        try {
          c.child!.kill(sig);
        } catch {
          /* already gone */
        }
      }
    }
  };
  // Never leave children behind if this process exits without stopping them.
  const onParentExit = () => signalAll('SIGKILL');
  process.on('exit', onParentExit);
  const done = Promise.all(exits).then((all) => {
    process.off('exit', onParentExit);
    return all;
  });

  let stopping: Promise<ProcessExit[]> | undefined;
  const stop = (): Promise<ProcessExit[]> => {
    stopping ??= (async () => {
      const wait = (ms: number) =>
        Promise.race([done.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), ms).unref())]);
      for (const sig of ['SIGINT', 'SIGTERM', 'SIGKILL'] as const) {
        if (alive().length === 0) break;
        signalAll(sig);
        if (await wait(sig === 'SIGKILL' ? 60_000 : graceMs)) break;
      }
      return done;
    })();
    return stopping;
  };

  return { processes: running, done, stop };
}
