// Parameters as a ROS2 node ends up with them: typing per frontend (launch_ros), rcl's
// re-reading at node start, rcl's order of sources and rclcpp's node-key matching.
import test from 'ava';
import { loadLaunchFile, LaunchError, mergeParams } from '../runtime/launch/index.js';
import type { ParamSource } from '../runtime/launch/types.js';
import { writeLaunch } from './launch-helpers.js';

const pos = { file: 'f', line: 1, column: 1 };
const file = (sections: Record<string, Record<string, number>>): ParamSource => ({
  kind: 'file',
  path: 'p.yaml',
  pos,
  sections: Object.entries(sections).map(([path, ps]) => ({ path, params: Object.entries(ps).map(([name, value]) => ({ name, value, type: 'int' as const, pos })) })),
});
const value = (name: string, v: number): ParamSource => ({ kind: 'value', name, value: v, type: 'int', pos });

test('rclcpp node keys: /** any node, /* one token, /**/name any namespace, nested keys join, a bare name only at the root', (t) => {
  const src = [file({ '/**': { all: 1 }, '/*': { one: 1 }, '/**/cam': { deep: 1 }, 'robot/cam': { nested: 1 }, cam: { bare: 1 }, '/other': { no: 1 } })];
  t.deepEqual(mergeParams(src, '/robot/cam').params, { all: 1, deep: 1, nested: 1 });
  t.deepEqual(mergeParams(src, '/cam').params, { all: 1, one: 1, deep: 1, bare: 1 });
});

test('rcl order: keys in order of first appearance across -p and --params-file, a later value replaces an earlier one in place', (t) => {
  // /** first gets a=1, then /n a=2, then a later /** a=3 updates the first /** entry: rclcpp
  // walks /** (3) then /n (2), so the node gets 2 although 3 came last on the command line.
  t.is(mergeParams([file({ '/**': { a: 1 } }), file({ '/n': { a: 2 } }), file({ '/**': { a: 3 } })], '/n').params.a, 2);
  // A -p value is under /**: after a file's /n entry it loses to it only if /n came first.
  t.is(mergeParams([file({ '/n': { a: 2 } }), value('a', 9)], '/n').params.a, 9);
  t.is(mergeParams([value('a', 9), file({ '/n': { a: 2 } })], '/n').params.a, 2);
});

const fromFiles = {
  yaml: `launch:
  - push_ros_namespace: {namespace: robot}
  - node:
      pkg: demo
      exec: talker
      name: cam
      param:
        - {name: a, value: 1}
        - {from: $(dirname)/node.params.yaml}
        - {name: c, value: 3}
`,
  xml: `<launch>
  <push_ros_namespace namespace="robot"/>
  <node pkg="demo" exec="talker" name="cam">
    <param name="a" value="1"/>
    <param from="$(dirname)/node.params.yaml"/>
    <param name="c" value="3"/>
  </node>
</launch>`,
};
for (const ext of ['yaml', 'xml'] as const) {
  test(`${ext}: a node's from= files are merged into its params (rclcpp matching), and its command line keeps the declared order of -p and --params-file`, (t) => {
    const pf = writeLaunch('node.params.yaml', '/**:\n  ros__parameters:\n    a: 10\n    b: 20\n    c: 30\nrobot:\n  cam:\n    ros__parameters:\n      d: 4.0\ncam:\n  ros__parameters:\n    e: 5\n');
    const n = loadLaunchFile(writeLaunch(`ff.launch.${ext}`, fromFiles[ext])).processes[0]!;
    // a=1 then the file's /** (a=10 replaces a in the same /** entry), c=3 last.
    t.deepEqual(n.params, { a: 10, b: 20, c: 3, d: 4 });
    t.is(n.paramTypes!.d, 'double');
    t.deepEqual(n.paramArgs, ['-p', 'a:=1', '--params-file', pf, '-p', 'c:=3']);
  });
}

