// Valid ros2 launch files that ros2 launch (Humble) accepts mean the same in xauto, in both frontends.
import test from 'ava';
import { loadLaunchFile } from '../runtime/launch/index.js';
import { evalExpression, pyStr } from '../runtime/launch/eval.js';
import { writeLaunch } from './launch-helpers.js';

test('ros2 YAML frontend: a group\'s children may be a plain list (`- group: [...]`), as well as under `children:`', (t) => {
  const f = writeLaunch('g.launch.yaml', `launch:
  - group:
      - push_ros_namespace: {namespace: ns}
      - xnode: {name: a, type: t/a}
  - group: {children: [{xnode: {name: b, type: t/b}}]}
`);
  const d = loadLaunchFile(f);
  t.deepEqual(d.xnodes.map((x) => [x.name, x.namespace]), [['a', '/ns'], ['b', '/']]);
});

const setParameter = {
  yaml: `launch:
  - set_parameter: {name: use_sim_time, value: 'true'}
  - group:
      - set_parameter: {name: rate, value: '5'}
      - xnode: {name: inner, type: t/a, param: [{name: rate, value: 7}]}
      - xnode: {name: inner2, type: t/a}
  - xnode: {name: outer, type: t/a}
`,
  xml: `<launch>
  <set_parameter name="use_sim_time" value="true"/>
  <group>
    <set_parameter name="rate" value="5"/>
    <xnode name="inner" type="t/a"><param name="rate" value="7"/></xnode>
    <xnode name="inner2" type="t/a"/>
  </group>
  <xnode name="outer" type="t/a"/>
</launch>`,
};
for (const ext of ['yaml', 'xml'] as const) {
  test(`${ext}: ros2 set_parameter: global for what follows, scoped by a group, overridden by a node's own param`, (t) => {
    const d = loadLaunchFile(writeLaunch(`sp.launch.${ext}`, setParameter[ext]));
    const by = (n: string) => d.xnodes.find((x) => x.name === n)!.params;
    t.deepEqual(by('inner'), { use_sim_time: true, rate: 7 });
    t.deepEqual(by('inner2'), { use_sim_time: true, rate: 5 });
    t.deepEqual(by('outer'), { use_sim_time: true });
  });
}

const appendEnv = {
  yaml: `launch:
  - set_env: {name: XA_PATH, value: /a}
  - append_env: {name: XA_PATH, value: /b}
  - append_env: {name: XA_PATH, value: /c, prepend: 'true'}
  - append_env: {name: XA_LIST, value: x}
  - append_env: {name: XA_LIST, value: y, separator: ','}
  - executable: {cmd: 'true'}
`,
  xml: `<launch>
  <set_env name="XA_PATH" value="/a"/>
  <append_env name="XA_PATH" value="/b"/>
  <append_env name="XA_PATH" value="/c" prepend="true"/>
  <append_env name="XA_LIST" value="x"/>
  <append_env name="XA_LIST" value="y" separator=","/>
  <executable cmd="true"/>
</launch>`,
};
for (const ext of ['yaml', 'xml'] as const) {
  test(`${ext}: ros2 append_env: appends with os.pathsep, prepend puts it first, separator chooses the joiner, unset means set`, (t) => {
    const d = loadLaunchFile(writeLaunch(`ae.launch.${ext}`, appendEnv[ext]), { env: {} });
    t.like(d.processes[0]!.env, { XA_PATH: '/c:/a:/b', XA_LIST: 'x,y' });
  });
}

const keep = {
  yaml: `launch:
  - arg: {name: a, default: one}
  - arg: {name: b, default: two}
  - push_ros_namespace: {namespace: outer}
  - group:
      forwarding: 'false'
      keep: [{name: a, value: $(var a)}, {name: c, value: $(var b)-kept}]
      children:
        - xnode: {name: x, type: t/a, param: [{name: a, value: $(var a)}, {name: b, value: $(var b missing)}, {name: c, value: $(var c)}]}
`,
  xml: `<launch>
  <arg name="a" default="one"/>
  <arg name="b" default="two"/>
  <push_ros_namespace namespace="outer"/>
  <group forwarding="false">
    <keep name="a" value="$(var a)"/>
    <keep name="c" value="$(var b)-kept"/>
    <xnode name="x" type="t/a">
      <param name="a" value="$(var a)"/>
      <param name="b" value="$(var b missing)"/>
      <param name="c" value="$(var c)"/>
    </xnode>
  </group>
</launch>`,
};
for (const ext of ['yaml', 'xml'] as const) {
  test(`${ext}: ros2 <keep> in a forwarding="false" group: only kept configurations pass (values read outside); the namespace is reset too`, (t) => {
    const d = loadLaunchFile(writeLaunch(`keep.launch.${ext}`, keep[ext]));
    t.deepEqual(d.xnodes[0]!.params, { a: 'one', b: 'missing', c: 'two-kept' });
    t.is(d.xnodes[0]!.namespace, '/');
  });
}

