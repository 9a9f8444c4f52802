// The perception launch file on the real executor with its heavy stages on the device: quality
// unchanged, every stage runs every frame, lidar points stay in device memory between voxel,
// ground and cluster (only 4-byte row counts come back), transfers counted per stage.
import test from 'ava';
import { join } from 'node:path';
import { buildGraph } from '../runtime/graph/index.js';
import { loadLaunchFile } from '../runtime/launch/index.js';
import { Executor } from '../runtime/exec/executor.js';
import { defaultPlan } from '../runtime/exec/plan.js';
import { loadRegistry } from '../runtime/cli/xnodes.js';
import { counters } from '../runtime/trace/counters.js';
import { chromeTrace } from '../runtime/trace/chrome.js';
import { EventKind } from '../runtime/trace/tracer.js';
import { discoverXpus } from '../runtime/xpu/discover.js';
import { packageRoot } from '../runtime/util/paths.js';

const FRAMES = 30;
const DEVICE = { preprocess_impl: 'device', decode_impl: 'device', voxel_impl: 'device', ground_impl: 'device', cluster_impl: 'device', publish_tracks: 'false' };

test.serial('perception with preprocess, decode, voxel, ground and cluster on the device: recall and precision >= 0.95', async (t) => {
  const desc = loadLaunchFile(join(packageRoot(), 'launch', 'perception.launch.yaml'), { args: DEVICE });
  const registry = await loadRegistry({ types: desc.xnodes.map((x) => x.type) });
  const graph = buildGraph(desc, registry);
  const xpus = await discoverXpus({ workers: 1 });
  counters.reset();
  const plan = defaultPlan(graph, xpus);
  const ex = new Executor(graph, plan, { xpus, frames: FRAMES, log: () => {} });
  await ex.start();
  await ex.run();
  // While running (closing keeps host copies of the last messages, a download of its own).
  const c = counters.snapshot();
  // Every host<->device copy is a trace slice of the stage that made it, with bytes and frame.
  const transfers = [...ex.tracer.events()].filter((e) => e.kind === EventKind.Transfer);
  const names = graph.stages.map((s) => s.name);
  for (const name of ['preprocess', 'decode', 'voxel', 'ground', 'cluster', 'detector']) {
    const mine = transfers.filter((e) => names[e.stage] === name);
    const bytes = mine.reduce((n, e) => n + (e.bytes ?? 0), 0);
    t.is(bytes, (c[`device.upload_bytes.${name}`] ?? 0) + (c[`device.download_bytes.${name}`] ?? 0), `${name}: traced bytes = counted bytes`);
    t.deepEqual([...new Set(mine.map((e) => e.seq))].sort((a, b) => a - b), Array.from({ length: FRAMES }, (_, i) => i), `${name}: transfers in every frame`);
    const xpu = xpus.findIndex((x) => x.id === plan.placements[names.indexOf(name)]!.xpu);
    t.true(mine.every((e) => e.end >= e.start && e.xpu === xpu), `${name}: on its XPU`);
  }
  const chrome = chromeTrace(ex.tracer, names, xpus.map((x) => x.id)).traceEvents.filter((e) => e.cat === 'transfer');
  t.is(chrome.length, transfers.length, 'the Chrome trace shows every transfer');
  t.true(chrome.every((e) => typeof e.args?.bytes === 'number' && typeof e.args.frame === 'number'), 'with its bytes and frame');
  await ex.close();
  const r = ex.report();
  t.deepEqual(r.stages.filter((s) => s.errors > 0).map((s) => s.name), [], 'no stage fails');
  for (const name of ['preprocess', 'decode', 'voxel', 'ground', 'cluster']) {
    const s = r.stages.find((x) => x.name === name)!;
    t.is(s.impl, 'device', `${name} ran on the device`);
    t.is(s.runs, FRAMES, `${name} ran every frame`);
  }
  const q = r.sections.quality as unknown as { recall: number; precision: number };
  t.log(q);
  t.true(q.recall >= 0.95, `recall ${q.recall}`);
  t.true(q.precision >= 0.95, `precision ${q.precision}`);
  t.is(c['device.download_bytes.voxel'], 4 * FRAMES, 'voxel output never downloaded (only its row counts)');
  t.is(c['device.download_bytes.ground'], 4 * FRAMES, 'ground output never downloaded (only its row counts)');
  t.is(c['device.upload_bytes.cluster'] ?? 0, 0, 'cluster reads its points on the device');
  t.true((c['device.upload_bytes.voxel'] ?? 0) > 0 && (c['device.download_bytes.cluster'] ?? 0) > 0, 'uploads and downloads at the edges');
  const sections = r.sections.device as Record<string, { launches: number }>;
  t.true(Object.keys(sections).length === 5 && Object.values(sections).every((s) => s.launches > 0), 'each device stage reports its launches');
});
