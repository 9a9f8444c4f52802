// The Autoware reference system's node kinds (ros-realtime/reference-system) as XNODEs:
// sensors, transforms, fusions, a cyclic node, an intersection and command nodes, passing
// reference_interfaces/msg/Message4kb. The workload of every processing node is the
// reference's number cruncher, on the main thread, in a worker, or in C++ on the libuv pool.
// Keep-last depths are the reference's QoS: 1 on every processing input, 10 on command nodes.
import { defineXNode, type ImplSpec, type ParamSpec } from '../../runtime/xnode/index.js';
import { numberCruncher } from './crunch.js';
import { MESSAGE_TYPE } from './message.js';
import { nativeNumberCruncher } from './native.js';
import { CYCLIC_INPUTS, KINDS, type Kind } from './nodes.js';

const WORKER = new URL('./stage.worker.js', import.meta.url).href;
const msg = (extra: { depth?: number; latched?: boolean; optional?: boolean; clear?: boolean; description?: string } = {}) => ({ type: MESSAGE_TYPE, ...extra });

const node: ParamSpec = { type: 'string', default: '', description: 'node name written into the message history (default: the xnode name)' };
const limit: ParamSpec = { type: 'int', default: 4096, min: 0, max: 1e9, description: 'number_crunch_limit: primes are counted up to it (timing/default.hpp: 4096)' };
const rate: ParamSpec = { type: 'float', default: 10, min: 0, description: 'timer rate in Hz (1000 / cycle time in ms)' };

/** js + worker + native implementations of a crunching kind. */
function crunching(kind: Kind): ImplSpec[] {
  const make = KINDS[kind];
  return [
    { name: 'js', xpu: 'cpu', backend: 'main', create: (ctx) => make(ctx, numberCruncher) },
    { name: 'worker', xpu: 'cpu', backend: 'worker', module: WORKER },
    // version: re-profiled when the C++ cruncher changes (32-bit division where the limit fits).
    { name: 'native', xpu: 'cpu', backend: 'native', version: '2', create: (ctx) => make(ctx, nativeNumberCruncher(ctx.nice)) },
  ];
}

/** js + worker implementations of a kind that does no crunching. */
function light(kind: Kind): ImplSpec[] {
  const make = KINDS[kind];
  return [
    { name: 'js', xpu: 'cpu', backend: 'main', create: (ctx) => make(ctx, numberCruncher) },
    { name: 'worker', xpu: 'cpu', backend: 'worker', module: WORKER },
  ];
}

export const sensor = defineXNode({
  type: 'reference/sensor',
  description: 'A sensor node: its timer publishes a message stamped with this node alone.',
  outputs: { out: msg() },
  params: { rate, node },
  stateful: true,
  // A sensor's callback only stamps a message: it runs on the main thread, where the source clock is.
  impls: [{ name: 'js', xpu: 'cpu', backend: 'main', create: (ctx) => KINDS.sensor(ctx) }],
});

/** One input, one output: a transform node, or one connection of an intersection node. */
const oneToOne = (kind: 'transform' | 'intersection', description: string) =>
  defineXNode({
    type: `reference/${kind}`,
    description,
    inputs: { in: msg({ depth: 1 }) },
    outputs: { out: msg() },
    params: { number_crunch_limit: limit, node },
    stateful: true,
    impls: crunching(kind),
  });

export const transform = oneToOne('transform', 'A transform node: crunches, then publishes with the input history and its own entry.');
export const intersection = oneToOne(
  'intersection',
  'One input->output connection of an intersection node (each connection is independent: its own stage, in the node module).',
);

export const fusion = defineXNode({
  type: 'reference/fusion',
  description: 'A fusion node: processes once both inputs hold a sample, consumes both (the newest of each, unaligned), merges both histories.',
  // Depth 1 and the latest of each: the reference's two caches, overwritten by a newer sample.
  join: 'latest',
  inputs: { in_0: msg({ depth: 1 }), in_1: msg({ depth: 1 }) },
  outputs: { out: msg() },
  params: { number_crunch_limit: limit, node },
  stateful: true,
  impls: crunching('fusion'),
});

export const cyclic = defineXNode({
  type: 'reference/cyclic',
  description: 'A cyclic node: caches the latest sample of each input; each tick of its timer crunches and publishes the histories cached since the last tick, clearing the caches.',
  // Its own timer runs it (rate: 1000 / cycle time); each input a cache it takes and clears.
  timer: true,
  inputs: Object.fromEntries(CYCLIC_INPUTS.map((p) => [p, msg({ latched: true, optional: true, clear: true })])),
  outputs: { out: msg() },
  params: { number_crunch_limit: limit, node, rate: { ...rate, default: 10, description: 'timer rate in Hz (1000 / cycle_time in ms)' } },
  stateful: true,
  impls: crunching('cyclic'),
});

const strings = (d: string[], description: string): ParamSpec => ({ type: 'string[]', default: d, description });

export const command = defineXNode({
  type: 'reference/command',
  description: "A command node: a sink recording the reference system's latency statistics, printed at the end of the run.",
  inputs: { in: msg({ depth: 10 }) },
  params: {
    node,
    hot_path_roots: strings(['FrontLidarDriver', 'RearLidarDriver'], 'hot-path roots: latency counts from the later of their stamps'),
    hot_path_sink: { type: 'string', default: 'ObjectCollisionEstimator', description: 'hot-path sink' },
    hot_path_nodes: strings(
      ['FrontLidarDriver', 'RearLidarDriver', 'PointsTransformerFront', 'PointsTransformerRear', 'PointCloudFusion', 'RayGroundFilter', 'EuclideanClusterDetector', 'ObjectCollisionEstimator'],
      'nodes whose drops are hot-path drops',
    ),
    behavior_planner: { type: 'string', default: 'BehaviorPlanner', description: 'node whose period is measured' },
    skip_first: { type: 'int', default: 9, min: 0, description: "command callbacks (of this thread's command nodes together) left out first, as the reference does" },
  },
  stateful: true,
  impls: light('command'),
});

export const xnodes = [sensor, transform, intersection, fusion, cyclic, command];
