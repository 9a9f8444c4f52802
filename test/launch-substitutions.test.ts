import test from 'ava';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadLaunchFile, LaunchError } from '../runtime/launch/index.js';
import { evalExpression, pyStr } from '../runtime/launch/eval.js';
import { packageRoot } from '../runtime/util/paths.js';
import { fakeAmentEnv, fixture, fixtures, stripPositions } from './launch-helpers.js';

const load = (ext: string) => loadLaunchFile(fixture(`substitutions.launch.${ext}`), { allowCommand: true, env: fakeAmentEnv() });

for (const ext of ['yaml', 'xml']) {
  test(`${ext}: every substitution`, (t) => {
    const env = load(ext).processes[0]!.env;
    const prefix = fixture('fake_ament_prefix');
    t.like(env, {
      var: 'nested-ok',
      var_default: 'fallback',
      nested: 'nested-ok',
      env: 'from-set-env',
      env_default: 'dflt',
      optenv: '[]',
      optenv_default: 'two words',
      share: packageRoot(),
      prefix,
      exec_in_pkg: join(prefix, 'lib', 'demo_pkg', 'echo_args'),
      dirname: fixtures.replace(/\/$/, ''),
      not: 'false',
      and: 'false',
      or: 'true',
      equals: 'true',
      equals_text: 'false',
      eval: '341',
      eval_text: 'nested-ok!',
      eval_float: '3.5',
      eval_bool: 'True',
      escaped: '$(var target)',
      quoted_arg: 'a b',
      command: '42',
    });
    // $(anon NAME) is stable within one launch for the same NAME.
    t.regex(env.anon1!, /^cam_\d+_\d+$/);
    t.is(env.anon1, env.anon2);
  });
}

test('substitution twins agree (apart from anonymous names)', (t) => {
  const drop = (d: ReturnType<typeof load>) => {
    const s = stripPositions(d) as { processes: Array<{ env: Record<string, string> }> };
    for (const p of s.processes) delete p.env.anon1, delete p.env.anon2;
    return s;
  };
  t.deepEqual(drop(load('xml')), drop(load('yaml')));
});

test('$(filename) is the current file; $(anon) differs between launches', (t) => {
  const a = loadLaunchFile(fixture('substitutions.launch.yaml'), { allowCommand: true, env: fakeAmentEnv() });
  const b = loadLaunchFile(fixture('substitutions.launch.yaml'), { allowCommand: true, env: fakeAmentEnv() });
  t.not(a.processes[0]!.env.anon1, b.processes[0]!.env.anon1);
  const d = loadLaunchFile(fixture('sub/camera.launch.yaml'));
  t.is(d.xnodes[0]!.params.source_dir, join(fixtures, 'sub'));
});

test('$(command) without allowCommand says to pass --allow-command', (t) => {
  const e = t.throws(() => loadLaunchFile(fixture('substitutions.launch.yaml'), { env: fakeAmentEnv() }), { instanceOf: LaunchError });
  t.regex(e!.message, /substitutions\.launch\.yaml:33:\d+: .*pass --allow-command/);
});

test('find-pkg-share of a package that is not installed names it and what was searched', (t) => {
  const e = t.throws(() => loadLaunchFile(fixture('substitutions.launch.xml'), { allowCommand: true, env: { PATH: process.env.PATH } }), { instanceOf: LaunchError });
  t.regex(e!.message, /substitutions\.launch\.xml:15:\d+: package 'demo_pkg' not found; AMENT_PREFIX_PATH/);
});

test('eval: Python arithmetic, comparisons, booleans, strings, ternary and functions', (t) => {
  const cases: Array<[string, string]> = [
    ['1 + 2 * 3', '7'],
    ['(1 + 2) * 3', '9'],
    ['2 ** 3 ** 2', '512'],
    ['-2 ** 2', '-4'],
    ['7 // 2', '3'],
    ['-7 // 2', '-4'],
    ['-7 % 3', '2'],
    ['7 / 2', '3.5'],
    ['4 / 2', '2.0'],
    ['2 ** -1', '0.5'],
    ['1.5 + 1', '2.5'],
    ['1 < 2 <= 2 != 3', 'True'],
    ['1 < 2 > 5', 'False'],
    ['not 0 and 1', '1'],
    ['0 or "x"', 'x'],
    ["'a' + \"b\"", 'ab'],
    ["'ab' * 3", 'ababab'],
    ["'b' in 'abc'", 'True'],
    ["'z' not in 'abc'", 'True'],
    ["'yes' if 2 > 1 else 'no'", 'yes'],
    ['True + True', '2'],
    ['None', 'None'],
    ['min(3, 1, 2)', '1'],
    ['max(1, 2.5)', '2.5'],
    ['abs(-4)', '4'],
    ["int('12') + int(3.9)", '15'],
    ["float('1.5') * 2", '3.0'],
    ["str(10) + 'x'", '10x'],
    ["len('hello')", '5'],
    ['round(2.5)', '2'],
    ['round(2.675, 1)', '2.7'],
    ['1e16', '1e+16'],
    ['0.1 + 0.2', '0.30000000000000004'],
    ['sqrt(16)', '4.0'],
  ];
  for (const [expr, want] of cases) t.is(pyStr(evalExpression(expr)), want, expr);
});

