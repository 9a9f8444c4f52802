import test from 'ava';
import { loadLaunchFile, LaunchError, type ProcessEntity } from '../runtime/launch/index.js';
import { commandFor, startProcesses, type ProcessExit } from '../runtime/exec/processes.js';
import { fakeAmentEnv, fixture } from './launch-helpers.js';

const exe = (cmd: string[], extra: Partial<ProcessEntity> = {}): ProcessEntity => ({
  kind: 'executable',
  namespace: '/',
  cmd,
  args: [],
  params: {},
  paramFiles: [],
  remaps: [],
  env: {},
  pos: { file: 'test', line: 1, column: 1 },
  ...extra,
});

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

test('an executable running node -e: prefixed stdout and stderr lines and its exit code', async (t) => {
  const lines: string[] = [];
  const exits: ProcessExit[] = [];
  const g = startProcesses([exe(['node', '-e', 'console.log("hello"); console.error("oops"); console.log("bye"); process.exit(3)'], { name: 'greeter' })], {
    log: (l) => lines.push(l),
    onExit: (e) => exits.push(e),
  });
  const [done] = await g.done;
  t.is(done!.code, 3);
  t.is(exits[0]!.code, 3);
  t.true(lines.includes('[greeter-1] hello'));
  t.true(lines.includes('[greeter-1] oops'));
  t.true(lines.indexOf('[greeter-1] hello') < lines.indexOf('[greeter-1] bye'));
  t.true(lines.some((l) => /^\[INFO\] \[greeter-1\]: process started with pid \[\d+\]$/.test(l)));
  t.true(lines.some((l) => /^\[ERROR\] \[greeter-1\]: process has died \[pid \d+, exit code 3, cmd 'node -e /.test(l)));
});

test('the executable from a launch file runs with its args, cwd and environment', async (t) => {
  const d = loadLaunchFile(fixture('full.launch.yaml'));
  const printer = d.processes.find((p) => p.kind === 'executable')!;
  const lines: string[] = [];
  const [exit] = await startProcesses([printer], { log: (l) => lines.push(l) }).done;
  t.is(exit!.code, 0);
  t.true(lines.includes('[printer-1] 1'));
  t.true(lines.some((l) => /process has finished cleanly/.test(l)));
  const envProbe = exe(['node', '-e', 'console.log(process.cwd(), process.env.A, process.env.GONE ?? "unset")'], { env: { A: 'set' }, unsetEnv: ['GONE'], cwd: '/tmp' });
  lines.length = 0;
  await startProcesses([envProbe], { log: (l) => lines.push(l), env: { ...process.env, GONE: 'here' } }).done;
  t.true(lines.includes('[node-1] /tmp set unset'));
});

test('processes with the same name are numbered like ros2 launch', async (t) => {
  const lines: string[] = [];
  const g = startProcesses([exe(['node', '-e', 'console.log(1)']), exe(['node', '-e', 'console.log(2)'])], { log: (l) => lines.push(l) });
  t.deepEqual(g.processes.map((p) => p.label), ['node-1', 'node-2']);
  await g.done;
  t.true(lines.includes('[node-1] 1'));
  t.true(lines.includes('[node-2] 2'));
});

test('stop() sends SIGINT, escalates for processes that ignore it, and leaves no process behind', async (t) => {
  const lines: string[] = [];
  // One exits on SIGINT; one ignores SIGINT (needs SIGTERM); one has a child of its own.
  const polite = exe(['node', '-e', 'process.on("SIGINT", () => { console.log("interrupted"); process.exit(0); }); console.log("ready"); setInterval(() => {}, 1000);'], { name: 'polite' });
  const stubborn = exe(['node', '-e', 'process.on("SIGINT", () => console.log("ignoring")); console.log("ready"); setInterval(() => {}, 1000);'], { name: 'stubborn' });
  const parent = exe(['node', '-e', 'const c = require("child_process").spawn("sleep", ["60"], { stdio: "ignore" }); console.log("child " + c.pid); setInterval(() => {}, 1000);'], { name: 'parent' });
  const g = startProcesses([polite, stubborn, parent], { log: (l) => lines.push(l), graceMs: 300 });
  const ready = () => lines.filter((l) => / ready$| child \d+$/.test(l)).length === 3;
  for (let i = 0; i < 100 && !ready(); i++) await new Promise((r) => setTimeout(r, 50));
  t.true(ready());
  const grandchild = Number(/child (\d+)/.exec(lines.find((l) => / child \d+$/.test(l))!)![1]);
  const exits = await g.stop();
  t.is(exits.find((e) => e.label === 'polite-1')!.code, 0);
  t.true(lines.includes('[polite-1] interrupted'));
  t.true(lines.includes('[stubborn-1] ignoring'));
  t.is(exits.find((e) => e.label === 'stubborn-1')!.signal, 'SIGTERM');
  for (const p of g.processes) t.false(alive(p.pid!), p.label);
  for (let i = 0; i < 40 && alive(grandchild); i++) await new Promise((r) => setTimeout(r, 50));
  t.false(alive(grandchild));
});

test('a node of a package that is not installed: clear error naming it and AMENT_PREFIX_PATH', (t) => {
  const d = loadLaunchFile(fixture('full.launch.xml'));
  const node = d.processes.find((p) => p.kind === 'node')!;
  const e = t.throws(() => startProcesses([node], { env: { PATH: process.env.PATH } }), { instanceOf: LaunchError });
  t.regex(e!.message, /full\.launch\.xml:\d+:\d+: cannot start node 'talker': ROS2 package 'demo_nodes_cpp' is not installed; searched ROS2's AMENT_PREFIX_PATH/);
});

test('a node is started as ros2 launch would: lib/<pkg>/<exec> with --ros-args', async (t) => {
  const node: ProcessEntity = {
    kind: 'node',
    pkg: 'demo_pkg',
    exec: 'echo_args',
    name: 'echo',
    namespace: '/robot',
    args: ['--flag'],
    rosArgs: ['--log-level', 'warn'],
    params: { rate: 1, gain: 1, label: '42', list: [1, 2] },
    paramTypes: { rate: 'int', gain: 'double', label: 'string', list: 'double_array' },
    paramFiles: ['/tmp/p.yaml'],
    remaps: [['in', '/camera/in']],
    env: {},
    pos: { file: 'test', line: 1, column: 1 },
  };
  const env = fakeAmentEnv();
  const cmd = commandFor(node, env);
  t.deepEqual(cmd, [
    fixture('fake_ament_prefix/lib/demo_pkg/echo_args'),
    '--flag',
    '--ros-args',
    '--log-level',
    'warn',
    '-r',
    '__node:=echo',
    '-r',
    '__ns:=/robot',
    '--params-file',
    '/tmp/p.yaml',
    '-p',
    'rate:=1',
    '-p',
    'gain:=1.0',
    '-p',
    "label:='42'",
    '-p',
    'list:=[1.0, 2.0]',
    '-r',
    'in:=/camera/in',
  ]);
  // ros2 rule: the child's command line keeps the declared order of -p and --params-file.
  const ordered = commandFor({ ...node, paramArgs: ['-p', 'rate:=1', '--params-file', '/tmp/p.yaml', '-p', 'gain:=1.0'] }, env);
  t.deepEqual(ordered.slice(ordered.indexOf('__ns:=/robot') + 1, -2), ['-p', 'rate:=1', '--params-file', '/tmp/p.yaml', '-p', 'gain:=1.0']);
  const lines: string[] = [];
  const [exit] = await startProcesses([node], { env, log: (l) => lines.push(l) }).done;
  t.is(exit!.code, 0);
  const printed = lines.find((l) => l.startsWith('[echo_args-1] ['))!;
  t.deepEqual(JSON.parse(printed.slice('[echo_args-1] '.length)), cmd.slice(1));
});

test('a command that does not exist is reported, not thrown', async (t) => {
  const lines: string[] = [];
  const [exit] = await startProcesses([exe(['xauto-no-such-program-here'])], { log: (l) => lines.push(l) }).done;
  t.is(exit!.code, null);
  t.regex(exit!.error!, /not found/);
  t.true(lines.some((l) => /\[ERROR\] \[xauto-no-such-program-here-1\]: process could not be started/.test(l)));
});

test('output=log writes the output to a log file and still shows stderr', async (t) => {
  const { mkdtempSync, readFileSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const logDir = mkdtempSync(join(tmpdir(), 'xauto-plog-'));
  const lines: string[] = [];
  await startProcesses([exe(['node', '-e', 'console.log("to-file"); console.error("to-screen")'], { name: 'quiet', output: 'log' })], { log: (l) => lines.push(l), logDir }).done;
  t.false(lines.includes('[quiet-1] to-file'));
  t.true(lines.includes('[quiet-1] to-screen'));
  t.deepEqual(readFileSync(join(logDir, 'quiet-1.log'), 'utf8').split('\n').filter(Boolean).sort(), ['to-file', 'to-screen']);
});