const typed = {
  yaml: `launch:
  - xnode:
      name: x
      type: t/a
      param:
        - {name: s, value: '5', type: str}
        - {name: i, value: ' 42 ', type: int}
        - {name: f, value: '1e3', type: float}
        - {name: b, value: 'yes', type: bool}
        - {name: ls, value: '[a, b]', type: list_of_str}
        - {name: li, value: '[1, 2]', type: list_of_int}
        - {name: lf, value: '[1.5, 2.0]', type: list_of_float}
        - {name: y, value: '[true]', type: yaml}
`,
  xml: `<launch>
  <xnode name="x" type="t/a">
    <param name="s" value="5" type="str"/>
    <param name="i" value=" 42 " type="int"/>
    <param name="f" value="1e3" type="float"/>
    <param name="b" value="yes" type="bool"/>
    <param name="ls" value="[a, b]" type="list_of_str"/>
    <param name="li" value="[1, 2]" type="list_of_int"/>
    <param name="lf" value="[1.5, 2.0]" type="list_of_float"/>
    <param name="y" value="[true]" type="yaml"/>
  </xnode>
</launch>`,
};
for (const ext of ['yaml', 'xml'] as const) {
  test(`${ext}: ros2 param type= (str, int, float, bool, list_of_*, yaml) coerces as launch's coerce_to_type`, (t) => {
    const x = loadLaunchFile(writeLaunch(`typed.launch.${ext}`, typed[ext])).xnodes[0]!;
    t.deepEqual(x.params, { s: '5', i: 42, f: 1000, b: true, ls: ['a', 'b'], li: [1, 2], lf: [1.5, 2], y: [true] });
    t.like(x.paramTypes, { s: 'string', i: 'int', f: 'double', b: 'bool', ls: 'string_array', li: 'int_array', lf: 'double_array', y: 'bool_array' });
  });
}

const substs = {
  yaml: `launch:
  - arg: {name: thr, default: '0.7'}
  - xnode: {name: detector, type: t/a, param: [{from: $(dirname)/substs.params.yaml, allow_substs: 'true'}]}
`,
  xml: `<launch>
  <arg name="thr" default="0.7"/>
  <xnode name="detector" type="t/a"><param from="$(dirname)/substs.params.yaml" allow_substs="true"/></xnode>
</launch>`,
};
for (const ext of ['yaml', 'xml'] as const) {
  test(`${ext}: ros2 allow_substs on a parameter file performs substitutions in the file before rcl reads it`, (t) => {
    writeLaunch('substs.params.yaml', '/**:\n  ros__parameters:\n    threshold: $(var thr)\n    name: "$(var thr)"\n');
    const x = loadLaunchFile(writeLaunch(`substs.launch.${ext}`, substs[ext])).xnodes[0]!;
    t.deepEqual(x.params, { threshold: 0.7, name: '0.7' });
  });
}

test('ros2 $(eval): side-effect-free Python such as string methods, list literals, subscripts and `in` on lists', (t) => {
  const cases: Array<[string, string]> = [
    ["'fast'.upper()", 'FAST'],
    ["' a b '.strip().split(' ')", "['a', 'b']"],
    ["'-'.join(['a', 'b'])", 'a-b'],
    ["[1, 2, 3]", '[1, 2, 3]'],
    ["[1, 2][1] + 1", '3'],
    ["'abcdef'[1:3]", 'bc'],
    ["'cpu' in ['cpu', 'gpu']", 'True'],
    ["len([1, 2]) * 2", '4'],
    ["'model.onnx'.endswith('.onnx')", 'True'],
    ["'a,b'.replace(',', ';')", 'a;b'],
    ["'x' + str(1.0)", 'x1.0'],
  ];
  for (const [expr, want] of cases) t.is(pyStr(evalExpression(expr)), want, expr);
});

for (const ext of ['yaml', 'xml'] as const) {
  test(`${ext}: ros2 $(eval) with a string method and a list literal inside a launch file`, (t) => {
    const src =
      ext === 'yaml'
        ? `launch:\n  - arg: {name: mode, default: fast}\n  - xnode: {name: x, type: t/a, param: [{name: m, value: "$(eval '\\"$(var mode)\\".upper()')"}, {name: l, value: "$(eval '[1, 2]')"}]}\n`
        : `<launch>\n  <arg name="mode" default="fast"/>\n  <xnode name="x" type="t/a"><param name="m" value="$(eval '&quot;$(var mode)&quot;.upper()')"/><param name="l" value="$(eval '[1, 2]')"/></xnode>\n</launch>`;
    t.deepEqual(loadLaunchFile(writeLaunch(`ev.launch.${ext}`, src)).xnodes[0]!.params, { m: 'FAST', l: [1, 2] });
  });
}
