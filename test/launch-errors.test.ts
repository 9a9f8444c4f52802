import test from 'ava';
import { loadLaunchFile, LaunchError } from '../runtime/launch/index.js';
import { fixture } from './launch-helpers.js';

// [fixture under bad/, file the error is in, line, column, phrase of what was expected]
const cases: Array<[string, string, number, number, RegExp]> = [
  ['unknown-tag.launch.xml', 'unknown-tag.launch.xml', 2, 3, /unknown entity 'nod'; expected one of arg, let, group/],
  ['unknown-key.launch.yaml', 'unknown-key.launch.yaml', 5, 7, /unknown attribute 'pkgg' for node; expected one of pkg, exec/],
  ['wrong-type.launch.yaml', 'wrong-type.launch.yaml', 5, 7, /expected 'inputs' to map port names to topics, got a list/],
  ['missing-required.launch.xml', 'missing-required.launch.xml', 2, 3, /missing required attribute 'type' for xnode/],
  ['duplicate-xnode.launch.yaml', 'duplicate-xnode.launch.yaml', 5, 25, /duplicate xnode name 'det' \(first defined at .*duplicate-xnode\.launch\.yaml:2:19\)/],
  ['bad-lanes.launch.xml', 'bad-lanes.launch.xml', 2, 36, /invalid lanes 0; expected an integer from 1 to 1024/],
  ['syntax.launch.yaml', 'syntax.launch.yaml', 3, 3, /malformed YAML: .*must be sufficiently indented and end with a \}/],
  ['syntax.launch.xml', 'syntax.launch.xml', 4, 9, /malformed XML: unexpected close tag/],
  ['include-missing.launch.yaml', 'include-missing.launch.yaml', 3, 13, /included launch file '.*does-not-exist\.launch\.yaml' not found/],
  ['cycle-a.launch.xml', 'cycle-b.launch.yaml', 2, 21, /include cycle: .*cycle-a\.launch\.xml -> .*cycle-b\.launch\.yaml -> .*cycle-a\.launch\.xml/],
  ['unknown-subst.launch.yaml', 'unknown-subst.launch.yaml', 4, 14, /unknown substitution '\$\(fnd-pkg-share \.\.\.\)'; expected one of var, env/],
  ['unterminated.launch.xml', 'unterminated.launch.xml', 2, 31, /unterminated substitution '\$\(var x': expected '\)'/],
  ['arity.launch.yaml', 'arity.launch.yaml', 2, 30, /substitution 'env' takes 1 to 2 arguments, got 0/],
  ['eval-syntax.launch.xml', 'eval-syntax.launch.xml', 2, 24, /eval: unexpected end of expression/],
  ['command.launch.yaml', 'command.launch.yaml', 4, 14, /pass --allow-command/],
  ['if-value.launch.xml', 'if-value.launch.xml', 2, 34, /invalid condition value 'yes'; expected true, false, 1 or 0/],
  ['choices.launch.yaml', 'choices.launch.yaml', 4, 16, /'turbo' of launch argument 'mode' is not one of the choices: fast, accurate/],
  ['required-arg.launch.xml', 'required-arg.launch.xml', 2, 3, /required launch argument 'robot' \(robot name\) was not provided; pass robot:=VALUE/],
  ['private-topic.launch.yaml', 'private-topic.launch.yaml', 5, 22, /private name \('~'\), which is not allowed/],
  ['qos.launch.xml', 'qos.launch.xml', 3, 52, /unknown qos profile 'fast'; expected one of default, sensor_data/],
  ['python.launch.py', 'python.launch.py', 1, 1, /Python launch files are not supported/],
  ['param-mixed.launch.yaml', 'param-mixed.launch.yaml', 6, 32, /parameter 'sizes': .*items all have one type.*ros2 refuses mixed lists/],
  ['env-missing.launch.xml', 'env-missing.launch.xml', 2, 24, /environment variable 'XAUTO_SURELY_UNSET_VAR' is not set/],
  ['pkg-missing.launch.yaml', 'pkg-missing.launch.yaml', 2, 27, /package 'no_such_pkg_xyz' not found/],
  ['ros2-dir.launch.xml', 'ros2-dir.launch.xml', 3, 38, /expected 'ros2: in'/],
  ['priority.launch.yaml', 'priority.launch.yaml', 5, 17, /invalid priority 'high'; expected an integer/],
  ['param-both.launch.xml', 'param-both.launch.xml', 3, 21, /has both a value and nested params/],
  ['output.launch.xml', 'output.launch.xml', 2, 42, /invalid output 'loud'; expected one of screen, log, both/],
  ['params-file.launch.yaml', 'bad.params.yaml', 4, 5, /parameter 'bad': .*items all have one type/],
];

for (const [name, file, line, column, phrase] of cases) {
  test(`rejects ${name} at ${file}:${line}:${column}`, (t) => {
    const env = { PATH: process.env.PATH }; // no ROS2 install, no stray variables
    const e = t.throws(() => loadLaunchFile(fixture(`bad/${name}`), { env }), { instanceOf: LaunchError });
    t.true(e!.pos.file.endsWith(`bad/${file}`), e!.pos.file);
    t.deepEqual([e!.pos.line, e!.pos.column], [line, column], e!.message);
    t.regex(e!.detail, phrase);
    t.is(e!.message, `${e!.pos.file}:${line}:${column}: ${e!.detail}`);
    // Never a raw parser stack in what the user reads.
    t.notRegex(e!.message, /\n\s+at /);
  });
}

test('at least 15 distinct kinds of malformed files are covered', (t) => {
  t.true(cases.length >= 15);
});

test('a missing top-level file and an unknown extension are positioned errors', (t) => {
  const e1 = t.throws(() => loadLaunchFile(fixture('bad/nope.launch.yaml')), { instanceOf: LaunchError });
  t.regex(e1!.message, /nope\.launch\.yaml:1:1: launch file '.*nope\.launch\.yaml' not found/);
  const e2 = t.throws(() => loadLaunchFile(fixture('params/detector.params.json')), { instanceOf: LaunchError });
  t.regex(e2!.detail, /unknown launch file type '\.json'.*expected \.yaml, \.yml or \.xml/);
});
