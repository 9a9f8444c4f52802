// The processes of a multi-process launch as the top process sees them (each runs the same
// launch restricted with --process), and the stop signals every xauto process handles alike.
import { spawn, type ChildProcess } from 'node:child_process';
import { constants } from 'node:os';
import { createInterface } from 'node:readline';
import { PARENT_ENV } from '../exec/lifeline.js';

export interface ChildExit {
  name: string;
  pid?: number;
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface LaunchChild {
  name: string;
  proc: ChildProcess;
  /** Settles once, however the process ended (exit code or signal), even if it already had. */
  exited: Promise<ChildExit>;
}

/** `killed by SIGKILL`, `exited with code 3`. */
export const howEnded = (e: ChildExit): string => (e.signal ? `killed by ${e.signal}` : `exited with code ${e.code}`);

/**
 * Starts one process of a multi-process launch: this entry point with `args`, output prefixed
 * `[name] `. Its stdin is a pipe this process holds: when we die, even by kill -9, it sees EOF
 * (and its parent-death signal) and stops (runtime/exec/lifeline.ts).
 */
export function startChild(name: string, args: string[], onExit: (e: ChildExit) => void): LaunchChild {
  const proc = spawn(process.execPath, [...process.execArgv, process.argv[1]!, ...args], {
    stdio: ['pipe', 'pipe', 'pipe'],
    // Its own process group: a terminal's Ctrl-C reaches only us, and we forward one SIGINT.
    detached: true,
    env: { ...process.env, [PARENT_ENV]: String(process.pid) },
  });
  const prefix = (from: NodeJS.ReadableStream, to: NodeJS.WritableStream) =>
    createInterface({ input: from, crlfDelay: Infinity }).on('line', (line) => to.write(`[${name}] ${line}\n`));
  prefix(proc.stdout!, process.stdout);
  prefix(proc.stderr!, process.stderr);
  proc.stdin!.on('error', () => {}); // the child may be gone before we close it
  const exited = new Promise<ChildExit>((resolve) => {
    proc.once('exit', (code, signal) => {
      const e = { name, pid: proc.pid, code, signal };
      onExit(e);
      resolve(e);
    });
    proc.once('error', (err) => {
      const e = { name, pid: proc.pid, code: null, signal: null };
      process.stderr.write(`xauto: process '${name}' could not be started: ${err.message}\n`);
      onExit(e);
      resolve(e);
    });
  });
  return { name, proc, exited };
}

export type StopSignal = 'SIGINT' | 'SIGTERM';

/** The exit code of a process ended by `sig` (128 + its number), as shells report it. */
export const signalExitCode = (sig: StopSignal): number => 128 + constants.signals[sig];

/**
 * SIGINT and SIGTERM mean the same: stop in order. The first one calls `onStop`; a second one
 * exits at once with one line. Returns a function that removes the handlers.
 */
export function onStopSignals(onStop: (sig: StopSignal) => void, log: (line: string) => void): () => void {
  let first: StopSignal | undefined;
  const handler = (sig: StopSignal): void => {
    if (first) {
      log(`xauto: ${sig} again: exiting without draining`);
      process.exit(signalExitCode(sig));
    }
    first = sig;
    onStop(sig);
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return () => {
    process.off('SIGINT', handler);
    process.off('SIGTERM', handler);
  };
}

/**
 * Until a command installs its own handlers, a stop signal while xauto loads exits with one
 * line instead of silently. Installed when this module loads (before any command runs).
 */
export function stopWhileLoading(): void {
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, function early() {
      if (process.listenerCount(sig) > 0) return; // a command handles it now
      process.stderr.write(`xauto: ${sig}: stopped\n`);
      process.exit(signalExitCode(sig));
    });
  }
}
