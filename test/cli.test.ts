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
  t.regex(r.stderr, /launch argument 'impl=worker': expected name:=value/);
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