test('eval never executes code: imports, attributes, lambdas, subscripts and unknown names are errors', (t) => {
  const marker = join(tmpdir(), `xauto-eval-${process.pid}`);
  rmSync(marker, { force: true });
  const attacks: Array<[string, RegExp]> = [
    [`__import__('os').system('touch ${marker}')`, /unknown function '__import__'/],
    ["__import__('os')", /unknown function '__import__'/],
    ["open('/etc/passwd')", /unknown function 'open'/],
    ["().__class__.__bases__", /unexpected '\)'/],
    ["'a'.__class__", /attribute '__class__' is not allowed/],
    ["'a'.format(1)", /attribute 'format' is not allowed/],
    ["'a'.join('b')", /join\(\) expects a list of strings/],
    // Names inherited by JavaScript objects are not names of the expression language.
    ['constructor', /name 'constructor' is not defined/],
    ['toString()', /unknown function 'toString'/],
    ['valueOf()', /unknown function 'valueOf'/],
    ["hasOwnProperty('abs')", /unknown function 'hasOwnProperty'/],
    ['__proto__(1)', /unknown function '__proto__'/],
    ["(1).__proto__", /attribute '__proto__' is not allowed/],
    ['lambda: 1', /'lambda' is not allowed/],
    ['x = 1', /name 'x' is not defined|assignment/],
    ['os', /name 'os' is not defined/],
    ['exec("1")', /'exec' is not allowed/],
    ['1 +', /unexpected end of expression/],
    ["'unterminated", /unterminated string/],
    ['1 / 0', /division by zero/],
    ["'a' + 1", /unsupported operand/],
  ];
  for (const [expr, re] of attacks) {
    const e = t.throws(() => evalExpression(expr), undefined, expr);
    t.regex(e!.message, re, expr);
  }
  t.false(existsSync(marker));
});

test('eval errors in a launch file are positioned at the $(eval', (t) => {
  const e = t.throws(() => loadLaunchFile(fixture('bad/eval-syntax.launch.xml')), { instanceOf: LaunchError });
  t.deepEqual([e!.pos.line, e!.pos.column], [2, 24]);
  t.regex(e!.detail, /eval: unexpected end of expression \(at column 5 of expression '1 \+ '\)/);
});

test('$(command) runs without a shell, fails on errors and (by default) on stderr output', (t) => {
  const sub = (cmd: string) => {
    const dir = mkdtempSync(join(tmpdir(), 'xauto-cmd-'));
    const f = join(dir, 'c.launch.xml');
    writeFileSync(f, `<launch>\n  <executable cmd="true">\n    <env name="out" value="${cmd.replace(/"/g, '&quot;')}"/>\n  </executable>\n</launch>\n`);
    return loadLaunchFile(f, { allowCommand: true }).processes[0]!.env.out;
  };
  // Shell syntax is passed through as plain words: nothing is interpreted by a shell.
  t.is(sub(`$(command 'node -e "process.stdout.write(process.argv.slice(1).join(\\"|\\"))" a;b $HOME')`), 'a;b|$HOME');
  t.regex(t.throws(() => sub(`$(command 'node -e "process.exit(4)"')`))!.message, /c\.launch\.xml:3:\d+: \$\(command .*\) failed: exited with code 4/);
  t.regex(t.throws(() => sub(`$(command 'xauto-no-such-program')`))!.message, /program 'xauto-no-such-program' not found/);
  t.regex(t.throws(() => sub(`$(command 'node -e "console.error(1)"')`))!.message, /wrote to stderr: 1/);
  t.is(sub(`$(command 'node -e "console.error(1); process.stdout.write(\\"ok\\")"' ignore)`), 'ok');
  t.regex(t.throws(() => sub(`$(command 'true' loud)`))!.message, /invalid on_stderr 'loud'; expected fail, ignore, warn or capture/);
});
