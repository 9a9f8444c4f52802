// The reference system's launch files against its own definition
// (autoware_reference_system/autoware_system_builder.hpp, timing/default.hpp, the rclcpp
// node kinds' QoS), transcribed here node by node.
import test from 'ava';
import { join } from 'node:path';
import { loadRegistry } from '../runtime/cli/xnodes.js';
import { buildGraph, type Graph } from '../runtime/graph/index.js';
import { loadLaunchFile } from '../runtime/launch/index.js';
import { stripPositions } from './launch-helpers.js';

const root = new URL('..', import.meta.url).pathname;
const file = (ext: string) => join(root, 'launch', `reference-system.launch.${ext}`);

type Kind = 'sensor' | 'transform' | 'fusion' | 'cyclic' | 'intersection' | 'command';
/** node -> kind, input topics (in order), output topics; sensors and the cyclic node with their period. */
const REFERENCE: Array<{ node: string; kind: Kind; inputs: string[]; outputs: string[]; periodMs?: number }> = [
  { node: 'FrontLidarDriver', kind: 'sensor', inputs: [], outputs: ['FrontLidarDriver'], periodMs: 100 },
  { node: 'RearLidarDriver', kind: 'sensor', inputs: [], outputs: ['RearLidarDriver'], periodMs: 100 },
  { node: 'PointCloudMap', kind: 'sensor', inputs: [], outputs: ['PointCloudMap'], periodMs: 120 },
  { node: 'Visualizer', kind: 'sensor', inputs: [], outputs: ['Visualizer'], periodMs: 60 },
  { node: 'Lanelet2Map', kind: 'sensor', inputs: [], outputs: ['Lanelet2Map'], periodMs: 100 },
  { node: 'EuclideanClusterSettings', kind: 'sensor', inputs: [], outputs: ['EuclideanClusterSettings'], periodMs: 25 },
  { node: 'PointsTransformerFront', kind: 'transform', inputs: ['FrontLidarDriver'], outputs: ['PointsTransformerFront'] },
  { node: 'PointsTransformerRear', kind: 'transform', inputs: ['RearLidarDriver'], outputs: ['PointsTransformerRear'] },
  { node: 'VoxelGridDownsampler', kind: 'transform', inputs: ['PointCloudFusion'], outputs: ['VoxelGridDownsampler'] },
  { node: 'PointCloudMapLoader', kind: 'transform', inputs: ['PointCloudMap'], outputs: ['PointCloudMapLoader'] },
  { node: 'RayGroundFilter', kind: 'transform', inputs: ['PointCloudFusion'], outputs: ['RayGroundFilter'] },
  { node: 'ObjectCollisionEstimator', kind: 'transform', inputs: ['EuclideanClusterDetector'], outputs: ['ObjectCollisionEstimator'] },
  { node: 'MPCController', kind: 'transform', inputs: ['BehaviorPlanner'], outputs: ['MPCController'] },
  { node: 'ParkingPlanner', kind: 'transform', inputs: ['Lanelet2MapLoader'], outputs: ['ParkingPlanner'] },
  { node: 'LanePlanner', kind: 'transform', inputs: ['Lanelet2MapLoader'], outputs: ['LanePlanner'] },
  { node: 'PointCloudFusion', kind: 'fusion', inputs: ['PointsTransformerFront', 'PointsTransformerRear'], outputs: ['PointCloudFusion'] },
  { node: 'NDTLocalizer', kind: 'fusion', inputs: ['VoxelGridDownsampler', 'PointCloudMapLoader'], outputs: ['NDTLocalizer'] },
  { node: 'VehicleInterface', kind: 'fusion', inputs: ['MPCController', 'BehaviorPlanner'], outputs: ['VehicleInterface'] },
  { node: 'Lanelet2GlobalPlanner', kind: 'fusion', inputs: ['Visualizer', 'NDTLocalizer'], outputs: ['Lanelet2GlobalPlanner'] },
  { node: 'Lanelet2MapLoader', kind: 'fusion', inputs: ['Lanelet2Map', 'Lanelet2GlobalPlanner'], outputs: ['Lanelet2MapLoader'] },
  {
    node: 'BehaviorPlanner',
    kind: 'cyclic',
    inputs: ['ObjectCollisionEstimator', 'NDTLocalizer', 'Lanelet2GlobalPlanner', 'Lanelet2MapLoader', 'ParkingPlanner', 'LanePlanner'],
    outputs: ['BehaviorPlanner'],
    periodMs: 100,
  },
  // The intersection's connections: RayGroundFilter -> EuclideanClusterDetector, EuclideanClusterSettings -> EuclideanIntersection.
  { node: 'EuclideanClusterDetector', kind: 'intersection', inputs: ['RayGroundFilter', 'EuclideanClusterSettings'], outputs: ['EuclideanClusterDetector', 'EuclideanIntersection'] },
  { node: 'VehicleDBWSystem', kind: 'command', inputs: ['VehicleInterface'], outputs: [] },
  { node: 'IntersectionOutput', kind: 'command', inputs: ['EuclideanIntersection'], outputs: [] },
];

