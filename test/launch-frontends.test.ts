import test from 'ava';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadLaunchFile, parseLaunchArgs, LaunchError } from '../runtime/launch/index.js';
import { fixture, fixtures, stripPositions } from './launch-helpers.js';

test('YAML and XML twins of the full example yield the same description', (t) => {
  const y = loadLaunchFile(fixture('full.launch.yaml'));
  const x = loadLaunchFile(fixture('full.launch.xml'));
  t.deepEqual(stripPositions(x), stripPositions(y));
  t.true(y.xnodes.length > 0 && y.processes.length > 0 && y.xpus.length > 0);
});

test('scoping twins yield the same description', (t) => {
  t.deepEqual(stripPositions(loadLaunchFile(fixture('scope.launch.xml'))), stripPositions(loadLaunchFile(fixture('scope.launch.yaml'))));
});

for (const ext of ['yaml', 'xml']) {
  test(`${ext}: args, choices, lets, conditions and xpus`, (t) => {
    const d = loadLaunchFile(fixture(`full.launch.${ext}`));
    t.deepEqual(d.args, { model: 'yolo.onnx', mode: 'fast', use_npu: 'true' });
    t.deepEqual(
      d.xpus.map((x) => [x.id, x.kind, x.lanes]),
      [
        ['cpu0', 'cpu', 2],
        ['npu0', 'npu', 1],
      ],
    );
    t.is(d.xpus[1]!.profile, fixture('profiles/npu-sim.yaml'));
    // `unless: True` drops gpu9; `$(or false 0)` drops the second executable.
    t.is(d.processes.length, 2);
  });

  test(`${ext}: command-line args override defaults and are checked against choices`, (t) => {
    const d = loadLaunchFile(fixture(`full.launch.${ext}`), { args: { mode: 'accurate', use_npu: 'false', extra: 'x' } });
    t.deepEqual(d.args, { model: 'yolo.onnx', mode: 'accurate', use_npu: 'false', extra: 'x' });
    t.deepEqual(d.xpus.map((x) => x.id), ['cpu0']);
    t.false(d.xnodes.some((x) => x.name === 'planner'));
    t.is(d.xnodes.find((x) => x.name === 'detector')!.params.max_objects, 50);
    const e = t.throws(() => loadLaunchFile(fixture(`full.launch.${ext}`), { args: { mode: 'turbo' } }), { instanceOf: LaunchError });
    t.regex(e!.message, /'turbo' of launch argument 'mode' is not one of the choices: fast, accurate/);
  });

  test(`${ext}: xnode entity with ports, remaps, ros2 bindings, impls, priority, module, process`, (t) => {
    const d = loadLaunchFile(fixture(`full.launch.${ext}`));
    const det = d.xnodes.find((x) => x.name === 'detector')!;
    t.is(det.type, 'detect/detector');
    t.is(det.namespace, '/perception');
    t.deepEqual(det.impls, ['onnx']);
    t.is(det.priority, 10);
    t.is(det.module, 'vision');
    t.is(det.process, 'worker1');
    t.deepEqual(det.inputs, { image: '/left/preprocessed' });
    // `remap` in the group scope applies to xnode topics: detections_raw -> /perception/objects.
    t.deepEqual(det.outputs, { detections: '/perception/objects', tracks: '/perception/tracks' });
    t.deepEqual(det.ros2, [{ port: 'tracks', dir: 'out', topic: '/perception/tracks', qos: 'sensor_data' }]);
    t.is(det.portPos.tracks!.file.endsWith(`full.launch.${ext}`), true);
    t.truthy(det.portPos['param.model']);
    t.deepEqual(det.portPos.model, det.portPos['param.model']);
    t.true(det.portPos.impl!.line >= det.portPos.type!.line && det.portPos.impl!.file === det.pos.file);
    const fusion = d.xnodes.find((x) => x.name === 'fusion')!;
    t.is(fusion.priority, -1);
    t.is(fusion.module, '/perception'); // no module: the namespace
    t.is(fusion.process, 'main');
    t.deepEqual(fusion.impls, []);
    t.deepEqual(fusion.inputs, { objects: '/perception/objects' });
    t.deepEqual(fusion.outputs, { fused: '/perception/fused' });
    const planner = d.xnodes.find((x) => x.name === 'planner')!;
    t.is(planner.module, 'planner'); // top-level: the name
    t.deepEqual(planner.ros2, [{ port: 'plan', dir: 'out', topic: '/plan', qos: 'default' }]);
  });

  test(`${ext}: include passes args, scopes the included file, $(dirname) is the included file's folder`, (t) => {
    const d = loadLaunchFile(fixture(`full.launch.${ext}`));
    const cam = d.xnodes.find((x) => x.name === 'left_preprocess')!;
    t.is(cam.namespace, '/left');
    t.deepEqual(cam.impls, ['cpu', 'gpu']);
    t.deepEqual(cam.params, { rate: 15, source_dir: join(fixtures, 'sub') });
    t.deepEqual(cam.ros2, [{ port: 'image', dir: 'in', topic: '/left/image_raw', qos: 'sensor_data' }]);
    t.is(cam.pos.file.endsWith('sub/camera.launch.yaml'), true);
    // The group around the include keeps the included file's push_ros_namespace inside.
    t.is(d.xnodes.find((x) => x.name === 'planner')!.namespace, '/');
  });

  test(`${ext}: node and executable entities`, (t) => {
    const d = loadLaunchFile(fixture(`full.launch.${ext}`));
    const [node, exe] = d.processes;
    t.like(node, { kind: 'node', pkg: 'demo_nodes_cpp', exec: 'talker', name: 'talker', namespace: '/chatter_ns', output: 'screen' });
    t.deepEqual(node!.args, ['--verbose', 'two words']);
    t.deepEqual(node!.rosArgs, ['--log-level', 'debug']);
    // The node gets the file's `/**` section merged before its own values (rclcpp's matching).
    t.deepEqual(node!.params, { use_sim_time: false, frame_id: 'base_link', rate: 10, ratio: 0.5, label: 'hello' });
    t.like(node!.paramTypes, { rate: 'int', ratio: 'double', label: 'string' });
    t.deepEqual(node!.paramFiles, [fixture('params/detector.params.yaml')]);
    t.deepEqual(node!.remaps, [['chatter', '/talk']]);
    t.deepEqual(node!.env, { XAUTO_DEMO: 'on', NODE_ONLY: '1' });
    t.deepEqual(node!.unsetEnv, ['XAUTO_UNWANTED']);
    t.like(exe, { kind: 'executable', name: 'printer', cwd: '/tmp', output: 'both', namespace: '/' });
    t.deepEqual(exe!.cmd, ['node', '-e', 'console.log(1)']);
    // An entity's own env puts back a variable unset in scope.
    t.deepEqual(exe!.env, { XAUTO_DEMO: 'on', XAUTO_UNWANTED: 'back' });
    t.is(exe!.unsetEnv, undefined);
  });

  test(`${ext}: ros2 scoping: a group keeps its changes inside; an unscoped group and an include (not a scope in ros2) do not`, (t) => {
    const d = loadLaunchFile(fixture(`scope.launch.${ext}`));
    const by = (n: string) => d.xnodes.find((x) => x.name === n)!;
    t.is(by('inner').namespace, '/g1/g2');
    t.deepEqual(by('inner').inputs, { a: '/remapped', b: '/g1/g2/other' });
    t.deepEqual(by('inner').params, { where: 'inside', env: 1 });
    // An unscoped group leaks its let and namespace into the enclosing group.
    t.is(by('after_unscoped').namespace, '/abs');
    t.deepEqual(by('after_unscoped').params, { u: 'visible' });
    t.is(by('rear_preprocess').namespace, '/rear');
    // After the include: its arg, the included file's let and push_ros_namespace stay in effect
    // (`no` from a substitution is YAML-read: false).
    t.is(by('outer').namespace, '/rear');
    t.deepEqual(by('outer').inputs, { a: '/rear/in_topic' });
    t.deepEqual(by('outer').params, { where: 'outside', inner_arg: 'none', leaked: false, scoped_env: 'unset', unscoped: 'none', camera: 'rear' });
  });
}

