// The rollout XNODE at the end of the perception pipeline (rollout:=true): predicted
// trajectories every frame, scored against the simulator's ground truth; the XML twin agrees.
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

test.serial('rollout:=true: the pipeline ends in K rollouts per track, with ADE/FDE against ground truth in the summary', async (t) => {
  const desc = loadLaunchFile(yamlFile, { args: { rollout: 'true', publish_tracks: 'false', rollout_k: '2' } });
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
  const q = r.sections.rollout as Record<string, number | string>;
  t.log(q);
  t.is(q.decoding, 'speculative');
  t.true((q.frames_rolled_out as number) > 0);
  t.true((q.scored as number) > 0, 'rollouts scored against later ground truth');
  t.true(Number.isFinite(q.ade_m) && Number.isFinite(q.fde_m) && (q.fde_m as number) >= 0);
  t.true((q.target_calls as number) <= (q.plain_calls as number), 'never more target calls than plain decoding');
});

test('without rollout:=true the perception pipeline is unchanged; the XML twin agrees with it', (t) => {
  const strip = (file: string, args: Record<string, string>) => loadLaunchFile(file, { args }).xnodes.map(({ pos: _p, portPos: _pp, ...x }) => x);
  t.false(strip(yamlFile, {}).some((x) => x.type === 'planning/rollout'));
  t.deepEqual(strip(xmlFile, { rollout: 'true' }), strip(yamlFile, { rollout: 'true' }));
});