async function graphOf(ext: string): Promise<Graph> {
  const desc = loadLaunchFile(file(ext), { args: {} });
  return buildGraph(desc, await loadRegistry({ types: desc.xnodes.map((x) => x.type) }));
}

const topic = (t: string) => t.replace(/^\//, '');

/** The graph as reference nodes: stages grouped by the node name they stamp. */
function nodesOf(g: Graph): Map<string, { kind: string; inputs: string[]; outputs: string[]; stages: number }> {
  const nodes = new Map<string, { kind: string; inputs: string[]; outputs: string[]; stages: number }>();
  for (const s of g.stages) {
    const name = (s.params.node as string) || s.name;
    const n = nodes.get(name) ?? { kind: s.def.type.split('/')[1]!, inputs: [], outputs: [], stages: 0 };
    n.stages++;
    n.inputs.push(...s.inputs.map((i) => topic(i.topic)));
    n.outputs.push(...s.outputs.map((o) => topic(o.topic)));
    nodes.set(name, n);
  }
  return nodes;
}

test('the YAML and XML launch files describe the same system', (t) => {
  const yaml = loadLaunchFile(file('yaml'), { args: {} });
  const xml = loadLaunchFile(file('xml'), { args: {} });
  t.deepEqual(stripPositions(xml.xnodes), stripPositions(yaml.xnodes));
  t.is(yaml.xnodes.length, 25, '24 nodes: the intersection as two connection stages');
});

for (const ext of ['yaml', 'xml']) {
  test(`${ext}: 24 nodes of the reference's kinds, every input and output topic as its system builder wires them`, async (t) => {
    const nodes = nodesOf(await graphOf(ext));
    t.is(nodes.size, 24);
    const count = (k: string) => [...nodes.values()].filter((n) => n.kind === k).length;
    t.deepEqual(
      { sensor: count('sensor'), transform: count('transform'), fusion: count('fusion'), cyclic: count('cyclic'), intersection: count('intersection'), command: count('command') },
      { sensor: 6, transform: 9, fusion: 5, cyclic: 1, intersection: 1, command: 2 },
    );
    for (const r of REFERENCE) {
      const n = nodes.get(r.node);
      t.truthy(n, `node ${r.node}`);
      t.deepEqual({ kind: n!.kind, inputs: n!.inputs, outputs: n!.outputs }, { kind: r.kind, inputs: r.inputs, outputs: r.outputs }, r.node);
    }
    t.is(nodes.get('EuclideanClusterDetector')!.stages, 2, 'one stage per intersection connection');
  });
}

test("timer periods and the cyclic node's cycle time are the reference defaults (timing/default.hpp)", async (t) => {
  const g = await graphOf('yaml');
  for (const r of REFERENCE.filter((x) => x.kind === 'sensor')) {
    const s = g.stages.find((x) => x.name === r.node)!;
    t.true(Math.abs(1000 / s.rateHz - r.periodMs!) < 1e-9, `${r.node}: ${1000 / s.rateHz} ms`);
  }
  const bp = g.stages.find((s) => s.name === 'BehaviorPlanner')!;
  t.true(bp.def.timer, 'the cyclic node is driven by its own timer');
  t.true(Math.abs(1000 / bp.rateHz - 100) < 1e-9, 'cycle time 100 ms');
  for (const s of g.stages) if (s.def.type !== 'reference/sensor' && s.def.type !== 'reference/command') t.is(s.params.number_crunch_limit, 4096, s.name);
});

test('QoS: keep-last 1 on processing inputs, 10 on command nodes; cyclic inputs caches cleared when taken; fusions unaligned', async (t) => {
  const g = await graphOf('yaml');
  for (const s of g.stages) {
    for (const i of s.inputs) {
      if (s.def.type === 'reference/command') t.is(i.spec.depth, 10, `${s.name}.${i.port}`);
      else if (s.def.type === 'reference/cyclic') t.true(!!i.spec.latched && !!i.spec.optional && !!i.spec.clear, `${s.name}.${i.port}`);
      else t.is(i.spec.depth, 1, `${s.name}.${i.port}`);
    }
  }
  for (const s of g.stages) if (s.def.type === 'reference/fusion') t.is(s.def.join, 'latest', `${s.name}: the latest of each input, no frame alignment`);
  const modules = new Set(g.stages.map((s) => s.module));
  t.is(modules.size, 24, 'each reference node is a module (a ROS2 node) of its own');
});
