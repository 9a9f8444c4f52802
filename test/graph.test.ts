import test from 'ava';
import { buildGraph, describeXNodes, GraphError } from '../runtime/graph/index.js';
import { XNodeRegistry, defineXNode, coerceParam } from '../runtime/xnode/index.js';

const tensorSrc = defineXNode({
  type: 'g/src',
  outputs: { out: { type: 'xauto/Tensor' } },
  params: { rate: { type: 'float', default: 10 } },
  impls: [{ name: 'js', xpu: 'cpu', backend: 'main', create: () => () => null }],
});
const imageSrc = defineXNode({
  type: 'g/camera',
  outputs: { image: { type: 'sensor_msgs/msg/Image' } },
  params: { rate: { type: 'float', default: 10 } },
  impls: [{ name: 'js', xpu: 'cpu', backend: 'main', create: () => () => null }],
});
const stage = defineXNode({
  type: 'g/stage',
  inputs: { in: { type: 'xauto/Tensor' }, prior: { type: 'xauto/Tensor', latched: true, optional: true } },
  outputs: { out: { type: 'xauto/Tensor' } },
  params: { gain: { type: 'float', default: 1 }, mode: { type: 'string', default: 'a', choices: ['a', 'b'] }, n: { type: 'int', default: 1, min: 1 } },
  impls: [
    { name: 'js', xpu: 'cpu', backend: 'main', create: () => (i) => ({ out: i.in }) },
    { name: 'native', xpu: 'cpu', backend: 'native', create: () => async (i) => ({ out: i.in }) },
  ],
});
const registry = new XNodeRegistry().register(tensorSrc, imageSrc, stage);

const err = (t: { throws: Function }, xs: Parameters<typeof describeXNodes>[0]) =>
  (t.throws as (f: () => unknown, e: object) => GraphError)(() => buildGraph(describeXNodes(xs, 'p.launch.yaml'), registry), { instanceOf: GraphError });

test('a valid pipeline is ordered from sources to sinks with typed params', (t) => {
  const g = buildGraph(
    describeXNodes([
      { name: 's2', type: 'g/stage', inputs: { in: '/b' }, params: { gain: '2', n: 3 } },
      { name: 's1', type: 'g/stage', inputs: { in: '/a' }, outputs: { out: '/b' }, impls: ['native'] },
      { name: 'src', type: 'g/src', outputs: { out: '/a' }, params: { rate: 20 } },
    ]),
    registry,
  );
  t.deepEqual(g.order.map((i) => g.stages[i]!.name), ['src', 's1', 's2']);
  t.deepEqual(g.sources, [2]);
  t.deepEqual(g.sinks, [0]);
  t.deepEqual(g.stages[0]!.params, { gain: 2, n: 3, mode: 'a' });
  t.deepEqual(g.stages[1]!.impls.map((i) => i.name), ['native']);
  t.is(g.stages[2]!.rateHz, 20);
});

test('unknown XNODE type is positioned and suggests the near one', (t) => {
  const e = err(t, [{ name: 'x', type: 'other/stage' }]);
  t.regex(e.message, /^p\.launch\.yaml:1:1: unknown XNODE type 'other\/stage'; did you mean 'g\/stage'\?/);
});

test('unknown implementation, port and parameter are rejected with what was expected', (t) => {
  t.regex(err(t, [{ name: 'src', type: 'g/src', outputs: { out: '/a' } }, { name: 'x', type: 'g/stage', inputs: { in: '/a' }, impls: ['cuda'] }]).message, /no implementation 'cuda'; expected one of js, native/);
  t.regex(err(t, [{ name: 'x', type: 'g/stage', inputs: { inn: '/a' } }]).message, /has no input 'inn'; expected one of in, prior/);
  t.regex(err(t, [{ name: 'src', type: 'g/src', outputs: { out: '/a' } }, { name: 'x', type: 'g/stage', inputs: { in: '/a' }, params: { gian: 1 } }]).message, /no parameter 'gian'; expected one of gain, mode, n/);
});

