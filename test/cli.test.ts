import test from 'ava';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;

/** Runs the CLI from the TypeScript sources. */
function xauto(args: string[], opts: { sigintOn?: RegExp } = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import=tsx', 'runtime/cli/main.ts', ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => {
      stderr += d;
      if (opts.sigintOn && opts.sigintOn.test(stderr)) {
        opts.sigintOn = undefined;
        setTimeout(() => child.kill('SIGINT'), 1000);
      }
    });
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const tmp = () => mkdtempSync(join(tmpdir(), 'xauto-cli-'));

for (const file of ['launch/hello.launch.yaml', 'launch/hello.launch.xml']) {
  test(`${file} runs 100 frames and prints the latency table`, async (t) => {
    const summary = join(tmp(), 's.json');
    const r = await xauto(['launch', file, '--frames', '100', '--plan', 'default', '--summary-json', summary]);
    t.is(r.code, 0, r.stderr);
    t.regex(r.stdout, /stage\s+impl@xpu\s+runs\s+drops\s+p50 ms\s+p90 ms\s+p99 ms\s+max ms/);
    t.regex(r.stdout, /end-to-end\s+100\s+0\s/);
    const s = JSON.parse(readFileSync(summary, 'utf8'));
    t.is(s.frames.completed, 100);
    t.deepEqual(s.check, { frames: 100, wrong: 0 });
    t.deepEqual(s.stages.map((x: { name: string }) => x.name), ['source', 'scale', 'check']);
    for (const k of ['p50', 'p90', 'p99', 'max']) t.true(Number.isFinite(s.e2e_ms[k]));
  });
}

test('launch arguments on the command line select the worker implementation; --trace writes one slice per stage run', async (t) => {
  const summary = join(tmp(), 's.json');
  const trace = join(tmp(), 't.json');
  const r = await xauto(['launch', 'launch/hello.launch.yaml', 'impl:=worker', '--frames', '30', '--plan', 'default', '--summary-json', summary, '--trace', trace]);
  t.is(r.code, 0, r.stderr);
  const s = JSON.parse(readFileSync(summary, 'utf8'));
  t.is(s.stages[1].impl, 'worker');
  t.is(s.stages[1].xpu, 'pool');
  t.deepEqual(s.check, { frames: 30, wrong: 0 });
  const events = JSON.parse(readFileSync(trace, 'utf8')).traceEvents as Array<{ name: string; cat: string; ph: string; args?: { frame: number } }>;
  const runs = events.filter((e) => e.cat === 'run' && e.ph === 'X');
  t.is(runs.length, 90);
  t.deepEqual(runs.filter((e) => e.name === 'scale').map((e) => e.args!.frame), [...Array(30).keys()]);
});

test('--print shows the resolved description and starts nothing', async (t) => {
  const r = await xauto(['launch', 'launch/hello.launch.xml', '--print', 'work_us:=50']);
  t.is(r.code, 0, r.stderr);
  const d = JSON.parse(r.stdout);
  t.deepEqual(Object.keys(d), ['nodes', 'xnodes', 'xpus']);
  const scale = d.xnodes.find((x: { name: string }) => x.name === 'scale');
  t.is(scale.namespace, '/hello');
  t.deepEqual(scale.inputs, { in: '/hello/raw' });
  t.deepEqual(scale.params, { a: 2.0, b: 1.0, work_us: 50 });
  t.deepEqual(scale.impls, ['js', 'worker']);
});

test('a malformed launch file gets one positioned line, exit 2, no stack trace', async (t) => {
  const dir = tmp();
  const file = join(dir, 'bad.launch.yaml');
  writeFileSync(file, 'launch:\n- xnode:\n    name: a\n    type: demo/nope\n');
  const r = await xauto(['launch', file, '--frames', '1']);
  t.is(r.code, 2);
  t.regex(r.stderr, new RegExp(`^xauto: ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:2:3: unknown XNODE type 'demo/nope'`));
  t.notRegex(r.stderr, /\n\s+at /);
});

