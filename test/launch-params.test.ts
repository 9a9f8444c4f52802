import test from 'ava';
import { loadLaunchFile, LaunchError } from '../runtime/launch/index.js';
import { formatParam, readParamsFile, sectionMatches, typeParamString } from '../runtime/launch/params.js';
import { fixture } from './launch-helpers.js';

test('parameter strings are typed with YAML rules, as launch_ros does', (t) => {
  const cases: Array<[string, unknown, string]> = [
    ['1', 1, 'int'],
    ['-12', -12, 'int'],
    ['0x10', 16, 'int'],
    ['1.0', 1, 'double'],
    ['.5', 0.5, 'double'],
    ['1.0e+3', 1000, 'double'],
    ['1e3', '1e3', 'string'], // PyYAML needs a dot for floats
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
    ['[1, 2.5]', [1, 2.5], 'double_array'],
    ['[1.0, 2.0]', [1, 2], 'double_array'],
    ['[true, false]', [true, false], 'bool_array'],
    ["[a, 'b', \"c\"]", ['a', 'b', 'c'], 'string_array'],
  ];
  for (const [text, value, type] of cases) t.deepEqual(typeParamString(text), { value, type } as never, text);
  for (const bad of ['[1, a]', '[]', 'a: b', '~', '{x: 1}', '[[1], [2]]']) t.throws(() => typeParamString(bad), { instanceOf: TypeError }, bad);
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
      // from detector.params.yaml: `/**` and `detector` sections (not `/other/node`)
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
    t.like(det.portPos['param.nms.iou'], { line: 11, column: 7 });
  });
}

test('value-sep with items of mixed types keeps the words as strings', (t) => {
  const d = loadLaunchFile(fixture('params.launch.xml'));
  t.deepEqual(d.xnodes[0]!.params, { ints: [1, 2, 3], floats: [1, 2.5], mixed: ['1', 'a'], bools: [true, false], one: [7] });
  t.like(d.xnodes[0]!.paramTypes, { ints: 'int_array', floats: 'double_array', mixed: 'string_array', bools: 'bool_array', one: 'int_array' });
});

test('parameter files: sections by node path, wildcards, nested names', (t) => {
  const secs = readParamsFile(fixture('params/detector.params.yaml'), 'detector.params.yaml');
  t.deepEqual(secs.map((s) => s.path), ['/**', '/detector', '/other/node']);
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
  t.true(sectionMatches('/detector', '/perception/detector')); // a bare node name matches in any namespace
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
