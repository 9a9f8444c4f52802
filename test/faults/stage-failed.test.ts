// A stage every implementation of which failed: said once, marked failed in the report, and
// `xauto launch` exits 3 at the end; `--on-stage-failed stop` ends the run there instead.
import test from 'ava';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from '../fixtures/ros2/env.js';

function launch(extra: string[]): Promise<{ code: number | null; out: string }> {
  const args = ['launch', 'test/fixtures/faults/broken.launch.yaml', '--xnodes', 'test/fixtures/faults/probe-xnodes.ts', '--frames', '40', '--plan', 'default', ...extra];
  const proc = spawn(process.execPath, ['--import=tsx', join(repoRoot, 'runtime/cli/main.ts'), ...args], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout.on('data', (d: Buffer) => (out += d));
  proc.stderr.on('data', (d: Buffer) => (out += d));
  return new Promise((resolve) => proc.on('close', (code) => resolve({ code, out })));
}

const count = (s: string, re: RegExp) => s.split('\n').filter((l) => re.test(l)).length;

test('a stage with no fallback left is said failed once, marked in the report, and the launch exits 3; the run goes on by default', async (t) => {
  const { code, out } = await launch([]);
  t.is(code, 3, out);
  t.is(count(out, /^\[breaker\] no fallback left/), 1, out);
  t.regex(out, /^\[breaker\] no fallback left after js@main failed: the stage is marked failed$/m);
  t.regex(out, /^breaker\s+js@main \(failed\)/m, 'marked in the stage table');
  t.regex(out, /^failed stages \(every implementation failed, no fallback left\): breaker$/m);
  t.regex(out, /40 frames emitted, 2 completed, 38 lost \(38 failed\)/, 'every later frame still ran and is counted');
  t.regex(out, /^xauto: stage breaker failed \(every implementation failed, no fallback left\); exit 3$/m);
  t.notRegex(out, /\n\s+at /, 'no stack trace');
});

test('--on-stage-failed stop ends the run at the failed stage, with its report and exit 3', async (t) => {
  const { code, out } = await launch(['--on-stage-failed', 'stop']);
  t.is(code, 3, out);
  t.regex(out, /^\[breaker\] no fallback left after js@main failed: the stage is marked failed; stopping the run$/m);
  const m = /(\d+) frames emitted, 2 completed/.exec(out);
  t.truthy(m, out);
  t.true(Number(m![1]) < 40, 'stopped before the frame budget');
  t.regex(out, /^breaker\s+js@main \(failed\)/m);
});

test('--on-stage-failed takes only stop or continue (exit 2), and --help documents exit 3', async (t) => {
  const bad = await launch(['--on-stage-failed', 'maybe']);
  t.is(bad.code, 2, bad.out);
  t.regex(bad.out, /on-stage-failed/);
  const proc = spawn(process.execPath, ['--import=tsx', join(repoRoot, 'runtime/cli/main.ts'), 'launch', '--help'], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  let help = '';
  proc.stdout.on('data', (d: Buffer) => (help += d));
  await new Promise((r) => proc.on('close', r));
  t.regex(help.replace(/\s+/g, ' '), /--on-stage-failed/);
  t.regex(help.replace(/\s+/g, ' '), /3 the run ended with a stage every implementation of which failed/);
});