test('a bad launch argument word is a usage error', async (t) => {
  const r = await xauto(['launch', 'launch/hello.launch.yaml', 'impl=worker']);
  t.is(r.code, 2);
  t.regex(r.stderr, /malformed launch argument 'impl=worker', expected format '<name>:=<value>'/);
});

test('node and executable entities start real child processes with prefixed output and exit codes', async (t) => {
  const dir = tmp();
  const file = join(dir, 'procs.launch.yaml');
  writeFileSync(
    file,
    [
      'launch:',
      '- executable:',
      `    cmd: ${process.execPath} -e "console.log('hello from child'); process.exit(3)"`,
      '    name: child',
      '    output: screen',
    ].join('\n') + '\n',
  );
  const r = await xauto(['launch', file]);
  t.is(r.code, 0, r.stderr);
  t.regex(r.stdout, /\[child(-\d+)?\] hello from child/);
  t.regex(r.stdout, /exit code 3|exited with (code )?3/i);
});

test('SIGINT stops the sources, drains, and still prints the final report', async (t) => {
  const summary = join(tmp(), 's.json');
  const r = await xauto(['launch', 'launch/hello.launch.yaml', '--duration', '30', '--plan', 'default', '--summary-json', summary], { sigintOn: /Ctrl-C stops/ });
  t.is(r.code, 0, r.stderr);
  t.regex(r.stdout, /end-to-end/);
  const s = JSON.parse(readFileSync(summary, 'utf8'));
  t.true(s.wall_s < 20);
  t.true(s.frames.completed > 0);
  t.is(s.check.wrong, 0);
});

test('numeric options are validated: --frames abc / -1 / 1.5, --duration -1, --workers 0 exit 2 with what was expected', async (t) => {
  for (const [opt, value, want] of [
    ['--frames', 'abc', /--frames abc: expected an integer >= 1/],
    ['--frames', '-1', /--frames -1: expected an integer >= 1/],
    ['--frames', '1.5', /--frames 1.5: expected an integer >= 1/],
    ['--duration', '-1', /--duration -1: expected a number > 0/],
    ['--workers', '0', /--workers 0: expected an integer >= 1/],
  ] as const) {
    const r = await xauto(['launch', 'launch/hello.launch.yaml', opt, value]);
    t.is(r.code, 2, `${opt} ${value}`);
    t.regex(r.stderr, want);
  }
});

test('ros2 launch refuses `robot:=` (no value) and `:=x` (no name) with "expected format \'<name>:=<value>\'"', async (t) => {
  for (const w of ['robot:=', ':=x']) {
    const r = await xauto(['launch', 'launch/hello.launch.yaml', w, '--print']);
    t.is(r.code, 2, w);
    t.regex(r.stderr, new RegExp(`malformed launch argument '${w}', expected format '<name>:=<value>'`));
  }
});

test('an undeclared launch argument is a warning with a did-you-mean; --show-args lists the arguments as ros2 launch -s', async (t) => {
  const r = await xauto(['launch', 'launch/perception.launch.yaml', 'objets:=5', '--print']);
  t.is(r.code, 0, r.stderr);
  t.regex(r.stderr, /warning: launch argument 'objets' is not declared by launch\/perception\.launch\.yaml; did you mean 'objects'\?/);
  const s = await xauto(['launch', 'launch/hello.launch.yaml', '--show-args']);
  t.is(s.code, 0, s.stderr);
  t.regex(s.stdout, /^Arguments \(pass arguments as '<name>:=<value>'\):/);
  t.regex(s.stdout, /    'rate':\n        source rate in Hz[^\n]*\n        \(default: '100'\)/);
});

test('xauto --version prints the package version; a near-miss XNODE type gets a did-you-mean', async (t) => {
  const v = await xauto(['--version']);
  t.is(v.code, 0);
  t.is(v.stdout.trim(), JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version);
  const file = join(tmp(), 'near.launch.yaml');
  writeFileSync(file, 'launch:\n- xnode:\n    name: a\n    type: camera/preproces\n');
  const r = await xauto(['launch', file, '--frames', '1']);
  t.is(r.code, 2);
  t.regex(r.stderr, /unknown XNODE type 'camera\/preproces'; did you mean 'camera\/preprocess'\?/);
});

