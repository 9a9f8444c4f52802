// The rollout XNODE at the end of the perception pipeline (rollout:=true): predicted
// trajectories every frame, scored against the simulator's ground truth; the XML twin agrees.
import test from 'ava';
import { join } from 'node:path';
import { buildGraph } from '../runtime/graph/index.js';
import { loadLaunchFile } from '../runtime/launch/index.js';
import { Executor } from '../runtime/exec/executor.js';
import { candidates, defaultPlan } from '../runtime/exec/plan.js';
import { loadRegistry } from '../runtime/cli/xnodes.js';
import { discoverXpus } from '../runtime/xpu/discover.js';
import { packageRoot } from '../runtime/util/paths.js';
import { messageRegistry } from '../runtime/ros2/messages.js';

const yamlFile = join(packageRoot(), 'launch', 'perception.launch.yaml');
const xmlFile = join(packageRoot(), 'launch', 'perception.launch.xml');

test.serial('rollout:=true: the pipeline ends in K rollouts per track, with ADE/FDE against ground truth in the summary; the drafter is a stage of its own on another XPU, never waited for', async (t) => {
  const desc = loadLaunchFile(yamlFile, { args: { rollout: 'true', publish_tracks: 'false', rollout_k: '2', rollout_draft_impl: 'model-worker' } });
  const registry = await loadRegistry({ types: desc.xnodes.map((x) => x.type) });
  const graph = buildGraph(desc, registry);
  const xpus = await discoverXpus({ workers: 1 });
  const frames = 45;
  const ex = new Executor(graph, defaultPlan(graph, xpus), { xpus, frames, log: () => {} });
  await ex.start();
  await ex.run();
  await ex.close();
  const r = ex.report();
  const stage = r.stages.find((s) => s.name === 'rollout');
  t.truthy(stage, 'the rollout stage ran');
  t.is(stage!.errors, 0);
  t.is(stage!.runs, frames);
  const draft = r.stages.find((s) => s.name === 'rollout_draft');
  t.truthy(draft, 'the draft stage ran');
  t.is(draft!.errors, 0);
  t.is(draft!.runs, frames);
  t.is(draft!.impl, 'model-worker');
  t.not(draft!.xpu, stage!.xpu, 'drafting and verification on different XPUs');
  const q = r.sections.rollout as Record<string, number | string | Record<string, number>>;
  t.log(q);
  t.is(q.decoding, 'speculative');
  t.true((q.frames_rolled_out as number) > 0);
  t.true((q.scored as number) > 0, 'rollouts scored against later ground truth');
  t.true(Number.isFinite(q.ade_m) && Number.isFinite(q.fde_m) && (q.fde_m as number) >= 0);
  t.true((q.target_calls as number) <= (q.plain_calls as number), 'never more target calls than plain decoding');
  t.true((q.rows_drafted as number) > 0, "the draft stage's drafts reached the verifier");
  t.true((q.acceptance as Record<string, number>).model! > 0, "the draft stage's drafts were accepted");
  t.true((q.rows_planned as number) > 0, 'the previous plan drafted');
  t.true('previous' in (q.acceptance as Record<string, number>));
  // Every frame rolled out counted once: drafts of the previous frame (or this one), older ones (discarded), or none.
  t.is((q.drafts_fresh as number) + (q.drafts_stale as number) + (q.drafts_missing as number), q.frames_rolled_out as number);
});

test('rollout:=true: the draft stage is a planner choice like any stage: both implementations, on different XPUs', async (t) => {
  const desc = loadLaunchFile(yamlFile, { args: { rollout: 'true', publish_tracks: 'false' } });
  const graph = buildGraph(desc, await loadRegistry({ types: desc.xnodes.map((x) => x.type) }));
  const xpus = await discoverXpus({ workers: 1 });
  const k = graph.stages.findIndex((s) => s.name === 'rollout_draft');
  t.true(k >= 0);
  const options = candidates(graph, k, xpus);
  t.deepEqual([...new Set(options.map((o) => o.impl))].sort(), ['model', 'model-worker']);
  t.true(new Set(options.map((o) => o.xpu)).size >= 2, `placements: ${options.map((o) => `${o.impl}@${o.xpu}`).join(', ')}`);
  // It feeds the rollout stage through a latched input: the rollout stage takes its latest drafts, never waiting for them.
  const rollout = graph.stages.find((s) => s.name === 'rollout')!;
  const drafts = graph.stages[k]!.outputs.find((o) => o.port === 'drafts')!;
  const input = rollout.inputs.find((i) => i.port === 'drafts')!;
  t.is(input.topic, drafts.topic);
  t.true(!!input.spec.latched && !!input.spec.optional, 'latched and optional: not a trigger');
  // Plain decoding has no drafter.
  const plain = loadLaunchFile(yamlFile, { args: { rollout: 'true', rollout_impl: 'plain', publish_tracks: 'false' } });
  t.false(plain.xnodes.some((x) => x.type === 'planning/draft'));
  t.true(plain.xnodes.some((x) => x.type === 'planning/rollout'));
  buildGraph(plain, await loadRegistry({ types: plain.xnodes.map((x) => x.type) }));
});

test('without rollout:=true the perception pipeline is unchanged; the XML twin agrees with it', (t) => {
  const strip = (file: string, args: Record<string, string>) => loadLaunchFile(file, { args }).xnodes.map(({ pos: _p, portPos: _pp, ...x }) => x);
  t.false(strip(yamlFile, {}).some((x) => x.type === 'planning/rollout'));
  t.deepEqual(strip(xmlFile, { rollout: 'true' }), strip(yamlFile, { rollout: 'true' }));
});

test('xauto_msgs/msg/TrajectoryRolloutArray (shipped in msg/) round-trips through CDR, as it goes out on ROS2', (t) => {
  const reg = messageRegistry();
  const msg = {
    header: { stamp: { sec: 3, nanosec: 100000000 }, frame_id: 'base_link' },
    rollouts: [{ id: '7', class_id: 'pedestrian', dt: 0.1, steps: 2, k: 2, points: [1, 2, 3, 4].map((x) => ({ x, y: -x, z: 0 })) }],
  };
  const back = reg.deserialize<typeof msg>('xauto_msgs/msg/TrajectoryRolloutArray', reg.serialize('xauto_msgs/msg/TrajectoryRolloutArray', msg));
  t.is(back.rollouts[0]!.id, '7');
  t.is(back.rollouts[0]!.points.length, 4);
  t.deepEqual(back.rollouts[0]!.points[3], { x: 4, y: -4, z: 0 });
  t.is(back.header.frame_id, 'base_link');
});
