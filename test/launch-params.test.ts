import test from 'ava';
import { loadLaunchFile, LaunchError } from '../runtime/launch/index.js';
import { formatParam, sectionMatches, typeParamString } from '../runtime/launch/params.js';
import { readParamsFile } from '../runtime/launch/yaml-doc.js';
import { fixture } from './launch-helpers.js';

test('substitution results are typed as launch_ros does (PyYAML 1.1) and as rcl re-reads them at node start', (t) => {
  const cases: Array<[string, unknown, string]> = [
    ['1', 1, 'int'],
    ['-12', -12, 'int'],
    ['0x10', 16, 'int'],
    ['1.0', 1, 'double'],
    ['.5', 0.5, 'double'],
    ['1.0e+3', 1000, 'double'],
    ['1e3', 1000, 'double'], // a string for PyYAML (no dot), written unquoted, a double for rcl
    ['y', true, 'bool'], // a string for PyYAML, a bool for rcl
    ['12:30', 750, 'int'], // YAML 1.1 base 60
    ['9007199254740993', '9007199254740993', 'int'], // int64 kept exact
    ['99999999999999999999', 1e20, 'double'], // beyond int64: rcl's strtoll overflows, strtod reads a double
    ['true', true, 'bool'],
    ['False', false, 'bool'],
    ['yes', true, 'bool'], // YAML 1.1, as PyYAML
    ['off', false, 'bool'],
    ['hello', 'hello', 'string'],
    ['hello world', 'hello world', 'string'],
    ["'42'", '42', 'string'],
    ['"true"', 'true', 'string'],
    ['', '', 'string'],
    ['/some/path.yaml', '/some/path.yaml', 'string'],
    ['[1, 2, 3]', [1, 2, 3], 'int_array'],
    ['[1.0, 2.0]', [1, 2], 'double_array'],
    ['[true, false]', [true, false], 'bool_array'],
    ["[a, 'b', \"c\"]", ['a', 'b', 'c'], 'string_array'],
  ];
  for (const [text, value, type] of cases) t.deepEqual(typeParamString(text), { value, type } as never, text);
  for (const bad of ['[1, a]', '[1, 2.5]', '[]', 'a: b', '~', '#x', '{x: 1}', '[[1], [2]]', '2001-12-14']) t.throws(() => typeParamString(bad), { instanceOf: TypeError }, bad);
});

test('typed values are written back for -p so that rcl reads the same type', (t) => {
  t.is(formatParam(1, 'double'), '1.0');
  t.is(formatParam(1, 'int'), '1');
  t.is(formatParam(2.5, 'double'), '2.5');
  t.is(formatParam(true, 'bool'), 'true');
  t.is(formatParam('hello', 'string'), 'hello');
  t.is(formatParam('42', 'string'), "'42'");
  t.is(formatParam('true', 'string'), "'true'");
  t.is(formatParam("it's", 'string'), "it's");
  t.is(formatParam("'q'", 'string'), "'''q'''");
  t.deepEqual(typeParamString("'''q'''"), { value: "'q'", type: 'string' });
  t.is(formatParam('', 'string'), "''");
  t.is(formatParam([1, 2], 'double_array'), '[1.0, 2.0]');
  t.is(formatParam(['a', '1'], 'string_array'), "[a, '1']");
  for (const [v, type] of [
    [3, 'int'],
    [3, 'double'],
    ['1.5', 'string'],
    [[1, 2], 'int_array'],
    [[false], 'bool_array'],
    [['x', 'no'], 'string_array'],
  ] as const) {
    t.deepEqual(typeParamString(formatParam(v as never, type)), { value: v, type } as never);
  }
});

for (const ext of ['yaml', 'xml']) {
  test(`${ext}: params typed, nested groups flattened, value-sep split, from= files flattened for xnodes`, (t) => {
    const d = loadLaunchFile(fixture(`full.launch.${ext}`));
    const det = d.xnodes.find((x) => x.name === 'detector')!;
    t.deepEqual(det.params, {
      // from detector.params.yaml: `/**` and `perception: detector:` (not the bare `detector`,
      // which rclcpp applies only to /detector, nor `/other/node`)
      use_sim_time: false,
      frame_id: 'base_link',
      threshold: 0.25, // the file said 0.5; a later param overrides it
      classes: ['car', 'person', 'bike'],
      'nms.iou': 0.45,
      'nms.top_k': 100,
      model: 'yolo.onnx',
      max_objects: 20,
      'tracker.enabled': true,
      'tracker.gate.radius': 2,
      sizes: [1, 2, 3],
      mixed: [1, 2.5],
      words: ['a', 'b', 'c'],
      quoted: '42',
      is_fast: true,
    });
    t.like(det.paramTypes, {
      use_sim_time: 'bool',
      threshold: 'double',
      classes: 'string_array',
      'nms.top_k': 'int',
      'tracker.gate.radius': 'double',
      sizes: 'int_array',
      mixed: 'double_array',
      words: 'string_array',
      quoted: 'string',
      max_objects: 'int',
    });
    t.true(det.portPos['param.nms.iou']!.file.endsWith('detector.params.yaml'));
    t.like(det.portPos['param.nms.iou'], { line: 12, column: 9 });
  });
}

test('value-sep: each item YAML-read, lists uniform as ros2 requires', (t) => {
  const d = loadLaunchFile(fixture('params.launch.xml'));
  t.deepEqual(d.xnodes[0]!.params, { ints: [1, 2, 3], floats: [1, 2.5], words: ['a', 'b'], bools: [true, false], one: [7] });
  t.like(d.xnodes[0]!.paramTypes, { ints: 'int_array', floats: 'double_array', words: 'string_array', bools: 'bool_array', one: 'int_array' });
});

test('parameter files: sections by node path, wildcards, nested names', (t) => {
  const secs = readParamsFile(fixture('params/detector.params.yaml'), 'detector.params.yaml');
  t.deepEqual(secs.map((s) => s.path), ['/**', 'perception/detector', 'detector', '/other/node']);
  t.deepEqual(
    secs[1]!.params.map((p) => [p.name, p.typed.value, p.typed.type]),
    [
      ['threshold', 0.5, 'double'],
      ['classes', ['car', 'person', 'bike'], 'string_array'],
      ['nms.iou', 0.45, 'double'],
      ['nms.top_k', 100, 'int'],
    ],
  );
  t.true(sectionMatches('/**', '/a/b'));
  t.false(sectionMatches('detector', '/perception/detector')); // rclcpp: a bare node name is /detector
  t.true(sectionMatches('detector', '/detector'));
  t.true(sectionMatches('perception/detector', '/perception/detector')); // nested keys join with '/'
  t.true(sectionMatches('/*', '/detector'));
  t.false(sectionMatches('/*', '/perception/detector')); // '/*' is one name token
  t.true(sectionMatches('/perception/detector', '/perception/detector'));
  t.false(sectionMatches('/other/detector', '/perception/detector'));
  t.true(sectionMatches('/**/detector', '/a/b/detector'));
  t.true(sectionMatches('/perception/*', '/perception/detector'));
  t.false(sectionMatches('/other/node', '/perception/detector'));
});

test('a broken parameter file is reported where it is broken', (t) => {
  const e = t.throws(() => loadLaunchFile(fixture('bad/params-file.launch.yaml')), { instanceOf: LaunchError });
  t.true(e!.pos.file.endsWith('bad.params.yaml'));
  t.deepEqual([e!.pos.line, e!.pos.column], [4, 5]);
  t.regex(e!.detail, /parameter 'bad'/);
});
