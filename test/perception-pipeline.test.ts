// The perception launch file end to end on the real executor: quality against ground truth
// over 300 frames, the XML twin, and the same pipeline on worker threads and native threads.
import test from 'ava';
import { join } from 'node:path';
import { buildGraph } from '../runtime/graph/index.js';
import { loadLaunchFile } from '../runtime/launch/index.js';
import { Executor } from '../runtime/exec/executor.js';
import { defaultPlan } from '../runtime/exec/plan.js';
import { loadRegistry } from '../runtime/cli/xnodes.js';
import { discoverXpus } from '../runtime/xpu/discover.js';
import { packageRoot } from '../runtime/util/paths.js';

const yamlFile = join(packageRoot(), 'launch', 'perception.launch.yaml');
const xmlFile = join(packageRoot(), 'launch', 'perception.launch.xml');

interface Quality {
  recall: number;
  precision: number;
  id_switches: number;
  centroid_error_m: number;
  frames: number;
  true_positives: number;
}

async function run(file: string, frames: number, args: Record<string, string> = {}) {
  const desc = loadLaunchFile(file, { args });
  const registry = await loadRegistry({ types: desc.xnodes.map((x) => x.type) });
  const graph = buildGraph(desc, registry);
  const xpus = await discoverXpus({ workers: 1 });
  const ex = new Executor(graph, defaultPlan(graph, xpus), { xpus, frames, log: () => {} });
  await ex.start();
  await ex.run();
  await ex.close();
  return ex.report();
}

test.serial('300 frames of the synthetic scene: recall and precision >= 0.9, ids kept, centroids close', async (t) => {
  const r = await run(yamlFile, 300);
  t.deepEqual(
    r.stages.filter((s) => s.errors > 0).map((s) => s.name),
    [],
    'no stage fails',
  );
  t.true(r.stages.every((s) => s.runs === 300), 'every stage ran every frame');
  const q = r.sections.quality as unknown as Quality;
  t.log(q);
  t.is(q.frames, 300);
  t.true(q.recall >= 0.9, `recall ${q.recall}`);
  t.true(q.precision >= 0.9, `precision ${q.precision}`);
  t.true(q.id_switches <= 0.02 * q.true_positives, `id switches ${q.id_switches} for ${q.true_positives} matches`);
  t.true(q.centroid_error_m < 0.5, `centroid error ${q.centroid_error_m} m`);
});

test.serial('the XML twin describes the same pipeline as the YAML launch file', (t) => {
  const strip = (file: string, args: Record<string, string>) =>
    loadLaunchFile(file, { args }).xnodes.map(({ pos: _p, portPos: _pp, ...x }) => x);
  t.deepEqual(strip(xmlFile, {}), strip(yamlFile, {}));
  const args = { objects: '4', seed: '3', voxel_impl: 'native', detector_impl: 'js,worker' };
  t.deepEqual(strip(xmlFile, args), strip(yamlFile, args));
  for (const opt of [{ map: 'true', map_cells: '256' }, { rollout: 'true' }] as Array<Record<string, string>>) t.deepEqual(strip(xmlFile, opt), strip(yamlFile, opt), JSON.stringify(opt));
  const modules = new Set(loadLaunchFile(yamlFile, {}).xnodes.map((x) => x.module));
  t.deepEqual([...modules].sort(), ['/camera_driver', '/camera_perception', '/fusion_tracking', '/lidar_driver', '/lidar_perception']);
});

test.serial('on worker threads and native threads the pipeline scores as on the main thread', async (t) => {
  const frames = 40;
  const onMain = await run(yamlFile, frames, { objects: '8', seed: '5' });
  const off = await run(xmlFile, frames, {
    objects: '8',
    seed: '5',
    camera_impl: 'worker',
    lidar_impl: 'worker',
    preprocess_impl: 'onnx',
    detector_impl: 'worker',
    decode_impl: 'worker',
    nms_impl: 'worker',
    voxel_impl: 'native',
    ground_impl: 'native',
    cluster_impl: 'native',
    fusion_impl: 'worker',
    track_impl: 'worker',
    evaluate_impl: 'worker',
  });
  t.deepEqual(
    off.stages.map((s) => `${s.name}:${s.xpu}`),
    ['camera:pool', 'preprocess:ort-cpu', 'detector:pool', 'decode:pool', 'nms:pool', 'lidar:pool', 'voxel:native', 'ground:native', 'cluster:native', 'fusion:pool', 'tracker:pool', 'evaluate:pool'],
  );
  t.true(off.stages.every((s) => s.errors === 0 && s.runs === frames));
  const a = onMain.sections.quality as unknown as Quality;
  const b = off.sections.quality as unknown as Quality;
  t.is(b.frames, frames);
  t.true(Math.abs(a.recall - b.recall) <= 0.01 && Math.abs(a.precision - b.precision) <= 0.01, `main ${JSON.stringify(a)} vs off ${JSON.stringify(b)}`);
});

test.serial('lidar clusters sit on the scene objects: every unoccluded object within 40 m has one, every cluster is on one', async (t) => {
  const { sampleInputs } = await import('../xnodes/perception-common/fixtures.js');
  const frames = await sampleInputs(20, { objects: 12, seed: 21 });
  let objects = 0;
  let found = 0;
  let clusters = 0;
  let onObject = 0;
  let err = 0;
  let close = 0;
  for (const f of frames) {
    const c = f['fusion/fuse']!.clusters as { count: number; boxes: Float32Array };
    const gt = (f['tracking/evaluate']!.ground_truth as { objects: Array<{ center: number[]; size: number[]; visible: number }> }).objects;
    const inside = (k: number, g: { center: number[]; size: number[] }, m: number) =>
      Math.abs(c.boxes[k * 10]! - g.center[0]!) <= g.size[0]! / 2 + m && Math.abs(c.boxes[k * 10 + 1]! - g.center[1]!) <= g.size[1]! / 2 + m;
    for (const g of gt) {
      // Objects the camera sees mostly unoccluded: the lidar, next to it, sees them too.
      if (Math.hypot(g.center[0]!, g.center[1]!) > 40 || g.visible < 0.5) continue;
      objects++;
      const k = [...Array(c.count).keys()].find((k) => inside(k, g, 0.3));
      if (k === undefined) continue;
      found++;
      // The centroid of the visible surface lies within the object's footprint (plus noise).
      const off = Math.hypot(c.boxes[k * 10]! - g.center[0]!, c.boxes[k * 10 + 1]! - g.center[1]!);
      err += off;
      if (off <= Math.max(g.size[0]!, g.size[1]!) / 2 + 0.2) close++;
    }
    for (let k = 0; k < c.count; k++) {
      clusters++;
      if (gt.some((g) => inside(k, g, 0.3))) onObject++;
    }
  }
  t.log({ objects, found, clusters, onObject, mean_centroid_offset_m: err / found });
  t.true(found >= 0.95 * objects, `${found} of ${objects} objects have a cluster`);
  t.true(onObject >= 0.95 * clusters, `${onObject} of ${clusters} clusters are on an object`);
  t.is(close, found, 'every cluster centroid lies within its object footprint');
});