test('positions point at the entity in the file that wrote it', (t) => {
  const y = loadLaunchFile(fixture('full.launch.yaml'));
  const x = loadLaunchFile(fixture('full.launch.xml'));
  const py = y.xnodes.find((n) => n.name === 'planner')!.pos;
  const px = x.xnodes.find((n) => n.name === 'planner')!.pos;
  t.like(py, { line: 59, column: 5 });
  t.like(px, { line: 54, column: 3 });
  t.true(px.file.endsWith('full.launch.xml'));
});

test('parseLaunchArgs splits name:=value words from the rest', (t) => {
  t.deepEqual(parseLaunchArgs(['file.launch.yaml', 'model:=a.onnx', 'empty:=', '--flag', 'url:=http://x:=y', ':=bad']), {
    args: { model: 'a.onnx', empty: '', url: 'http://x:=y' },
    rest: ['file.launch.yaml', '--flag', ':=bad'],
  });
});

test('a launch file of 500 xnodes in each format parses', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'xauto-launch-'));
  const n = 500;
  let yaml = 'launch:\n  - arg: {name: rate, default: "30"}\n';
  let xml = '<launch>\n  <arg name="rate" default="30"/>\n';
  for (let i = 0; i < n; i++) {
    yaml += `  - xnode:\n      name: stage${i}\n      type: demo/stage\n      impl: cpu, gpu\n      priority: ${i % 7}\n      inputs: {in: t${i}}\n      outputs: {out: {topic: t${i + 1}, ros2: out}}\n      param: [{name: rate, value: $(var rate)}, {name: gain, value: ${i}.5}, {name: group, param: [{name: k, value: [1, 2, 3]}]}]\n`;
    xml += `  <xnode name="stage${i}" type="demo/stage" impl="cpu, gpu" priority="${i % 7}"><input port="in" topic="t${i}"/><output port="out" topic="t${i + 1}" ros2="out"/><param name="rate" value="$(var rate)"/><param name="gain" value="${i}.5"/><param name="group"><param name="k" value="[1, 2, 3]"/></param></xnode>\n`;
  }
  writeFileSync(join(dir, 'big.launch.yaml'), yaml);
  writeFileSync(join(dir, 'big.launch.xml'), `${xml}</launch>\n`);
  for (const f of ['big.launch.yaml', 'big.launch.xml']) {
    const t0 = performance.now();
    const d = loadLaunchFile(join(dir, f));
    t.log(`${f}: ${n} xnodes in ${(performance.now() - t0).toFixed(1)} ms`);
    t.is(d.xnodes.length, n);
    t.deepEqual(d.xnodes[n - 1]!.params, { rate: 30, gain: n - 1 + 0.5, 'group.k': [1, 2, 3] });
  }
});