test('parameter values are checked against their declared types and ranges', (t) => {
  const base = [{ name: 'src', type: 'g/src', outputs: { out: '/a' } }];
  t.regex(err(t, [...base, { name: 'x', type: 'g/stage', inputs: { in: '/a' }, params: { gain: 'fast' } }]).message, /parameter 'gain' of 'x': expected a float/);
  t.regex(err(t, [...base, { name: 'x', type: 'g/stage', inputs: { in: '/a' }, params: { mode: 'c' } }]).message, /expected one of "a", "b"/);
  t.regex(err(t, [...base, { name: 'x', type: 'g/stage', inputs: { in: '/a' }, params: { n: 0 } }]).message, /expected >= 1/);
  t.regex(err(t, [...base, { name: 'x', type: 'g/stage', inputs: { in: '/a' }, params: { n: 1.5 } }]).message, /expected an int/);
});

test('type mismatch between publisher and subscriber names both ends', (t) => {
  const e = err(t, [
    { name: 'cam', type: 'g/camera', outputs: { image: '/a' } },
    { name: 'x', type: 'g/stage', inputs: { in: '/a' } },
  ]);
  t.regex(e.message, /type mismatch on topic '\/a': 'x\.in' is xauto\/Tensor but 'cam\.image' is sensor_msgs\/msg\/Image/);
});

test('an unconnected or unpublished required input is rejected', (t) => {
  t.regex(err(t, [{ name: 'x', type: 'g/stage' }]).message, /required input 'in' \(xauto\/Tensor\) of 'x' is not connected/);
  t.regex(err(t, [{ name: 'x', type: 'g/stage', inputs: { in: '/nobody' } }]).message, /subscribes to '\/nobody', which nothing publishes/);
});

test('a cycle is rejected unless the feedback edge enters a latched input', (t) => {
  const e = err(t, [
    { name: 'src', type: 'g/src', outputs: { out: '/a' } },
    { name: 'x', type: 'g/stage', inputs: { in: '/a2' }, outputs: { out: '/b' } },
    { name: 'y', type: 'g/stage', inputs: { in: '/b' }, outputs: { out: '/a2' } },
  ]);
  t.regex(e.message, /cycle (x -> y -> x|y -> x -> y)/);
  const g = buildGraph(
    describeXNodes([
      { name: 'src', type: 'g/src', outputs: { out: '/a' } },
      { name: 'x', type: 'g/stage', inputs: { in: '/a', prior: '/c' }, outputs: { out: '/b' } },
      { name: 'y', type: 'g/stage', inputs: { in: '/b' }, outputs: { out: '/c' } },
    ]),
    registry,
  );
  t.deepEqual(g.order.map((i) => g.stages[i]!.name), ['src', 'x', 'y']);
});

test('launch strings are coerced to declared parameter types like a ROS2 declared parameter', (t) => {
  t.deepEqual(coerceParam({ type: 'int', default: 0 }, '42'), [42]);
  t.deepEqual(coerceParam({ type: 'float', default: 0 }, 3), [3]);
  t.deepEqual(coerceParam({ type: 'bool', default: false }, 'True'), [true]);
  t.deepEqual(coerceParam({ type: 'string', default: '' }, 5), ['5']);
  t.deepEqual(coerceParam({ type: 'float[]', default: [] }, ['1', '2.5']), [[1, 2.5]]);
  t.is(coerceParam({ type: 'int', default: 0 }, '4.5')[0], undefined);
});

test('defineXNode refuses malformed specs', (t) => {
  t.throws(() => defineXNode({ type: 'Bad', impls: [] }), { message: /type must look like 'package\/name'/ });
  t.throws(() => defineXNode({ type: 'a/b', outputs: { o: { type: 'Image' } }, params: { rate: { type: 'float', default: 1 } }, impls: [] }), { message: /expected 'pkg\/msg\/Type'/ });
  t.throws(() => defineXNode({ type: 'a/b', outputs: { o: { type: 'xauto/T' } }, impls: [{ name: 'js', xpu: 'cpu', backend: 'main', create: () => () => null }] }), { message: /needs a rate parameter/ });
});
