// Real `xauto` processes for the crash-recovery tests: the CLI run from its sources, killed
// with SIGKILL after some commits when asked; the messages of a recorded topic by frame.
import { spawn } from 'node:child_process';
import { Recording } from '../runtime/record/reader.js';

const root = new URL('..', import.meta.url).pathname;

export interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
  stdout: string;
}

/**
 * Runs the CLI; with `killAfterCommits`, SIGKILLs it once that many checkpoints are committed
 * (a number), or once a commit line matches (a pattern).
 */
export function xauto(args: string[], env: NodeJS.ProcessEnv, killAfterCommits?: number | RegExp): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import=tsx', 'runtime/cli/main.ts', ...args], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => {
      stderr += d;
      if (typeof killAfterCommits === 'number' && (stderr.match(/checkpoint epoch \d+ committed/g) ?? []).length >= killAfterCommits) child.kill('SIGKILL');
      if (killAfterCommits instanceof RegExp && killAfterCommits.test(stderr)) child.kill('SIGKILL');
    });
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/** The messages of a topic by frame, decoded (xauto/* types are not encoded canonically: compare values). */
export async function messages(file: string, topic: string): Promise<Map<number, unknown>> {
  const r = await Recording.open(file);
  const out = new Map<number, unknown>();
  for await (const m of r.messages([topic])) out.set(m.seq, Recording.value(m));
  await r.close();
  return out;
}