test('choices lists, set_remap, xnode-local remaps, list-form ports, forwarding=false, colcon trees', (t) => {
  const env = { PATH: process.env.PATH, COLCON_PREFIX_PATH: fixture('fake_colcon_install') };
  const d = loadLaunchFile(fixture('extras.launch.yaml'), { env });
  const by = (n: string) => d.xnodes.find((x) => x.name === n)!;
  t.deepEqual(by('isolated').params, { hidden: 'none' });
  t.deepEqual(by('local_remap').inputs, { x: '/b', y: '/cooked' });
  t.deepEqual(by('local_remap').outputs, {});
  t.deepEqual(by('local_remap').params, { share: fixture('fake_colcon_install/demo_iso/share/demo_iso'), level: 'low' });
  const e = t.throws(() => loadLaunchFile(fixture('extras.launch.yaml'), { env, args: { level: 'max' } }), { instanceOf: LaunchError });
  t.regex(e!.detail, /not one of the choices: low, high/);
});

test('relative paths: next to the launch file first, then the working directory', (t) => {
  const d = loadLaunchFile(fixture('cwd-relative.launch.xml'));
  t.is(d.xnodes[0]!.name, 'front_preprocess');
  t.is(d.xpus[0]!.profile, fixture('profiles/npu-sim.yaml'));
  t.is(d.xpus[1]!.profile, fixture('profiles/npu-sim.yaml'));
});