test('--xnodes takes one module per flag and leaves later launch arguments alone', async (t) => {
  const r = await xauto(['launch', 'launch/hello.launch.yaml', '--xnodes', 'no-such.mjs', 'impl:=worker', '--print']);
  t.is(r.code, 0, r.stderr);
  t.deepEqual(JSON.parse(r.stdout).xnodes.find((x: { name: string }) => x.name === 'scale').impls, ['worker']);
});

test('xauto xpu list says how many cores the real XPUs share', async (t) => {
  const r = await xauto(['xpu', 'list']);
  t.is(r.code, 0, r.stderr);
  t.regex(r.stdout, /the real cpu XPUs \(main, pool[^)]*: \d+ lanes\) share this machine's \d+ cores?/);
});

test('--print shows merged, typed parameters: doubles as 3.0, 64-bit ints exact, from= files merged', async (t) => {
  const dir = tmp();
  writeFileSync(join(dir, 'p.yaml'), '/**:\n  ros__parameters:\n    from_file: 2\n');
  const file = join(dir, 'print.launch.xml');
  writeFileSync(file, '<launch><node pkg="demo" exec="x" name="n"><param name="three" value="3.0"/><param name="big" value="9007199254740993"/><param from="$(dirname)/p.yaml"/></node></launch>');
  const r = await xauto(['launch', file, '--print']);
  t.is(r.code, 0, r.stderr);
  t.regex(r.stdout, /"three": 3\.0,/);
  t.regex(r.stdout, /"big": 9007199254740993,/);
  t.regex(r.stdout, /"from_file": 2\n/);
  t.regex(r.stdout, /"param_files": \[/);
});

test('xauto topic list with nothing discovered says so (on stderr; stdout stays an empty list)', async (t) => {
  const r = await xauto(['topic', 'list', '--spin-time', '0.3', '--domain', '197']);
  t.is(r.code, 0, r.stderr);
  t.is(r.stdout, '');
  t.regex(r.stderr, /no topics discovered on DDS domain 197 within 0\.3 s/);
});

test('ROS2 header stamps are wall-clock ROS time (camera and lidar of one frame alike); use_sim_time stamps scene time', async (t) => {
  const { camera, lidar } = await import('../xnodes/sensors/index.js');
  const make = async (def: typeof camera, params: Record<string, unknown>) => {
    const impl = def.impls.find((i) => i.name === 'js') as import('../runtime/xnode/types.js').InProcessImplSpec;
    const defaults = Object.fromEntries(Object.entries(def.params).map(([k, p]) => [k, p.default]));
    const made = await impl.create({ name: 'x', type: def.type, impl: 'js', xpu: 'main', priority: 0, params: { ...defaults, width: 64, height: 48, ...params } as never, log: () => {}, count: () => {}, summary: () => {} });
    return typeof made === 'function' ? made : made.process.bind(made);
  };
  type Stamped = { header: { stamp: { sec: number; nanosec: number } } };
  const before = Math.floor(Date.now() / 1000);
  const cam = (await (await make(camera, { rate: 10 }))({}, { seq: 3, t0: 0 })) as { image: Stamped };
  const lid = (await (await make(lidar, { rate: 10 }))({}, { seq: 3, t0: 0 })) as { points: Stamped };
  const stamp = cam.image.header.stamp;
  // Not a timing assertion: a stamp from the start of this process on, not seconds since 1970 + 0.
  t.true(stamp.sec >= before - 24 * 3600 && stamp.sec <= before + 24 * 3600, JSON.stringify(stamp));
  t.deepEqual(lid.points.header.stamp, stamp);
  const sim = (await (await make(camera, { rate: 10, use_sim_time: true }))({}, { seq: 3, t0: 0 })) as { image: Stamped };
  t.deepEqual(sim.image.header.stamp, { sec: 0, nanosec: 300_000_000 });
});