const typing = {
  yaml: `launch:
  - arg: {name: five, default: '5'}
  - xnode:
      name: x
      type: t/a
      param:
        - {name: str5, value: '5'}
        - {name: quoted, value: "'5'"}
        - {name: flow, value: '[1, 2]'}
        - {name: int5, value: 5}
        - {name: subst, value: $(var five)}
        - {name: subst_quoted, value: "'$(var five)'"}
        - {name: exp, value: '1e3'}
        - {name: y, value: 'y'}
        - {name: sexa, value: 12:30}
        - {name: big, value: 9007199254740993}
        - {name: three, value: 3.0}
`,
  xml: `<launch>
  <arg name="five" default="5"/>
  <xnode name="x" type="t/a">
    <param name="str5" value="'5'"/>
    <param name="quoted" value="&quot;'5'&quot;"/>
    <param name="flow" value="'[1, 2]'"/>
    <param name="int5" value="5"/>
    <param name="subst" value="$(var five)"/>
    <param name="subst_quoted" value="'$(var five)'"/>
    <param name="exp" value="1e3"/>
    <param name="y" value="y"/>
    <param name="sexa" value="12:30"/>
    <param name="big" value="9007199254740993"/>
    <param name="three" value="3.0"/>
  </xnode>
</launch>`,
};
for (const ext of ['yaml', 'xml'] as const) {
  test(`${ext}: ros2 typing: plain YAML strings are not re-read, substitution results are YAML-read, XML drops quotes around a substitution, rcl re-reads 1e3/y, 12:30 is base 60, int64 exact`, (t) => {
    const x = loadLaunchFile(writeLaunch(`ty.launch.${ext}`, typing[ext])).xnodes[0]!;
    t.deepEqual(x.params, {
      str5: '5',
      quoted: "'5'",
      flow: '[1, 2]',
      int5: 5,
      subst: 5,
      // YAML: "'$(var five)'" is a substitution whose result `'5'` is YAML-read: the string 5.
      // XML: the quotes go first, `$(var five)` then reads as the int 5.
      subst_quoted: ext === 'yaml' ? '5' : 5,
      exp: 1000,
      y: true,
      sexa: 750,
      big: '9007199254740993',
      three: 3,
    });
    t.like(x.paramTypes, { str5: 'string', exp: 'double', y: 'bool', sexa: 'int', big: 'int', three: 'double' });
  });
}

const rejected: Array<[string, string, string, RegExp]> = [
  ['yaml', 'value: [1, 2.5]', '[', /items all have one type.*ros2 refuses mixed lists/],
  ['xml', 'value="[1, 2.5]"', '[', /items all have one type/],
  ['yaml', "value: '$(var n)'\n          # n", '$', /reads as null/],
  ['xml', 'value="#x"', '#', /reads as null/],
  ['yaml', 'value: [$(var m), 5]', '[', /items all have one type .*string and int/],
  ['xml', 'value="[$(var m), 5]"', '[', /items all have one type/],
];
for (const [ext, attr, at, re] of rejected) {
  test(`${ext}: rejected as ros2 rejects it, positioned: ${attr.split('\n')[0]}`, (t) => {
    const body =
      ext === 'yaml'
        ? `launch:\n  - let: {name: n, value: '#x'}\n  - let: {name: m, value: x}\n  - xnode:\n      name: x\n      type: t/a\n      param:\n        - name: p\n          ${attr}\n`
        : `<launch>\n  <let name="m" value="x"/>\n  <xnode name="x" type="t/a">\n    <param name="p" ${attr}/>\n  </xnode>\n</launch>`;
    const f = writeLaunch(`rej.launch.${ext}`, body);
    const e = t.throws(() => loadLaunchFile(f), { instanceOf: LaunchError });
    t.regex(e!.detail, re);
    const line = body.split('\n')[e!.pos.line - 1]!;
    t.is(line[e!.pos.column - 1], at, `${e!.message} -> ${line}`);
  });
}

const args = {
  yaml: `launch:
  - arg: {name: two, default: alpha beta}
  - node:
      pkg: demo
      exec: talker
      name: n
      args: "--x $(var two) pre$(var two) --ros-args -p from_args:=7 -p s:='3'"
      param: [{name: own, value: 1}]
`,
  xml: `<launch>
  <arg name="two" default="alpha beta"/>
  <node pkg="demo" exec="talker" name="n" args="--x $(var two) pre$(var two) --ros-args -p from_args:=7 -p s:='3'">
    <param name="own" value="1"/>
  </node>
</launch>`,
};
for (const ext of ['yaml', 'xml'] as const) {
  test(`${ext}: ros2 _parse_cmdline: one substitution result is one argument; --ros-args -p inside args reaches the node's params`, (t) => {
    const n = loadLaunchFile(writeLaunch(`args.launch.${ext}`, args[ext])).processes[0]!;
    t.deepEqual(n.args, ['--x', 'alpha beta', 'prealpha beta', '--ros-args', '-p', 'from_args:=7', '-p', 's:=3']);
    t.deepEqual(n.params, { from_args: 7, s: 3, own: 1 });
  });
  test(`${ext}: ros2 refuses a quote opened in args and closed inside a substitution`, (t) => {
    const body = ext === 'yaml' ? `launch:\n  - executable: {cmd: "echo 'a$(env HOME)'"}\n` : `<launch>\n  <executable cmd="echo 'a$(env HOME)'"/>\n</launch>`;
    const e = t.throws(() => loadLaunchFile(writeLaunch(`q.launch.${ext}`, body)), { instanceOf: LaunchError });
    t.regex(e!.detail, /unterminated single quote/);
  });
}
